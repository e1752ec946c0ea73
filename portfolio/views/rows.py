"""Child rows edited in place on their parent's page: a customer's subscriptions and their
outcomes, a contract's coverages, the services an application supports.

Each add/edit view finds its parent and row, then hands over to ``child_row_form``; the
parent's section answers (an htmx partial, or a redirect back to the parent's page).
"""

from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render

from core.generic import save_with
from core.permissions import require


def allowed_pks(queryset, user, action: str) -> set[int]:
    """The ids of the rows of ``queryset`` that ``user`` may ``action``, in one query."""
    return set(queryset.restrict(user, action).values_list("pk", flat=True))


def back_to(parent, anchor: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{parent.get_absolute_url()}#{anchor}")


def row_to_edit(request, queryset, pk: int | None, *, parent, **link):
    """Row ``pk`` linked to ``parent`` by ``link``, which the user may change; with no ``pk``,
    a new row so linked, when the user may change ``parent``."""
    if pk is None:
        row = queryset.model(**link)
        require(request.user, "add", row)
        return row
    row = get_object_or_404(queryset, pk=pk, **link)
    require(request.user, "change", row)
    return row


def child_row_form(request, *, form_class, row, parent, save, section):
    """Show (GET) or save (POST) the form of ``row``, a child row of ``parent``.

    ``save(row)`` is the services call, run in one transaction; its errors go beside the
    fields they name. ``section(form=None, status=200)`` answers with the parent's section, the
    form open in it when one is given. Without htmx an open form is a page of its own, so every
    action works without JavaScript.
    """
    data = request.POST if request.method == "POST" else None
    form = form_class(data, instance=row, user=request.user)
    if data is not None and save_with(form, save, user=request.user):
        return section()
    status = 422 if data is not None else 200
    if not request.htmx:
        context = {
            "form": form,
            "model_meta": form._meta.model._meta,
            "parent": parent,
            "cancel_url": parent.get_absolute_url(),
        }
        return render(request, "portfolio/child_form.html", context, status=status)
    return section(form=form, status=status)


def remove_child_row(request, row, *, remove, section):
    """Remove ``row`` through ``remove(row)`` in one transaction if the user may delete it."""
    require(request.user, "delete", row)
    with transaction.atomic():
        remove(row)
    return section()
