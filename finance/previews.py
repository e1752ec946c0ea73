"""The "Preview the effect" step of the forms that move cost between services: a service's
dependencies, an application's supports, a contract's coverages and value, a pool's
allocations.

The form posts with ``preview=1`` (its *Preview the effect* button, by htmx or a plain POST):
the write is run through the view's own ``save`` (the services function the save calls,
after the same rights check) inside a transaction that is rolled back, and the form comes
back with the difference it would make to each service's TCO in the open period
(finance.services.whatif) and its Save button. A write the rules refuse shows as the form's
errors, as a save would.
"""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import render

from core.generic import ChildEditView
from core.generic import ObjectEditView
from core.generic import add_service_errors
from core.generic import refused_status
from core.permissions import require
from finance.services import whatif
from finance.services.whatif import Preview

PREVIEW_PARAMETER = "preview"


def wants_preview(request: HttpRequest) -> bool:
    """Whether the form was posted by its *Preview the effect* button."""
    return request.POST.get(PREVIEW_PARAMETER) == "1"


def preview_form(form, save: Callable[[object], object], *, user) -> Preview | None:
    """Validate ``form`` and preview its write as the save would make it: the same rights
    check (core.generic.save_with's) and the same ``save``. None when refused: the form then
    holds the errors."""
    if not form.is_valid():
        return None
    require(user, "add" if form.instance.pk is None else "change", form.instance)
    try:
        return whatif.preview(lambda: save(form))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return None


class PreviewChildEditView(ChildEditView):
    """A ChildEditView (a row on its parent's page) with the preview step. Name it before
    the section class among a view's bases (its section_context adds ``whatif``); the
    section's form includes ``finance/inc/whatif.html``."""

    whatif: Preview | None = None

    def section_context(self, parent, *, form=None, row=None) -> dict:
        context = super().section_context(parent, form=form, row=row)
        context["whatif"] = self.whatif
        return context

    def form_response(self, parent, row, form, status: int = 200):
        if self.request.htmx:
            return super().form_response(parent, row, form, status=status)
        # Without JavaScript: the form's own page, with the effect.
        context = {
            "form": form,
            "model_meta": self.model._meta,
            "parent": parent,
            "cancel_url": parent.get_absolute_url(),
            "whatif": self.whatif,
            "previewable": True,
        }
        return render(self.request, self.form_template, context, status=status)

    def post(self, request, *args, **kwargs):
        if not wants_preview(request):
            return super().post(request, *args, **kwargs)
        parent = self.get_parent()
        row = self.get_form_row(parent)
        form = self.get_form(row, request.POST)
        self.whatif = preview_form(form, self.save, user=request.user)
        if self.whatif is None:
            return self.form_response(parent, row, form, status=refused_status(form))
        # The previewed record was changed in memory (and given an id the rollback voided):
        # the form is shown again, as sent, on a fresh one.
        shown = self.get_form_row(parent)
        return self.form_response(parent, shown, self.get_form(shown, request.POST))


class PreviewObjectEditView(ObjectEditView):
    """An ObjectEditView (a record's own edit page) with the preview step; its template
    includes ``finance/inc/whatif.html``."""

    whatif: Preview | None = None

    def get_form_context(self, obj, form) -> dict:
        return {**super().get_form_context(obj, form), "whatif": self.whatif, "previewable": True}

    def post(self, request, *args, **kwargs):
        if not wants_preview(request):
            return super().post(request, *args, **kwargs)
        obj = self.get_object()
        form = self.get_form(obj, request.POST)
        self.whatif = preview_form(form, self.save, user=request.user)
        if self.whatif is None:
            return self.render_form(obj, form, status=refused_status(form))
        shown = self.get_object()
        return self.render_form(shown, self.get_form(shown, request.POST))
