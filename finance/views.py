"""Thin views: the Fund services page, lineage drill-down, cost data, periods and runs."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models import F
from django.db.models import IntegerField
from django.db.models import OuterRef
from django.db.models import Subquery
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.http import HttpResponse
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views import View

from budgets import selectors as budget_selectors
from budgets.models import Scenario
from core.api.errors import ApiError
from core.generic import ChangeFromMonthView
from core.generic import ObjectActionView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import ObjectMixin
from core.generic import PageView
from core.generic import SectionMixin
from core.generic import add_service_errors
from core.generic import call_service
from core.generic import page_url
from core.generic import partial_or_page
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.models import mark_shares_in_force
from core.numbers import whole_number
from core.permissions import can
from core.permissions import require
from finance import charts
from finance import reports
from finance import review_pack_reports
from finance import selectors
from finance import services
from finance import statement_reports
from finance.filtersets import CostItemFilterSet
from finance.filtersets import CostPoolFilterSet
from finance.filtersets import DriverFilterSet
from finance.filtersets import DriverQuantityFilterSet
from finance.filtersets import ExchangeRateFilterSet
from finance.filtersets import FundServicesFilterSet
from finance.filtersets import PeriodFilterSet
from finance.filtersets import StatementFilterSet
from finance.filtersets import TcoRunFilterSet
from finance.filtersets import describe_node
from finance.forms import CostItemForm
from finance.forms import CostPoolForm
from finance.forms import DriverForm
from finance.forms import DriverQuantityForm
from finance.forms import DriverQuantityImportForm
from finance.forms import ExchangeRateForm
from finance.forms import PeriodForm
from finance.forms import PoolAllocationForm
from finance.forms import ReportDefinitionForm
from finance.forms import RestateForm
from finance.forms import RunReportForm
from finance.models import CostItem
from finance.models import CostPool
from finance.models import CustomerStatement
from finance.models import Driver
from finance.models import DriverQuantity
from finance.models import ExchangeRate
from finance.models import Period
from finance.models import PoolAllocation
from finance.models import ReportDefinition
from finance.models import ReportFile
from finance.models import ReportRun
from finance.models import TcoResult
from finance.models import TcoRun
from finance.models import month_serial
from finance.models import parse_label
from finance.models import serial_label
from finance.previews import PreviewChildEditView
from finance.previews import PreviewObjectEditView
from finance.selectors import review_packs
from finance.services.report_spans import parse_report_period
from finance.services.report_spans import span_containing
from finance.tables import CostItemTable
from finance.tables import CostPoolTable
from finance.tables import DriverQuantityTable
from finance.tables import DriverTable
from finance.tables import ExchangeRateTable
from finance.tables import PeriodTable
from finance.tables import StatementTable
from finance.tables import TcoRunTable
from portfolio.models import ApplicationSupport
from portfolio.models import Customer
from portfolio.models import Service
from portfolio.models import ServiceDependency

SORTS = {
    "tco": ("-tco", "service__name"),
    "name": ("service__name",),
    "kept": ("-kept", "service__name"),
    "revenue": ("-revenue", "service__name"),
    "margin": ("margin", "service__name"),
    "recovery": (F("recovery_ratio").asc(nulls_last=True), "service__name"),
}


def _period_or_404(label: str) -> Period:
    try:
        year, month = parse_label(label)
    except ValidationError:
        raise Http404("No such period") from None
    return get_object_or_404(Period, year=year, month=month)


def _period_from(request, *, default=None) -> Period | None:
    label = request.GET.get("period", "").strip()
    return _period_or_404(label) if label else default


def _version_from(request, period: Period) -> int:
    try:
        version = int(request.GET.get("version") or period.current_version)
    except ValueError:
        raise Http404("No such version") from None
    if not 1 <= version <= period.current_version:
        raise Http404("No such version")
    return version


# --- Fund services ---------------------------------------------------------------------------

# The Fund services page's views of one period's kept cost: (value of ?view=, label).
FUND_VIEWS = {
    "service": "By service",
    "stream": "By value stream",
    "customer": "By customer",
    "unit": "By organisation unit",
    "budget": "Budget against actual",
    "variances": "Variances",
}


def budget_context(request, period: Period, shown: str) -> dict:
    """The Fund services page's budget views: the fiscal year asked for (``?fiscal_year=``,
    default the period's) against one of its budget versions (``?budget_version=``, default
    its latest approved, else its latest draft): per service the year's budget, actual,
    forecast and variance (budgets.selectors, the figures of the API and the report pack),
    the months of all services as a chart, and the variances beyond the thresholds."""
    fiscal_year = whole_number(request.GET.get("fiscal_year")) or period.fiscal_year
    versions = list(budget_selectors.versions_of(fiscal_year).order_by("-created_at", "-pk"))
    asked = request.GET.get("budget_version", "")
    version = next((v for v in versions if str(v.pk) == asked), None)
    version = version or budget_selectors.default_version(fiscal_year)
    context: dict = {
        "fiscal_year": fiscal_year,
        "budget_versions": versions,
        "budget_version": version,
        "variance_percent": settings.PORTICO_BUDGET_VARIANCE_PERCENT,
        "variance_amount": settings.PORTICO_BUDGET_VARIANCE_AMOUNT,
    }
    if version is None:
        return context
    context["scenarios"] = list(version.scenarios.order_by("name"))
    context["can_add_scenario"] = can(request.user, "add", Scenario(base=version))
    if shown == "variances":
        context["flagged"] = budget_selectors.flagged_variances(fiscal_year, version=version)
        return context
    rows = budget_selectors.budget_vs_actual(fiscal_year, version=version)
    year = [
        figures
        for figures in budget_selectors.year_figures(rows)
        if figures.category == budget_selectors.TOTAL
    ]
    context["budget_services"] = year
    context["budget_totals"] = {
        name: sum((getattr(figures, name) for figures in year), Decimal(0))
        for name in ("budget", "actual", "forecast", "variance")
    }
    with_actuals = {row.serial for row in rows if row.actual is not None}
    context["budget_chart"] = charts.month_bars(
        [
            (
                serial_label(serial),
                month["budget"],
                month["actual"] if serial in with_actuals else None,
                month["forecast"],
            )
            for serial, month in budget_selectors.month_totals(rows).items()
        ]
    )
    return context


class OverviewView(PageView):
    """Fund services: per service TCO by category, revenue, margin and the change from the
    previous month; the flow chart; what stayed unallocated and why."""

    model = TcoResult
    template_name = "finance/overview.html"
    partial = "services"

    def get_context(self) -> dict:
        request = self.request
        period = _period_from(request, default=selectors.default_period())
        shown = request.GET.get("view", "")
        shown = shown if shown in FUND_VIEWS else "service"
        context = {
            "period": period,
            "periods": list(selectors.periods_with_results()[:36]),
            "shown": shown,
            "fund_views": FUND_VIEWS,
        }
        if period is None:
            return context
        context["recomputing"] = selectors.recomputation_state(period=period)
        version = _version_from(request, period)
        if shown in ("budget", "variances"):
            context.update(budget_context(request, period, shown))
        if shown != "service":
            context.update(
                {
                    "version": version,
                    "totals": selectors.period_totals(period=period, version=version),
                    "unallocated": selectors.unallocated_for(period=period, version=version),
                    "by_customer": selectors.by_customer(period=period, version=version)
                    if shown == "customer"
                    else None,
                    "by_stream": selectors.by_value_stream(period=period, version=version)
                    if shown == "stream"
                    else None,
                    "by_unit": selectors.by_unit(period=period, version=version)
                    if shown == "unit"
                    else None,
                }
            )
            return context
        filterset = FundServicesFilterSet(
            request.GET,
            selectors.services_with_tco(period=period, version=version),
            request=request,
        )
        rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        sort = request.GET.get("sort", "tco")
        rows = rows.order_by(*SORTS.get(sort, SORTS["tco"]))
        page = Paginator(rows, 50).get_page(request.GET.get("page"))
        # The bars are drawn for what is positive: a negative TCO (credits) is flagged instead.
        widest = max((row.tco for row in page.object_list), default=0)
        widest = widest if widest > 0 else 1
        for row in page.object_list:
            row.bars = [
                (
                    value,
                    label,
                    getattr(row, f"tco_{value}") / widest * 100,
                    getattr(row, f"tco_{value}"),
                )
                for value, label in selectors.tco_categories()
            ]
            row.change = row.tco - row.previous_tco if row.previous_tco is not None else None
            row.negative = selectors.negative_cost_reason(row)
        query = request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        without_node = query.copy()
        without_node.pop("node", None)
        context.update(
            {
                "version": version,
                "filterset": filterset,
                "page": page,
                "sort": sort,
                "query": query.urlencode(),
                "categories": selectors.tco_categories(),
                "totals": selectors.period_totals(period=period, version=version),
                "unallocated": selectors.unallocated_for(period=period, version=version),
                "previous": selectors.previous_period(period),
                "chosen_node": request.GET.get("node", ""),
                "chosen_node_label": describe_node(request.GET.get("node", "")),
                "all_services_query": without_node.urlencode(),
            }
        )
        if not (request.htmx and not request.htmx.boosted):  # the chart is the page's alone
            context["chart"] = selectors.sankey(period=period, version=version)
        return context


class PeriodRecomputingView(View):
    """The "being recomputed" note of a period, polled by the pages that show its figures.
    The answer that finds nothing pending any more carries the ``tco-recomputed`` event, on
    which those pages reload their figures; it no longer polls."""

    http_method_names = ["get", "head"]

    def get(self, request, label):
        require(request.user, "view", TcoResult)
        period = _period_or_404(label)
        recomputing = selectors.recomputation_state(period=period)
        context = {"period": period, "recomputing": recomputing}
        response = render(request, "finance/inc/recomputing.html", context)
        if not recomputing:
            response["HX-Trigger"] = "tco-recomputed"
        return response


class ServiceTcoPanelView(ObjectMixin, View):
    """A service's TCO panel alone, swapped in when its figures have been recomputed."""

    http_method_names = ["get", "head"]
    model = Service

    def get(self, request, *args, **kwargs):
        require(request.user, "view", TcoResult)
        service = self.get_object()
        context = {
            "object": service,
            "panel_context": selectors.service_panel(request=request, service=service),
        }
        return render(request, "finance/inc/service_tco.html", context)


