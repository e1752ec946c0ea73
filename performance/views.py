"""Pages of figures: the service page's performance panel (each functioning item's series as
a small chart, where a figure is added), an item's page with its full series by month,
fiscal quarter and fiscal year, and the attention list."""

import datetime

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectListView
from core.generic import ObjectMixin
from core.generic import register_model_view
from core.permissions import can
from core.permissions import may_every
from performance import charts
from performance import selectors
from performance import services
from performance.choices import SeriesGrain
from performance.filtersets import AttentionItemFilterSet
from performance.filtersets import AttentionOutcomeFilterSet
from performance.forms import MeasurementForm
from performance.models import Measurement
from performance.tables import AttentionItemTable
from performance.tables import AttentionOutcomeTable
from portfolio.choices import Dimension
from portfolio.models import Service
from portfolio.models import SpecificationItem

# The small charts of the service page show the last two years.
PANEL_MONTHS = 24
PANEL = "performance/inc/service_panel.html"


def last_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def service_panel_context(request, service, *, form=None, form_item_id=None) -> dict:
    """Each functioning item of the service with its status, its recent figures as a small
    chart, and whether the user may add a figure (four queries)."""
    today = timezone.localdate()
    items = list(
        selectors.with_item_status(
            service.items.filter(dimension=Dimension.FUNCTIONING), today
        ).order_by("aspect", "position", "id")
    )
    since = today - datetime.timedelta(days=31 * PANEL_MONTHS)
    figures = selectors.series_of_items([item.pk for item in items], since=since)
    targets = selectors.targets_of_items(items)
    may_add = can(request.user, "change", service)
    for item in items:
        item.chart = charts.series_chart(figures[item.pk], targets[item.pk])
        item.latest = figures[item.pk][-1] if figures[item.pk] else None
        item.form = form if item.pk == form_item_id else None
    return {"items": items, "may_add": may_add}


class FigureSection:
    """The performance panel of the service page (a section of core.generic)."""

    section = "performance"
    template_name = PANEL
    model = Measurement
    parent_model = Service
    parent_field = "item__service"

    def section_context(self, service, *, form=None, row=None) -> dict:
        item_id = row.item_id if row is not None else None
        context = service_panel_context(self.request, service, form=form, form_item_id=item_id)
        return {"object": service, "panel_context": context}


@register_model_view("add")
class FigureAddView(FigureSection, ChildEditView):
    """Add a figure to a functioning item of the service (the item in the address)."""

    form_class = MeasurementForm
    save_function = services.save_measurement

    def new_row(self, service):
        item = service.items.filter(
            pk=self.kwargs["item_pk"], dimension=Dimension.FUNCTIONING
        ).first()
        if item is None:
            raise Http404("No such functioning item")
        start, end = last_month(timezone.localdate())
        return Measurement(item=item, start=start, end=end)


@register_model_view("remove")
class FigureRemoveView(FigureSection, ChildDeleteView):
    remove_function = services.remove_measurement


class ItemSeriesView(ObjectMixin):
    """A functioning item's figures: a chart of them all with the target line, and a table by
    month, fiscal quarter or fiscal year (``?by=``). The item is edited on its service's page."""

    queryset = SpecificationItem.objects.filter(dimension=Dimension.FUNCTIONING).select_related(
        "service"
    )

    def get(self, request, *args, **kwargs):
        item = self.get_object()
        context = {"object": item, **self.series_context(item)}
        return render(request, "performance/item_series.html", context)

    def series_context(self, item) -> dict:
        grain = self.request.GET.get("by", SeriesGrain.MONTH)
        if grain not in SeriesGrain.values:
            grain = SeriesGrain.MONTH
        figures = list(selectors.series(item=item).select_related("recorded_by"))
        targets = selectors.targets_of_items([item])[item.pk]
        today = timezone.localdate()
        return {
            "status": selectors.statuses_of_items([item], today).get(item.pk),
            "chart": charts.series_chart(figures, targets, large=True),
            "grain": grain,
            "grain_label": SeriesGrain(grain).label.lower(),
            "grains": SeriesGrain.choices,
            "periods": list(reversed(selectors.series_by(figures, grain))),
            "figures": list(reversed(figures)),
            "targets": [(day, target) for day, target in targets if day != datetime.date.min],
            "may_add": can(self.request.user, "change", item),
        }


# --- The attention list -----------------------------------------------------------------------


class AttentionListView(ObjectListView):
    """The items (or outcomes) of the portfolio that need attention, filtered by owner,
    service, customer and value stream; the two lists link to each other."""

    template_name = "performance/attention.html"
    show_add = False
    selector = staticmethod(selectors.attention_items)

    def get_queryset(self):
        return self.selector(timezone.localdate()).restrict(self.request.user, "view")

    def get_extra_context(self) -> dict:
        return {"query": self.request.GET.urlencode()}


class AttentionItemListView(AttentionListView):
    filterset_class = AttentionItemFilterSet
    table_class = AttentionItemTable
    title = "Attention: functioning items"
    export_name = "attention-items"


class AttentionOutcomeListView(AttentionListView):
    filterset_class = AttentionOutcomeFilterSet
    table_class = AttentionOutcomeTable
    title = "Attention: Successful Customer Outcomes"
    export_name = "attention-outcomes"
    selector = staticmethod(selectors.attention_outcomes)


def dashboard_panel(request) -> dict:
    """The dashboard's performance panel: the signed-in owner's targets missed last month and
    stale; for whoever may change every service, the portfolio's counts."""
    today = timezone.localdate()
    user = request.user
    return {
        "mine": selectors.owner_summary(user, today),
        "portfolio": (
            selectors.attention_counts(today) if may_every(user, "change", Service) else None
        ),
    }
