"""The application portfolio: applications and the services each supports, edited in place on
the application page."""

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from core.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectListView
from core.permissions import can
from portfolio import services
from portfolio.choices import ApplicationLifecycle
from portfolio.filtersets import ApplicationFilterSet
from portfolio.forms import ApplicationForm, ApplicationSupportForm
from portfolio.models import Application, ApplicationSupport
from portfolio.tables import ApplicationTable
from portfolio.views.customers import back_to, child_form_page, plain_number, require, save_with

OPTIONS_LIMIT = 20


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
        for coverage in coverages:
            coverage.weight_text = plain_number(coverage.weight)
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
    """Suggestions for an application field: a datalist of up to 20 matching slugs."""
    term = request.GET.get("application", request.GET.get("q", "")).strip()
    matches = Application.objects.restrict(request.user, "view").exclude(
        lifecycle=ApplicationLifecycle.RETIRED
    )
    if term:
        matches = matches.filter(Q(name__icontains=term) | Q(slug__icontains=term))
    return render(
        request,
        "portfolio/inc/application_options.html",
        {"options": matches.order_by("name").values("slug", "name")[:OPTIONS_LIMIT]},
    )


# --- Services the application supports, in place on the application page ------------------


def supports_context(request, application, *, form=None) -> dict:
    """The application's supported services, with the open form (add, or edit of one)."""
    supports = list(
        application.supports.select_related("service", "service__owner").order_by("service__name")
    )
    mine = ApplicationSupport.objects.filter(application=application)
    changeable = set(mine.restrict(request.user, "change").values_list("pk", flat=True))
    deletable = set(mine.restrict(request.user, "delete").values_list("pk", flat=True))
    total_weight = sum((s.weight for s in supports), start=0)
    for support in supports:
        support.can_change = support.pk in changeable
        support.can_delete = support.pk in deletable
        support.weight_text = plain_number(support.weight)
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
    if pk is None:
        require(request, "change", application)
        support = ApplicationSupport(application=application)
    else:
        support = get_object_or_404(
            ApplicationSupport.objects.select_related("service"), pk=pk, application=application
        )
        require(request, "change", support)
    data = request.POST if request.method == "POST" else None
    form = ApplicationSupportForm(data, instance=support, user=request.user)
    if data is not None and save_with(
        form, lambda obj: services.save_application_support(support=obj)
    ):
        return supports_response(request, application)
    status = 422 if data is not None else 200
    if not request.htmx:
        return child_form_page(request, form=form, parent=application, status=status)
    return supports_response(request, application, form=form, status=status)


@login_required
@require_POST
def support_remove(request, slug: str, pk: int):
    application = get_object_or_404(Application, slug=slug)
    support = get_object_or_404(ApplicationSupport, pk=pk, application=application)
    require(request, "delete", support)
    with transaction.atomic():
        services.remove_application_support(support=support)
    return supports_response(request, application)