class ServiceLineageView(ObjectMixin, View):
    """Where a service's TCO in a period came from: computed now, on demand."""

    http_method_names = ["get", "head"]
    model = Service

    def get(self, request, *args, **kwargs):
        require(request.user, "view", TcoResult)
        service = self.get_object()
        period = _period_from(request, default=selectors.default_period())
        if period is None:
            raise Http404("No period has results yet")
        lineage = selectors.lineage(service=service, period=period)
        if request.GET.get("format") == "json" or "application/json" in request.headers.get(
            "Accept", ""
        ):
            return JsonResponse(lineage_json(lineage))
        template = partial_or_page(request, "finance/lineage.html", "lineage")
        context = {"lineage": lineage, "object": service, "period": period}
        return render(request, template, context)


def lineage_json(lineage: dict) -> dict:
    def node(value):
        return {"kind": value[0], "id": value[1]}

    return {
        "service": lineage["service"].slug,
        "period": lineage["period"].label,
        "tco": str(lineage["gross"]),
        "stored_tco": str(lineage["stored"].tco) if lineage["stored"] else None,
        "items": [
            {
                "kind": line.kind,
                "id": line.item_id,
                "label": line.label,
                "recorded_against": {**node(line.node), "label": line.node_label},
                "category": line.category,
                "expenditure": line.expenditure,
                "amount": str(line.original),
                "currency": line.currency,
                "converted": line.converted,
                "contribution": str(round(line.contribution, 2)),
            }
            for line in lineage["lines"]
        ],
        "item_count": lineage["line_count"],
        "edges": [
            {
                "source": {**node(edge.source), "label": edge.source_label},
                "target": {**node(edge.target), "label": edge.target_label},
                "weight": str(edge.weight),
                "share": str(round(edge.share, 6)),
                "driver": selectors.driven_share_json(edge.driven),
                "flow": str(round(edge.flow, 2)),
                "contribution": str(round(edge.contribution, 2)),
            }
            for edge in lineage["edges"]
        ],
        "edge_count": lineage["edge_count"],
    }


