from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core import panels
from core.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    add_service_errors,
)
from core.permissions import can, require
from portfolio import selectors, services
from portfolio.choices import Aspect, Dimension
from portfolio.filtersets import ServiceFilterSet
from portfolio.forms import DependencyForm, ServiceForm, SpecificationItemForm
from portfolio.models import Service, ServiceDependency, SpecificationItem
from portfolio.tables import ServiceTable

# --- Services --------------------------------------------------------------------------------


class ServiceListView(ObjectListView):
    model = Service
    filterset_class = ServiceFilterSet
    table_class = ServiceTable
    add_url_name = "portfolio:service_add"
    export_name = "services"

    def get_queryset(self):
        return selectors.with_completeness(super().get_queryset().select_related("owner"))


class ServiceDetailView(ObjectDetailView):
    model = Service
    lookup_field = lookup_url_kwarg = "slug"
    template_name = "portfolio/service_detail.html"

    def get_queryset(self):
        return selectors.with_completeness(Service.objects.select_related("owner"))

    def get_extra_context(self, service):
        context = service_page_context(service, can(self.request.user, "change", service))
        return {**context, "panels": service_panels(self.request, service)}


def service_page_context(service, can_change: bool) -> dict:
    return {
        "quadrants": quadrants_of(service, can_change=can_change),
        "missing": selectors.missing_parts(service),
        "delegates": list(service.delegates.all()),
        "providers": list(service.provider_links.select_related("provider", "provider__owner")),
        "consumers": list(service.consumer_links.select_related("consumer", "consumer__owner")),
        "in_cycle": selectors.in_dependency_cycle(service),
        "subscriptions": list(
            service.subscriptions.select_related("customer").prefetch_related("outcomes")
        ),
        "coverages": list(service.coverages.select_related("contract", "contract__supplier")),
        "application_supports": list(
            service.application_supports.select_related("application", "application__owner")
        ),
        "dependency_form": DependencyForm() if can_change else None,
    }


def service_panels(request, service) -> list:
    return panels.render_context("service", request, service)


def quadrants_of(service, *, can_change: bool, form=None, form_quadrant: str = "") -> list[dict]:
    items = list(service.items.all())
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


class ServiceEditView(ObjectEditView):
    model = Service
    form_class = ServiceForm
    lookup_field = lookup_url_kwarg = "slug"

    def save(self, form):
        service = form.save(commit=False)
        return services.save_service(
            service=service, user=self.request.user, delegates=form.cleaned_data["delegates"]
        )


class ServiceDeleteView(ObjectDeleteView):
    model = Service
    lookup_field = lookup_url_kwarg = "slug"
    list_url_name = "portfolio:service_list"

    def delete(self, obj):
        return services.remove_service(obj)


@login_required
@require_GET
def my_services(request):
    owned = list(selectors.services_owned_by(request.user))
    for service in owned:
        service.missing = selectors.missing_parts(service)
    return render(request, "portfolio/my_services.html", {"services": owned})


OPTIONS_LIMIT = 20


def slug_options(request, queryset, *, field: str):
    """Suggestions for a slug picker (forms.slug_picker): a datalist of the first matching
    live rows the user may see, by name or slug; the term is in ``field`` or ``q``."""
    term = request.GET.get(field, request.GET.get("q", "")).strip()
    matches = queryset.restrict(request.user, "view").exclude(lifecycle="retired")
    if term:
        matches = matches.filter(Q(name__icontains=term) | Q(slug__icontains=term))
    options = matches.order_by("name").values("slug", "name")[:OPTIONS_LIMIT]
    return render(request, "portfolio/inc/slug_options.html", {"options": options})


@login_required
@require_GET
def service_options(request):
    """Suggestions for a service field."""
    return slug_options(request, Service.objects.all(), field="provider")


# --- Specification items: edited in place in the 2×2 grid -----------------------------------


def editable_service(request, slug: str) -> Service:
    service = get_object_or_404(Service, slug=slug)
    require(request.user, "change", service)
    return service


