"""Pages of figures: the service page's performance panel (each functioning item's series as
a small chart, where a figure is added), the page of an item's or an outcome's full series
by month, fiscal quarter and fiscal year (figures added and removed there), the import of a
CSV file of figures, and the attention list."""

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectListView
from core.generic import ObjectMixin
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.permissions import can
from core.permissions import may_every
from core.permissions import require
from performance import charts
from performance import selectors
from performance import services
from performance.choices import SeriesGrain
from performance.choices import Standing
from performance.filtersets import AttentionItemFilterSet
from performance.filtersets import AttentionOutcomeFilterSet
from performance.forms import MeasurementForm
from performance.forms import MeasurementImportForm
from performance.imports import ImportRefused
from performance.imports import import_measurements
from performance.models import Measurement
from performance.tables import AttentionItemTable
from performance.tables import AttentionOutcomeTable
from portfolio.choices import Dimension
from portfolio.models import Outcome
from portfolio.models import Service
from portfolio.models import SpecificationItem
from portfolio.selectors import service_ids_of

# The small charts of the service page show the last two years.
PANEL_MONTHS = 24
PANEL = "performance/inc/service_panel.html"
SERIES = "performance/series.html"


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
    targets = selectors.targets_of(items)
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


class FigureAdding:
    """What adding a figure is, wherever it is added: the form, the services function, and
    a new figure of ``subject`` (an item or an outcome) for last month."""

    form_class = MeasurementForm
    save_function = services.save_measurement

    @staticmethod
    def new_figure(**subject) -> Measurement:
        start, end = last_month(timezone.localdate())
        return Measurement(**subject, start=start, end=end)


@register_model_view("add")
class FigureAddView(FigureSection, FigureAdding, ChildEditView):
    """Add a figure to a functioning item of the service (the item in the address)."""

    def new_row(self, service):
        item = service.items.filter(
            pk=self.kwargs["item_pk"], dimension=Dimension.FUNCTIONING
        ).first()
        if item is None:
            raise Http404("No such functioning item")
        return self.new_figure(item=item)


# --- The page of one item's or one outcome's figures ------------------------------------------


class SubjectPage:
    """The page of the figures of one ``kind`` of subject ("item" or "outcome"): a chart of
    them all with the target line, a table by month, fiscal quarter or fiscal year (``?by=``),
    and every figure, added and removed in place (its ``figures`` section)."""

    kind = "item"
    request: Any

    def series_context(self, subject, *, form=None) -> dict:
        grain = self.request.GET.get("by", SeriesGrain.MONTH)
        if grain not in SeriesGrain.values:
            grain = SeriesGrain.MONTH
        figures = list(selectors.series(**{self.kind: subject}).select_related("recorded_by"))
        targets = selectors.targets_of([subject], self.kind)[subject.pk]
        statuses = STATUSES[self.kind]([subject], timezone.localdate())
        return {
            "object": subject,
            "kind": self.kind,
            "status": statuses.get(subject.pk),
            "chart": charts.series_chart(figures, targets, large=True),
            "grain": grain,
            "grain_label": SeriesGrain(grain).label.lower(),
            "grains": SeriesGrain.choices,
            "periods": list(reversed(selectors.series_by(figures, grain))),
            "figures": list(reversed(figures)),
            "targets": [(day, target) for day, target in targets if day != datetime.date.min],
            "may_add": can(self.request.user, "change", subject),
            "form": form,
            "page_url": series_url(subject),
        }


STATUSES = {"item": selectors.statuses_of_items, "outcome": selectors.statuses_of_outcomes}
SUBJECTS = {
    "item": SpecificationItem.objects.filter(dimension=Dimension.FUNCTIONING).select_related(
        "service"
    ),
    "outcome": Outcome.objects.select_related(
        "subscription__customer", "subscription__service", "specification_item"
    ),
}


class SeriesView(SubjectPage, ObjectMixin):
    def get(self, request, *args, **kwargs):
        return render(request, SERIES, self.series_context(self.get_object()))


class ItemSeriesView(SeriesView):
    kind = "item"
    queryset = SUBJECTS[kind]


class OutcomeSeriesView(SeriesView):
    kind = "outcome"
    queryset = SUBJECTS[kind]