# --- Cost items ------------------------------------------------------------------------------


@register_model_view("list")
class CostItemListView(ObjectListView):
    filterset_class = CostItemFilterSet
    table_class = CostItemTable
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("period", "service", "application", "contract", "pool")
        )

    def get_extra_context(self):
        return {"section": "items"}


class PeriodLabelEditView(ObjectEditView):
    """Edit an object of a period given by label (forms.PeriodLabelFormMixin): the period is
    made when it does not exist yet, then ``save_function`` saves it through services; the
    model's list follows."""

    def save(self, form):
        obj = form.save(commit=False)
        obj.period = services.period_for(
            form.cleaned_data["period_label"], create=True, field="period_label"
        )
        return call_service(type(self).save_function, obj, user=self.request.user)

    def get_success_url(self, obj):
        return page_url(self.model, "list")


@register_model_view("add", "edit")
class CostItemEditView(PeriodLabelEditView):
    form_class = CostItemForm
    save_function = services.save_cost_item

    queryset = CostItem.objects.select_related("period", "service", "application")

    def render_form(self, obj, form, status=200):
        if obj.pk and obj.period.is_closed:
            messages.warning(
                self.request,
                f"{obj.period} is closed: its figures stay frozen until it is restated.",
            )
        return super().render_form(obj, form, status)


