"""The application portfolio: applications and the services each supports, edited in place on
the application page."""

from django.db.models import Count
from django.utils import timezone

from core.generic import ChangeFromMonthView
from core.generic import ChildDeleteView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import SectionMixin
from core.generic import allowed_pks
from core.generic import register_model_view
from core.models import in_force_on
from core.models import mark_shares_in_force
from core.permissions import can
from finance.previews import PreviewChildEditView
from portfolio import services
from portfolio.filtersets import ApplicationFilterSet
from portfolio.forms import ApplicationForm
from portfolio.forms import ApplicationSupportForm
from portfolio.models import Application
from portfolio.models import ApplicationSupport
from portfolio.tables import ApplicationTable


@register_model_view("list")
class ApplicationListView(ObjectListView):
    filterset_class = ApplicationFilterSet
    table_class = ApplicationTable

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("owner", "vendor")
            .annotate(support_count=Count("supports"))
        )


@register_model_view("detail")
class ApplicationDetailView(ObjectDetailView):
    queryset = Application.objects.select_related("owner", "vendor")

    def get_extra_context(self, application):
        coverages = list(
            application.coverages.filter(in_force_on(timezone.localdate())).select_related(
                "contract", "contract__supplier"
            )
        )
        return {**supports_context(self.request, application), "coverages": coverages}


@register_model_view("add", "edit")
class ApplicationEditView(ObjectEditView):
    model = Application
    form_class = ApplicationForm
    save_function = services.save_application


@register_model_view("delete")
class ApplicationDeleteView(ObjectDeleteView):
    model = Application
    remove_function = services.remove_application
    dependents_function = services.application_dependents


# --- Services the application supports, in place on the application page ------------------


def supports_context(request, application, *, form=None) -> dict:
    """The application's supported services, with the open form (add, or edit of one)."""
    supports = list(
        application.supports.select_related("service", "service__owner", "driver").order_by(
            "service__name"
        )
    )
    mine = ApplicationSupport.objects.filter(application=application)
    changeable = allowed_pks(mine, request.user, "change")
    deletable = allowed_pks(mine, request.user, "delete")
    mark_shares_in_force(supports)
    for support in supports:
        support.can_change = support.pk in changeable
        support.can_delete = support.pk in deletable
        support.form = form if form is not None and form.instance.pk == support.pk else None
    return {
        "object": application,
        "supports": supports,
        "can_add_support": can(request.user, "add", ApplicationSupport(application=application)),
        "support_form": form if form is not None and form.instance.pk is None else None,
    }


class SupportSection(SectionMixin):
    section = "supports"
    model = ApplicationSupport
    parent_field = "application"

    def section_context(self, application, *, form=None, row=None) -> dict:
        return supports_context(self.request, application, form=form)


@register_model_view("add", "edit")
class SupportEditView(PreviewChildEditView, SupportSection):
    """Record a service the application supports, or change the weight of one."""

    form_class = ApplicationSupportForm
    save_function = services.save_application_support


@register_model_view("remove")
class SupportRemoveView(SupportSection, ChildDeleteView):
    remove_function = services.remove_application_support


@register_model_view("change_from_month")
class SupportChangeFromMonthView(ChangeFromMonthView):
    """End a support with a month and carry on with a new weight from the next one."""

    queryset = ApplicationSupport.objects.select_related("application", "service")
    change_function = services.change_application_support_from_month
    anchor = "supports"
    parent_in_address = {"slug": "application__slug"}

    def parent_of(self, support):
        return support.application