class SubjectFigures(SubjectPage):
    """The ``figures`` section of a subject's page (core.generic's sections), its subject
    named ``subject`` in the address; without JavaScript the page itself, at the section."""

    section = "figures"
    template_name = SERIES
    model = Measurement
    parent_lookup = "pk"
    parent_kwarg = "subject"

    @property
    def parent_field(self) -> str:
        return self.kind

    def get_parent_queryset(self):
        return SUBJECTS[self.kind].all()

    def section_context(self, subject, *, form=None, row=None) -> dict:
        return self.series_context(subject, form=form)

    def section_response(self, parent, *, form=None, row=None, status=200, anchor=""):
        if not self.request.htmx:
            return redirect_after_write(self.request, f"{series_url(parent)}#figures")
        return super().section_response(parent, form=form, row=row, status=status)  # type: ignore[misc]

    def form_response(self, parent, row, form, status: int = 200):
        if not self.request.htmx:
            return render(
                self.request, SERIES, self.series_context(parent, form=form), status=status
            )
        return super().form_response(parent, row, form, status=status)  # type: ignore[misc]


class SubjectFigureAddView(SubjectFigures, FigureAdding, ChildEditView):
    def new_row(self, subject):
        return self.new_figure(**{self.kind: subject})


class SubjectFigureRemoveView(SubjectFigures, ChildDeleteView):
    remove_function = services.remove_measurement


class ItemFigureAddView(SubjectFigureAddView):
    kind = "item"


class ItemFigureRemoveView(SubjectFigureRemoveView):
    kind = "item"


class OutcomeFigureAddView(SubjectFigureAddView):
    kind = "outcome"


class OutcomeFigureRemoveView(SubjectFigureRemoveView):
    kind = "outcome"


def series_url(subject) -> str:
    kind = "item" if isinstance(subject, SpecificationItem) else "outcome"
    return reverse(f"performance:{kind}_series", args=[subject.pk])


# --- Figures from a CSV file ------------------------------------------------------------------


class MeasurementImportView(LoginRequiredMixin, View):
    """Import a CSV of figures: the same function as ``manage.py import_measurements``
    (performance.imports), with the rules and rights of the API's sync; all lines are
    written or none, and a refusal names each line and column."""

    template_name = "performance/measurement_import.html"

    def get(self, request):
        require(request.user, "add", Measurement)
        return self.render_form(MeasurementImportForm())

    def post(self, request):
        require(request.user, "add", Measurement)
        form = MeasurementImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_measurements(
                    text=form.cleaned_data["file"],
                    source=form.cleaned_data["source"],
                    user=request.user,
                )
            except ImportRefused as refused:
                form.add_error(None, str(refused))
                for where, problems in refused.errors.items():
                    form.add_error(None, f"{where}: {' '.join(problems)}")
            else:
                messages.success(
                    request,
                    f"Figures imported: {result.created} created, {result.updated} updated, "
                    f"{result.unchanged} unchanged.",
                )
                return redirect_after_write(request, reverse("performance:attention_items"))
        return self.render_form(form, status=422)

    def render_form(self, form, status=200):
        context = {"form": form, "title": "Import figures"}
        return render(self.request, self.template_name, context, status=status)


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
        return {
            "query": self.request.GET.urlencode(),
            "may_import": can(self.request.user, "add", Measurement),
        }


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


# The missed targets a dashboard lists; the attention list has them all.
MISSED_SHOWN = 5


def dashboard_panel(request) -> dict:
    """The dashboard's performance panel: the signed-in owner's targets missed last month and
    stale, and the first of their missed targets; for whoever may change every service, the
    portfolio's counts and the first of its missed targets."""
    today = timezone.localdate()
    user = request.user
    every = may_every(user, "change", Service)
    missed = selectors.attention_items(today).filter(status=Standing.MISSED)
    mine = selectors.owner_summary(user, today)
    return {
        "mine": mine,
        "my_missed": (
            list(missed.filter(service__in=service_ids_of(user))[:MISSED_SHOWN])
            if mine.items
            else []
        ),
        "portfolio": selectors.attention_counts(today) if every else None,
        "missed": list(missed[:MISSED_SHOWN]) if every else [],
    }
