"""The application portfolio: applications and the services each supports, edited in place on
the application page."""

from functools import partial

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from core.permissions import can
from portfolio import services
from portfolio.filtersets import ApplicationFilterSet
from portfolio.forms import ApplicationForm, ApplicationSupportForm
from portfolio.models import Application, ApplicationSupport
from portfolio.tables import ApplicationTable
from portfolio.views.rows import (
    allowed_pks,
    back_to,
    child_row_form,
    remove_child_row,
    row_to_edit,
)
from portfolio.views.services import slug_options


class ApplicationListView(ObjectListView):
    model = Application
    filterset_class = ApplicationFilterSet
    table_class = ApplicationTable
    add_url_name = "portfolio:application_add"
    export_name = "applications"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("owner", "vendor")
            .annotate(support_count=Count("supports"))
        )


class ApplicationDetailView(ObjectDetailView):
    model = Application
    lookup_field = lookup_url_kwarg = "slug"
    template_name = "portfolio/application_detail.html"

    def get_queryset(self):
        return Application.objects.select_related("owner", "vendor")

    def get_extra_context(self, application):
        coverages = list(application.coverages.select_related("contract", "contract__supplier"))
        return {**supports_context(self.request, application), "coverages": coverages}


class ApplicationEditView(ObjectEditView):
    model = Application
    form_class = ApplicationForm
    lookup_field = lookup_url_kwarg = "slug"

    def save(self, form):
        return services.save_application(application=form.save(commit=False))


class ApplicationDeleteView(ObjectDeleteView):
    model = Application
    lookup_field = lookup_url_kwarg = "slug"
    list_url_name = "portfolio:application_list"

    def delete(self, obj):
        return services.remove_application(application=obj)


@login_required
@require_GET
def application_options(request):
    """Suggestions for an application field."""
    return slug_options(request, Application.objects.all(), field="application")


# --- Services the application supports, in place on the application page ------------------


def supports_context(request, application, *, form=None) -> dict:
    """The application's supported services, with the open form (add, or edit of one)."""
    supports = list(
        application.supports.select_related("service", "service__owner").order_by("service__name")
    )
    mine = ApplicationSupport.objects.filter(application=application)
    changeable = allowed_pks(mine, request.user, "change")
    deletable = allowed_pks(mine, request.user, "delete")
    total_weight = sum((s.weight for s in supports), start=0)
    for support in supports:
        support.can_change = support.pk in changeable
        support.can_delete = support.pk in deletable
        support.share_percent = 100 * support.weight / total_weight if total_weight else None
        support.form = form if form is not None and form.instance.pk == support.pk else None
    return {
        "object": application,
        "supports": supports,
        "can_add_support": can(request.user, "change", application),
        "support_form": form if form is not None and form.instance.pk is None else None,
    }


def supports_response(request, application, *, form=None, status: int = 200):
    if not request.htmx:
        return back_to(application, "supports")
    context = supports_context(request, application, form=form)
    return render(request, "portfolio/application_detail.html#supports", context, status=status)


@login_required
def support_form_view(request, slug: str, pk: int | None = None):
    """Record a service the application supports, or change the weight of one."""
    application = get_object_or_404(Application, slug=slug)
    support = row_to_edit(
        request,
        ApplicationSupport.objects.select_related("service"),
        pk,
        parent=application,
        application=application,
    )
    return child_row_form(
        request,
        form_class=ApplicationSupportForm,
        row=support,
        parent=application,
        save=lambda obj: services.save_application_support(support=obj),
        section=partial(supports_response, request, application),
    )


@login_required
@require_POST
def support_remove(request, slug: str, pk: int):
    application = get_object_or_404(Application, slug=slug)
    return remove_child_row(
        request,
        get_object_or_404(ApplicationSupport, pk=pk, application=application),
        remove=lambda obj: services.remove_application_support(support=obj),
        section=partial(supports_response, request, application),
    )