def quadrant_response(request, service, key: str, *, form=None, status=200):
    """The quadrant as an htmx partial, or the service page for a plain request."""
    if not request.htmx:
        if form is not None:  # the form on a page of its own: works without JavaScript
            return render(
                request,
                "generic/object_edit.html",
                {
                    "form": form,
                    "model_meta": SpecificationItem._meta,
                    "cancel_url": service.get_absolute_url(),
                },
                status=status,
            )
        return HttpResponseRedirect(service.get_absolute_url() + f"#quadrant-{key}")
    quadrant = next(
        q
        for q in quadrants_of(service, can_change=True, form=form, form_quadrant=key)
        if q["key"] == key
    )
    return render(
        request,
        "portfolio/service_detail.html#quadrant",
        {"object": service, "quadrant": quadrant},
        status=status,
    )


@login_required
def item_form_view(request, slug: str, aspect: str = "", dimension: str = "", pk=None):
    service = editable_service(request, slug)
    if pk is not None:
        item = get_object_or_404(SpecificationItem, pk=pk, service=service)
    else:
        if aspect not in Aspect.values or dimension not in Dimension.values:
            raise Http404("No such quadrant")
        item = SpecificationItem(service=service, aspect=aspect, dimension=dimension)
    key = selectors.quadrant_key(item.aspect, item.dimension)
    if request.method == "GET":
        form = SpecificationItemForm(instance=item, user=request.user)
        return quadrant_response(request, service, key, form=form)
    form = SpecificationItemForm(request.POST, instance=item, user=request.user)
    if form.is_valid():
        try:
            with transaction.atomic():
                if pk is None:
                    services.add_specification_item(item=form.save(commit=False))
                else:
                    services.save_specification_item(item=form.save(commit=False))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return quadrant_response(request, service, key)
    return quadrant_response(request, service, key, form=form, status=422)


@login_required
@require_POST
def item_move(request, slug: str, pk: int, direction: str):
    service = editable_service(request, slug)
    item = get_object_or_404(SpecificationItem, pk=pk, service=service)
    with transaction.atomic():
        services.move_specification_item(item=item, offset=-1 if direction == "up" else 1)
    return quadrant_response(request, service, selectors.quadrant_key(item.aspect, item.dimension))


@login_required
@require_POST
def item_remove(request, slug: str, pk: int):
    service = editable_service(request, slug)
    item = get_object_or_404(SpecificationItem, pk=pk, service=service)
    key = selectors.quadrant_key(item.aspect, item.dimension)
    with transaction.atomic():
        services.remove_specification_item(item=item)
    return quadrant_response(request, service, key)


# --- Dependencies ----------------------------------------------------------------------------


def dependencies_response(request, service, *, form=None, status=200):
    if not request.htmx:
        return HttpResponseRedirect(service.get_absolute_url() + "#dependencies")
    service = selectors.with_completeness(Service.objects.select_related("owner")).get(
        pk=service.pk
    )
    context = {"object": service, "can_change": True, **service_page_context(service, True)}
    if form is not None:
        context["dependency_form"] = form
    return render(request, "portfolio/service_detail.html#dependencies", context, status=status)


@login_required
@require_POST
def dependency_add(request, slug: str):
    service = editable_service(request, slug)
    form = DependencyForm(request.POST, user=request.user)
    if form.is_valid():
        dependency = form.save(commit=False)
        dependency.consumer = service
        try:
            with transaction.atomic():
                services.save_dependency(dependency=dependency)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return dependencies_response(request, service)
    if not request.htmx:
        return render(
            request,
            "generic/object_edit.html",
            {
                "form": form,
                "model_meta": ServiceDependency._meta,
                "cancel_url": service.get_absolute_url(),
            },
            status=422,
        )
    return dependencies_response(request, service, form=form, status=422)


@login_required
@require_POST
def dependency_remove(request, slug: str, pk: int):
    service = editable_service(request, slug)
    dependency = get_object_or_404(ServiceDependency, pk=pk, consumer=service)
    with transaction.atomic():
        services.remove_dependency(dependency=dependency)
    return dependencies_response(request, service)