@register_model_view("delete")
class CostItemDeleteView(ObjectDeleteView):
    model = CostItem
    remove_function = services.remove_cost_item


# --- Cost pools and their allocations ------------------------------------------------------


@register_model_view("list")
class CostPoolListView(ObjectListView):
    filterset_class = CostPoolFilterSet
    table_class = CostPoolTable
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("owner")
            .annotate(allocation_count=Count("allocations"))
        )

    def get_extra_context(self):
        return {"section": "pools"}


@register_model_view("detail")
class CostPoolDetailView(ObjectDetailView):
    template_name = "finance/pool_detail.html"

    queryset = CostPool.objects.select_related("owner")

    def get_extra_context(self, pool) -> dict:
        return pool_context(self.request, pool)


def pool_context(request, pool, *, form=None) -> dict:
    allocations = list(
        pool.allocations.select_related("service", "driver").order_by("service__name", "valid_from")
    )
    mark_shares_in_force(allocations)
    can_change = can(request.user, "change", pool)
    return {
        "object": pool,
        "allocations": allocations,
        "can_change": can_change,
        "can_delete": can(request.user, "delete", pool),
        "can_allocate": can(request.user, "add", PoolAllocation(pool=pool)),
        "form": form if form is not None else PoolAllocationForm(user=request.user),
        "recent_items": list(
            pool.cost_items.select_related("period").order_by("-period__serial", "-id")[:10]
        ),
    }


@register_model_view("add", "edit")
class CostPoolEditView(ObjectEditView):
    model = CostPool
    form_class = CostPoolForm
    save_function = services.save_pool


@register_model_view("delete")
class CostPoolDeleteView(ObjectDeleteView):
    model = CostPool
    remove_function = services.remove_pool


class AllocationSection(SectionMixin):
    template_name = "finance/pool_detail.html"
    section = "allocations"
    model = PoolAllocation
    parent_field = "pool"

    def section_context(self, pool, *, form=None, row=None) -> dict:
        return pool_context(self.request, pool, form=form)


@register_model_view("add")
class AllocationAddView(PreviewChildEditView, AllocationSection):
    """Allocate the pool to a service (the form is always open on the pool's page)."""

    http_method_names = ["post"]
    form_class = PoolAllocationForm
    save_function = services.save_allocation


@register_model_view("edit")
class AllocationEditView(PreviewObjectEditView):
    """Change an allocation's weight, on a page of its own."""

    form_class = PoolAllocationForm
    save_function = services.save_allocation

    queryset = PoolAllocation.objects.select_related("pool", "service")

    def get_success_url(self, allocation) -> str:
        return allocation.pool.get_absolute_url() + "#allocations"

    def render_form(self, allocation, form, status=200):
        context = {
            "form": form,
            "object": allocation,
            "model_meta": PoolAllocation._meta,
            "cancel_url": allocation.pool.get_absolute_url(),
            **self.get_form_context(allocation, form),
        }
        return render(self.request, self.template_name, context, status=status)


@register_model_view("change_from_month")
class AllocationChangeFromMonthView(ChangeFromMonthView):
    """End an allocation with a month and carry on with a new weight from the next one."""

    queryset = PoolAllocation.objects.select_related("pool", "service")
    change_function = services.change_allocation_from_month
    anchor = "allocations"

    def parent_of(self, allocation):
        return allocation.pool


@register_model_view("remove")
class AllocationRemoveView(ObjectActionView, AllocationSection):
    action = "delete"
    perform_function = services.remove_allocation

    queryset = PoolAllocation.objects.select_related("pool")

    def done(self, allocation, result):
        return self.section_response(allocation.pool)


# --- Consumption drivers and their quantities ------------------------------------------------


