from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from core import panels
from core.generic import ChangeFromMonthView
from core.generic import ChildActionView
from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import PageView
from core.generic import SectionMixin
from core.generic import register_model_view
from core.models import in_force_on
from core.permissions import can
from finance.previews import PreviewChildEditView
from performance.selectors import with_item_status
from performance.selectors import with_outcome_status
from portfolio import graphs
from portfolio import selectors
from portfolio import services
from portfolio.choices import Aspect
from portfolio.choices import Dimension
from portfolio.filtersets import ServiceFilterSet
from portfolio.forms import DependencyForm
from portfolio.forms import ServiceForm
from portfolio.forms import SpecificationItemForm
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import ServiceDependency
from portfolio.models import SpecificationItem
from portfolio.tables import ServiceTable

# --- Services --------------------------------------------------------------------------------


@register_model_view("list")
class ServiceListView(ObjectListView):
    filterset_class = ServiceFilterSet
    table_class = ServiceTable

    def get_queryset(self):
        return selectors.with_completeness(super().get_queryset().select_related("owner"))


@register_model_view("detail")
class ServiceDetailView(ObjectDetailView):
    queryset = selectors.with_completeness(Service.objects.select_related("owner"))

    def get_extra_context(self, service):
        context = service_page_context(service, can(self.request.user, "change", service))
        return {
            **context,
            "graph": graphs.neighbourhood(service),
            "panels": service_panels(self.request, service),
        }


class ServiceImpactView(ObjectDetailView):
    """What depends on a service, directly or through others (portfolio.graphs.impact): seen
    by whoever may see the service page."""

    queryset = Service.objects.select_related("owner")
    template_name = "portfolio/service_impact.html"

    def get_extra_context(self, service):
        levels = graphs.impact(service)
        return {"levels": levels, "total": sum(level.count for level in levels)}


def service_page_context(service, can_change: bool) -> dict:
    today = in_force_on(timezone.localdate())
    return {
        "quadrants": quadrants_of(service, can_change=can_change),
        "missing": selectors.missing_parts(service),
        "delegates": list(service.delegates.all()),
        # Every dependency on a provider, marked when ended or not yet in force (they are
        # edited here); the rest of the page shows the edges in force today.
        "providers": list(
            service.provider_links.select_related("provider", "provider__owner", "driver")
        ),
        "consumers": list(
            service.consumer_links.filter(today).select_related(
                "consumer", "consumer__owner", "driver"
            )
        ),
        "in_cycle": selectors.in_dependency_cycle(service),
        "subscriptions": list(
            service.subscriptions.select_related("customer").prefetch_related(
                Prefetch(
                    "outcomes",
                    queryset=with_outcome_status(Outcome.objects.all(), timezone.localdate()),
                )
            )
        ),
        "coverages": list(
            service.coverages.filter(today).select_related("contract", "contract__supplier")
        ),
        "application_supports": list(
            service.application_supports.filter(today).select_related(
                "application", "application__owner", "driver"
            )
        ),
        "dependency_form": DependencyForm() if can_change else None,
    }


def service_panels(request, service) -> list:
    return panels.render_context("service", request, service)


def quadrants_of(service, *, can_change: bool, form=None, form_quadrant: str = "") -> list[dict]:
    items = list(with_item_status(service.items.all(), timezone.localdate()))
    quadrants = []
    for aspect, dimension in selectors.QUADRANTS:
        key = selectors.quadrant_key(aspect, dimension)
        quadrants.append(
            {
                "key": key,
                "aspect": aspect,
                "dimension": dimension,
                "label": f"{Aspect(aspect).label} {Dimension(dimension).label.lower()}",
                "items": [i for i in items if i.aspect == aspect and i.dimension == dimension],
                "form": form if key == form_quadrant else None,
                "can_change": can_change,
            }
        )
    return quadrants


@register_model_view("add", "edit")
class ServiceEditView(ObjectEditView):
    model = Service
    form_class = ServiceForm

    def save(self, form):
        service = form.save(commit=False)
        return services.save_service(
            service=service, user=self.request.user, delegates=form.cleaned_data["delegates"]
        )


@register_model_view("delete")
class ServiceDeleteView(ObjectDeleteView):
    model = Service
    remove_function = services.remove_service
    dependents_function = services.service_dependents


class MyServicesView(PageView):
    template_name = "portfolio/my_services.html"

    def get_context(self) -> dict:
        owned = list(selectors.services_owned_by(self.request.user))
        for service in owned:
            service.missing = selectors.missing_parts(service)
        return {"services": owned}


# --- Specification items: edited in place in the 2×2 grid -----------------------------------


class QuadrantSection(SectionMixin):
    """One quadrant of the service page: the quadrant of the row a request is about."""

    section = "quadrant"
    model = SpecificationItem
    parent_field = "service"

    def section_context(self, service, *, form=None, row=None) -> dict:
        key = selectors.quadrant_key(row.aspect, row.dimension)
        quadrants = quadrants_of(service, can_change=True, form=form, form_quadrant=key)
        return {"object": service, "quadrant": next(q for q in quadrants if q["key"] == key)}

    def section_response(self, parent, *, form=None, row=None, status=200, anchor=""):
        anchor = f"quadrant-{selectors.quadrant_key(row.aspect, row.dimension)}"
        return super().section_response(parent, form=form, row=row, status=status, anchor=anchor)


@register_model_view("add", "edit")
class ItemEditView(QuadrantSection, ChildEditView):
    """Add an item to a quadrant (its aspect and dimension in the URL), or edit one."""

    form_class = SpecificationItemForm
    save_function = services.save_specification_item

    def new_row(self, service):
        aspect, dimension = self.kwargs["aspect"], self.kwargs["dimension"]
        if aspect not in Aspect.values or dimension not in Dimension.values:
            raise Http404("No such quadrant")
        return SpecificationItem(service=service, aspect=aspect, dimension=dimension)


class ItemMoveView(QuadrantSection, ChildActionView):
    def perform(self, item) -> None:
        offset = -1 if self.kwargs["direction"] == "up" else 1
        services.move_specification_item(item=item, offset=offset)


@register_model_view("remove")
class ItemRemoveView(QuadrantSection, ChildDeleteView):
    remove_function = services.remove_specification_item


# --- Dependencies ----------------------------------------------------------------------------


class DependencySection(SectionMixin):
    section = "dependencies"
    model = ServiceDependency
    parent_field = "consumer"

    def section_context(self, service, *, form=None, row=None) -> dict:
        service = selectors.with_completeness(Service.objects.select_related("owner")).get(
            pk=service.pk
        )
        context = {"object": service, "can_change": True, **service_page_context(service, True)}
        if form is not None:
            context["dependency_form"] = form
        return context


@register_model_view("add")
class DependencyAddView(PreviewChildEditView, DependencySection):
    """Record a service this one depends on (its form is always open on the service page)."""

    http_method_names = ["post"]
    form_class = DependencyForm
    save_function = services.save_dependency


@register_model_view("remove")
class DependencyRemoveView(DependencySection, ChildDeleteView):
    remove_function = services.remove_dependency


@register_model_view("change_from_month")
class DependencyChangeFromMonthView(ChangeFromMonthView):
    """End a dependency with a month and carry on with a new weight from the next one."""

    queryset = ServiceDependency.objects.select_related("consumer", "provider")
    change_function = services.change_dependency_from_month
    anchor = "dependencies"
    parent_in_address = {"slug": "consumer__slug"}

    def parent_of(self, dependency):
        return dependency.consumer