def referring_count(model):
    """How many ``model`` records name the driver (``driver``), as a subquery."""
    counted = (
        model.objects.filter(driver=OuterRef("pk"))
        .order_by()
        .values("driver")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@register_model_view("list")
class DriverListView(ObjectListView):
    filterset_class = DriverFilterSet
    table_class = DriverTable
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        # One subquery per table: joining them all would multiply edges by quantities.
        edges = sum(
            (
                referring_count(model)
                for model in (PoolAllocation, ApplicationSupport, ServiceDependency)
            ),
            start=Value(0),
        )
        return (
            super()
            .get_queryset()
            .annotate(edge_count=edges, quantity_count=referring_count(DriverQuantity))
        )

    def get_extra_context(self):
        return {"section": "drivers"}


@register_model_view("add", "edit")
class DriverEditView(ObjectEditView):
    model = Driver
    form_class = DriverForm
    save_function = services.save_driver

    def get_success_url(self, obj):
        return page_url(Driver, "list")


@register_model_view("delete")
class DriverDeleteView(ObjectDeleteView):
    model = Driver
    remove_function = services.remove_driver


@register_model_view("list")
class DriverQuantityListView(ObjectListView):
    filterset_class = DriverQuantityFilterSet
    table_class = DriverQuantityTable
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("driver", "period", "service", "application")

    def get_extra_context(self):
        return {"section": "quantities"}


@register_model_view("add", "edit")
class DriverQuantityEditView(PeriodLabelEditView):
    model = DriverQuantity
    form_class = DriverQuantityForm
    save_function = services.save_quantity

    queryset = DriverQuantity.objects.select_related("period", "service", "application")


@register_model_view("delete")
class DriverQuantityDeleteView(ObjectDeleteView):
    model = DriverQuantity
    remove_function = services.remove_quantity


class DriverQuantityImportView(LoginRequiredMixin, View):
    """Import a CSV of quantities: one bulk sync batch (services.import_quantities), with
    the rules and rights of the API's sync; all lines are written or none."""

    template_name = "finance/quantity_import.html"

    def get(self, request):
        require(request.user, "add", DriverQuantity)
        return self.render_form(DriverQuantityImportForm())

    def post(self, request):
        require(request.user, "add", DriverQuantity)
        form = DriverQuantityImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = services.import_quantities(
                    text=form.cleaned_data["file"],
                    source=form.cleaned_data["source"],
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            except ApiError as error:
                for message in services.sync_refusals(error):
                    form.add_error(None, message)
            else:
                messages.success(request, services.import_summary(result))
                return redirect_after_write(request, page_url(DriverQuantity, "list"))
        return self.render_form(form, status=422)

    def render_form(self, form, status=200):
        context = {"form": form, "section": "quantities", "title": "Import driver quantities"}
        return render(self.request, self.template_name, context, status=status)


# --- Exchange rates --------------------------------------------------------------------------


@register_model_view("list")
class ExchangeRateListView(ObjectListView):
    filterset_class = ExchangeRateFilterSet
    table_class = ExchangeRateTable
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("period")

    def get_extra_context(self):
        return {"section": "rates"}


@register_model_view("add", "edit")
class ExchangeRateEditView(PeriodLabelEditView):
    model = ExchangeRate
    form_class = ExchangeRateForm
    save_function = services.save_rate


@register_model_view("delete")
class ExchangeRateDeleteView(ObjectDeleteView):
    model = ExchangeRate
    remove_function = services.remove_rate


# --- Periods and runs ------------------------------------------------------------------------


@register_model_view("list")
class PeriodListView(ObjectListView):
    filterset_class = PeriodFilterSet
    table_class = PeriodTable
    show_add = False  # a period is opened with the form on this page
    template_name = "finance/cost_list.html"

    def get_extra_context(self):
        return {
            "section": "periods",
            "period_form": PeriodForm() if can(self.request.user, "add", Period) else None,
        }


@register_model_view("add")
class PeriodAddView(ObjectEditView):
    """Open a period by its label (from the period list)."""

    http_method_names = ["post"]
    model = Period

    def get_form(self, period, data=None):
        form = PeriodForm(data)
        form.instance = period  # what it adds: its rights
        return form

    def save(self, form):
        return services.create_period(label=form.cleaned_data["label"])

    def success_message(self, period) -> str:
        return f"Opened period {period}."

    def render_form(self, period, form, status=200):
        context = {
            "form": form,
            "model_meta": Period._meta,
            "cancel_url": reverse("finance:period_list"),
        }
        return render(self.request, self.template_name, context, status=status)


class PeriodMixin(ObjectMixin):
    """A period named by its label in the address (``2026-10``)."""

    model = Period

    def get_object(self):
        period = _period_or_404(self.kwargs["label"])
        require(self.request.user, self.action, period)
        return period


def period_page(request, period, *, restate_form=None, status=200):
    wanted = request.GET.get("compare", "")
    versions, differences = selectors.period_versions(period=period, compare=whole_number(wanted))
    runs = list(
        TcoRun.objects.filter(period=period)
        .select_related("requested_by")
        .order_by("-started_at")[:10]
    )
    can_change = can(request.user, "change", period)
    context = {
        "object": period,
        "versions": versions,
        "differences": differences,
        "runs": runs,
        "can_change": can_change,
        "restate_form": restate_form or (RestateForm() if can_change else None),
    }
    return render(request, "finance/period_detail.html", context, status=status)


@register_model_view("detail")
class PeriodDetailView(PeriodMixin, View):
    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        return period_page(request, self.get_object())


class PeriodActionView(PeriodMixin, ObjectActionView):
    # A roll-up is a unit of work: it commits its own run, its results and its marker.
    atomic = False


class PeriodCloseView(PeriodActionView):
    perform_function = services.close_period

    def done(self, period, run):
        messages.success(self.request, f"Closed {period}: its figures are frozen.")
        return super().done(period, run)


class PeriodRestateView(PeriodActionView):
    def perform(self, period):
        self.form = RestateForm(self.request.POST)
        if not self.form.is_valid():
            raise ValidationError("The form says what is missing.")
        return services.restate_period(
            period=period, user=self.request.user, reason=self.form.cleaned_data["reason"]
        )

    def failed(self, period, exc):
        if self.form.is_valid():  # refused by services: said beside the fields it names
            add_service_errors(self.form, exc)
        return period_page(self.request, period, restate_form=self.form, status=422)

    def done(self, period, run):
        messages.success(self.request, f"Restated {period} as version {run.version}.")
        return super().done(period, run)


class PeriodRecomputeView(PeriodActionView):
    def perform(self, period):
        try:
            return services.recompute_tco(period=period, user=self.request.user)
        except ValidationError:  # closed: its figures are frozen
            raise
        except Exception as exc:  # recorded on the run; say so rather than answer 500
            raise ValidationError(f"The roll-up of {period} failed: {exc}") from exc

    def done(self, period, run):
        messages.success(
            self.request,
            f"Recomputed {period} in {run.duration.total_seconds():.2f} s: "
            f"{run.services_count} services.",
        )
        return super().done(period, run)


class TcoRunListView(ObjectListView):
    filterset_class = TcoRunFilterSet
    table_class = TcoRunTable
    title = "Roll-up runs"
    template_name = "finance/cost_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("period", "requested_by")

    def get_extra_context(self):
        return {"section": "runs"}


# --- Scheduled reports -----------------------------------------------------------------------


@register_model_view("list")
class ReportListView(PageView):
    """The report definitions with their schedule and last run, and the latest runs."""

    model = ReportDefinition
    template_name = "finance/report_list.html"

    def get_context(self) -> dict:
        user = self.request.user
        definitions = list(
            ReportDefinition.objects.select_related("periodic_task__crontab", "created_by")
        )
        last = selectors.last_report_runs(definitions)
        for definition in definitions:
            definition.last_run = last.get(definition.pk)
        runs = selectors.report_runs_with_files(ReportRun.objects.all())[:REPORT_RUNS_SHOWN]
        return {
            "definitions": definitions,
            "runs": list(runs),
            "can_add": can(user, "add", ReportDefinition),
            "can_download": can(user, "view", ReportFile),
            "time_zone": settings.TIME_ZONE,
        }


REPORT_RUNS_SHOWN = 30


def _requested_at(request) -> tuple[str, datetime.datetime | None]:
    """``?requested=`` (seconds since the epoch, set by *Run now*): when a run was asked for;
    anything else is ignored."""
    raw = request.GET.get("requested", "")
    try:
        return raw, datetime.datetime.fromtimestamp(int(raw), tz=datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return "", None


def report_page(request, definition, *, run_form=None, status=200):
    requested, requested_at = _requested_at(request)
    pending = selectors.report_run_pending(definition=definition, requested_at=requested_at)
    runs = list(selectors.report_runs_with_files(definition.runs.all()))
    if request.method == "GET" and request.htmx and not request.htmx.boosted:  # following a run
        context = {
            "object": definition,
            "runs": runs,
            "pending": pending,
            "requested_at": requested if pending else "",
            "can_download": can(request.user, "view", ReportFile),
        }
        return render(request, "finance/report_detail.html#runs", context, status=status)
    can_run = can(request.user, "change", definition)
    span = services.resolve_report_period(selector=definition.period_selector)
    context = {
        "object": definition,
        "runs": runs,
        "scope": reports.describe_scope(definition.scope),
        "next_span": span,
        "next_emailed": selectors.report_already_emailed(
            definition=definition, period_key=span.key
        ),
        "can_change": can_run,
        "can_delete": can(request.user, "delete", definition),
        "can_download": can(request.user, "view", ReportFile),
        "run_form": run_form or (RunReportForm() if can_run else None),
        "time_zone": settings.TIME_ZONE,
        "pending": pending,
        "requested_at": requested if pending else "",
    }
    return render(request, "finance/report_detail.html", context, status=status)


@register_model_view("detail")
class ReportDetailView(ObjectMixin, View):
    http_method_names = ["get", "head"]

    queryset = ReportDefinition.objects.select_related("periodic_task__crontab", "created_by")

    def get(self, request, *args, **kwargs):
        return report_page(request, self.get_object())


@register_model_view("add", "edit")
class ReportEditView(ObjectEditView):
    model = ReportDefinition
    form_class = ReportDefinitionForm
    save_function = services.save_report_definition


@register_model_view("delete")
class ReportDeleteView(ObjectDeleteView):
    model = ReportDefinition
    remove_function = services.delete_report_definition


class ReportRunView(ObjectActionView):
    """Run now, in the background; the page lists the run when it is done."""

    model = ReportDefinition

    def perform(self, definition):
        self.form = RunReportForm(self.request.POST)
        if not self.form.is_valid():
            raise ValidationError("The form says what is missing.")
        return services.queue_report_run(
            definition=definition,
            resend=self.form.cleaned_data["resend"],
            period=self.form.cleaned_data["period"],
            user=self.request.user,
        )

    def failed(self, definition, exc):
        if self.form.is_valid():  # refused by services: said beside the fields it names
            add_service_errors(self.form, exc)
        return report_page(self.request, definition, run_form=self.form, status=422)

    def done(self, definition, queued):
        period = self.form.cleaned_data["period"]
        what = period or services.resolve_report_period(selector=definition.period_selector).key
        if services.is_sent(queued):
            messages.success(
                self.request,
                f"“{definition}” for {what} is running in the background: its files appear "
                "below when it is done.",
            )
        else:
            messages.warning(
                self.request,
                f"“{definition}” for {what} is queued; it will run when the job queue is back "
                "(within a minute of it): its files then appear below.",
            )
        requested = int(timezone.now().timestamp())  # the runs list follows runs from then
        return redirect_after_write(
            self.request, f"{definition.get_absolute_url()}?requested={requested}#runs"
        )


class ReportDownloadView(ObjectMixin, View):
    http_method_names = ["get", "head"]

    queryset = ReportFile.objects.select_related("run__definition")

    def get(self, request, *args, **kwargs):
        report_file = self.get_object()
        response = HttpResponse(bytes(report_file.content), content_type=report_file.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=report_file.filename
        )
        response["Content-Length"] = str(report_file.size)
        return response


# --- Customer statements ---------------------------------------------------------------------

# A file of statements is made while the browser waits: bounded.
STATEMENT_FILES_MAX = 500
STATEMENT_FORMATS = ("pdf", "xlsx")


def statement_file_response(pack, fmt: str) -> HttpResponse:
    rendered = statement_reports.render(pack, fmt)
    response = HttpResponse(rendered.content, content_type=rendered.content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=rendered.filename
    )
    response["Content-Length"] = str(len(rendered.content))
    return response


def bad_download(fmt: str) -> HttpResponse | None:
    if fmt in STATEMENT_FORMATS:
        return None
    return HttpResponse(
        f"download: {fmt!r} is not a format of statements; choose pdf or xlsx.",
        status=400,
        content_type="text/plain; charset=utf-8",
    )


@register_model_view("list")
class StatementListView(ObjectListView):
    """Every customer statement the user may see, of its period's current version; the
    filtered set downloads as one PDF or XLSX (``?download=``), the list as CSV or XLSX."""

    filterset_class = StatementFilterSet
    table_class = StatementTable
    template_name = "finance/statement_list.html"
    title = "Customer statements"
    show_add = False
    export_name = "customer-statements"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(version=F("period__current_version"))
            .select_related("period", "customer", "customer__relationship_manager")
        )

    def get_extra_context(self):
        query = self.request.GET.copy()
        for name in ("page", "per_page", "sort", "export", "download"):
            query.pop(name, None)
        return {
            "section": "statements",
            "download_query": query.urlencode(),
            "download_limit": STATEMENT_FILES_MAX,
            "restated": self.restated(),
        }

    def restated(self) -> dict | None:
        """The filter's period, when restated: what its current version changed per customer."""
        label = self.request.GET.get("period", "").strip()
        try:
            year, month = parse_label(label)
        except ValidationError:
            return None
        period = Period.objects.filter(year=year, month=month).first()
        if period is None:
            return None
        visible = CustomerStatement.objects.restrict(self.request.user, "view")
        return selectors.customer_differences(period=period, statements=visible)

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("download")
        if fmt is None:
            return super().get(request, *args, **kwargs)
        if refused := bad_download(fmt):
            return refused
        filterset = self.filterset_class(request.GET, self.get_queryset(), request=request)
        if not filterset.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
            )
            return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
        statements = selectors.with_lines(filterset.qs.order_by("customer__name", "period__serial"))
        count = statements.count()
        if count > STATEMENT_FILES_MAX:
            return HttpResponse(
                f"download: {count} statements match; a file holds at most "
                f"{STATEMENT_FILES_MAX}. Narrow the filters (period, customer, relationship "
                "manager).",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        period = filterset.form.cleaned_data.get("period") or ""
        described = [
            f"{filterset.form.fields[name].label}: {value}"
            for name, value in request.GET.items()
            if name in filterset.form.fields and value.strip()
        ]
        pack = statement_reports.pack_for(
            statements,
            title=period.strip() or "every period",
            subtitle="Statements list · " + ("; ".join(described) or "no filter"),
            key=f"customer-statements-{period.strip() or 'all'}",
        )
        return statement_file_response(pack, fmt)


@register_model_view("detail")
class StatementDetailView(ObjectMixin, View):
    """One customer's statement in one period and version: its lines with their lineage, the
    totals, and what a restatement changed against the version before."""

    http_method_names = ["get", "head"]
    model = CustomerStatement

    def get_queryset(self):
        return selectors.with_lines(CustomerStatement.objects.all())

    def get(self, request, *args, **kwargs):
        statement = self.get_object()
        fmt = request.GET.get("download")
        if fmt is not None:
            if refused := bad_download(fmt):
                return refused
            pack = statement_reports.pack_for(
                [statement],
                title=f"{statement.customer.name} · {statement.period.label}",
                subtitle=f"Version {statement.version}",
                key=(
                    f"statement-{statement.customer.slug}-{statement.period.label}"
                    f"-v{statement.version}"
                ),
            )
            return statement_file_response(pack, fmt)
        versions = list(
            CustomerStatement.objects.filter(
                period_id=statement.period_id, customer_id=statement.customer_id
            )
            .order_by("version")
            .values_list("pk", "version")
        )
        context = {
            "object": statement,
            "statement": statement,
            "lines": selectors.prepare_lines(statement),
            "change": selectors.statement_change(statement),
            "versions": versions,
            "is_current": statement.version == statement.period.current_version,
            "list_url": reverse("finance:statement_list"),
        }
        return render(request, "finance/statement_detail.html", context)


# --- Service review packs ---------------------------------------------------------------------

REVIEW_PACK_FORMATS = ("xlsx", "pdf")


class ReviewPackView(ObjectMixin, View):
    """A customer's service review pack for a month or fiscal quarter (``?period=2026-10``,
    ``2026-Q3``; by default last month), as a page, an XLSX workbook or a PDF
    (``?format=``)."""

    http_method_names = ["get", "head"]
    model = Customer

    def get(self, request, *args, **kwargs):
        customer = self.get_object()
        text = request.GET.get("period", "").strip()
        if text:
            try:
                span = parse_report_period(text)
            except ValidationError as exc:
                return HttpResponse(
                    " ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8"
                )
            if span.kind == "year":
                return HttpResponse(
                    "A review pack covers a month or a fiscal quarter, not a fiscal year.",
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
        else:
            today = timezone.localdate()
            span = span_containing("month", month_serial(today.year, today.month) - 1)
        pack = review_packs.review_pack(customer=customer, span=span)
        fmt = request.GET.get("format")
        if fmt is not None:
            if fmt not in REVIEW_PACK_FORMATS:
                return HttpResponse(
                    f"format: {fmt!r} is not a format of review packs; choose pdf or xlsx.",
                    status=400,
                    content_type="text/plain; charset=utf-8",
                )
            rendered = review_pack_reports.render(review_pack_reports.one(pack), fmt)
            response = HttpResponse(rendered.content, content_type=rendered.content_type)
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=rendered.filename
            )
            return response
        return render(request, "finance/review_pack.html", {"pack": pack, "object": customer})
