from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.db.models import Q
from django.http import HttpResponse
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views import View

from core.generic import ChildActionView
from core.generic import ChildDeleteView
from core.generic import ChildEditView
from core.generic import ObjectActionView
from core.generic import ObjectDeleteView
from core.generic import ObjectDetailView
from core.generic import ObjectEditView
from core.generic import ObjectListView
from core.generic import ObjectMixin
from core.generic import PageView
from core.generic import SectionMixin
from core.generic import record_pages
from core.generic import redirect_after_write
from core.generic import register_model_view
from core.permissions import can
from core.permissions import require
from portfolio.choices import ServiceKind
from valuestreams import maps
from valuestreams import selectors
from valuestreams import services
from valuestreams.choices import ImprovementStatus
from valuestreams.choices import ProcessLayer
from valuestreams.filtersets import ProcessFilterSet
from valuestreams.filtersets import ValueStreamFilterSet
from valuestreams.filtersets import VerbListFilterSet
from valuestreams.forms import ImprovementForm
from valuestreams.forms import ImprovementStatusForm
from valuestreams.forms import ProcessForm
from valuestreams.forms import StageForm
from valuestreams.forms import ValueStreamForm
from valuestreams.forms import VerbListForm
from valuestreams.models import Improvement
from valuestreams.models import Process
from valuestreams.models import ProcessConnection
from valuestreams.models import Stage
from valuestreams.models import ValueStream
from valuestreams.models import VerbList
from valuestreams.tables import ProcessTable
from valuestreams.tables import ValueStreamTable
from valuestreams.tables import VerbListTable

DETAIL_TEMPLATE = "valuestreams/valuestream_detail.html"

# --- Value streams -----------------------------------------------------------------------------


@register_model_view("list")
class ValueStreamListView(ObjectListView):
    filterset_class = ValueStreamFilterSet
    table_class = ValueStreamTable

    def get_queryset(self):
        streams = super().get_queryset().select_related("owner", "customer")
        return selectors.with_costs(selectors.with_measures(streams))

    def get_extra_context(self) -> dict:
        return {"stream_totals": selectors.stream_totals()}


def stream_queryset():
    return ValueStream.objects.select_related(
        "owner", "customer", "current_state", "current_state__owner"
    )


def map_context(value_stream, stages) -> dict:
    measures = selectors.flow_measures(stages)
    costs = selectors.stream_costs(value_stream, stages)
    return {
        "measures": measures,
        "costs": costs,
        "map": maps.layout(value_stream, stages, measures, costs),
    }


def stream_page_context(
    request,
    value_stream: ValueStream,
    *,
    can_change: bool,
    stage_form=None,
    editing=None,
    edit_form=None,
) -> dict:
    """Everything the value stream page shows; the number of queries does not depend on the
    number of stages."""
    stages = selectors.stages_of(value_stream)
    context = {
        "object": value_stream,
        "can_change": can_change,
        "stages": stages,
        **map_context(value_stream, stages),
        "editing": editing,
        "edit_form": edit_form,
    }
    if value_stream.is_future_state:
        current = value_stream.current_state
        current_stages = selectors.stages_of(current)
        current_context = map_context(current, current_stages)
        context.update(
            current=current,
            current_map=current_context["map"],
            differences=selectors.measure_differences(
                current=current_context["measures"], future=context["measures"]
            ),
        )
    else:
        context["future_states"] = list(
            value_stream.future_states.filter(retired_at__isnull=True).order_by("name")
        )
    context["stage_form"] = stage_form if can_change else None
    if can_change:
        add_stage_action_urls(value_stream, stages)
    return context


STAGE_ACTIONS = ("edit", "up", "down", "remove")
PK_PLACEHOLDER = 987654321


def add_stage_action_urls(value_stream, stages) -> None:
    """Give each stage ``action_urls`` (edit, up, down, remove): reversed once per action and
    filled in per stage, since a long stream would otherwise spend most of its rendering time
    in {% url %}."""
    patterns = {
        action: reverse(f"valuestreams:stage_{action}", args=[value_stream.slug, PK_PLACEHOLDER])
        for action in STAGE_ACTIONS
    }
    for stage in stages:
        pk = str(stage.pk)
        stage.action_urls = {
            action: pattern.replace(str(PK_PLACEHOLDER), pk) for action, pattern in patterns.items()
        }


def new_stage_form(request, value_stream, data=None) -> StageForm:
    return StageForm(
        data, instance=Stage(value_stream=value_stream), user=request.user, prefix="new"
    )


def stream_page_extras(request, value_stream) -> dict:
    """The parts of the page htmx stage edits never change: processes and improvements."""
    return {
        "can_delete": can(request.user, "delete", value_stream),
        "processes": list(value_stream.processes.order_by("layer", "name")),
        "open_improvements": selectors.open_improvements(value_stream),
        "may_suggest": can(
            request.user,
            "add",
            Improvement(value_stream=value_stream, suggested_by_id=request.user.pk),
        ),
    }


@register_model_view("detail")
class ValueStreamDetailView(ObjectDetailView):
    queryset = stream_queryset()

    def get_extra_context(self, value_stream):
        can_change = can(self.request.user, "change", value_stream)
        return {
            **stream_page_context(self.request, value_stream, can_change=can_change),
            **stream_page_extras(self.request, value_stream),
        }


@register_model_view("add", "edit")
class ValueStreamEditView(ObjectEditView):
    model = ValueStream
    form_class = ValueStreamForm
    save_function = services.save_value_stream


@register_model_view("delete")
class ValueStreamDeleteView(ObjectDeleteView):
    model = ValueStream
    remove_function = services.remove_value_stream


class FutureStateCreateView(ObjectActionView):
    """A future-state variant of the stream: a copy of its stages to redesign."""

    model = ValueStream
    perform_function = services.create_future_state

    def done(self, current, future):
        messages.success(self.request, f"Created the future state “{future}”: redesign its stages.")
        return redirect_after_write(self.request, future.get_absolute_url())


class MapSvgView(ObjectMixin, View):
    """The value stream map as a standalone SVG file to download."""

    http_method_names = ["get", "head"]
    model = ValueStream

    def get(self, request, *args, **kwargs):
        value_stream = self.get_object()
        stages = selectors.stages_of(value_stream)
        svg = maps.draw(map_context(value_stream, stages)["map"], standalone=True)
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{value_stream.slug}-map.svg"'
        return response


# --- Stages: edited in place, the map and the totals follow --------------------------------------


class StageSection(SectionMixin):
    """The stage list of the stream page. With htmx: the list, plus the map and the totals
    swapped out of band when something changed. Without: the page after a change, or the page
    itself showing a form (with its errors)."""

    section = "stages"
    model = Stage
    parent_field = "value_stream"

    parent_queryset = stream_queryset()

    def stages_response(self, value_stream, *, changed: bool, status=200, page=False, **forms):
        request = self.request
        if not request.htmx and not page:
            return HttpResponseRedirect(value_stream.get_absolute_url() + "#stages")
        context = stream_page_context(request, value_stream, can_change=True, **forms)
        if not request.htmx:
            context.update(stream_page_extras(request, value_stream), **record_pages(value_stream))
            return render(request, DETAIL_TEMPLATE, context, status=status)
        parts = [render_to_string(f"{DETAIL_TEMPLATE}#stages", context, request)]
        if changed:
            context["oob"] = True
            parts.append(render_to_string(f"{DETAIL_TEMPLATE}#map", context, request))
            parts.append(render_to_string(f"{DETAIL_TEMPLATE}#totals", context, request))
        return HttpResponse("".join(parts), status=status)

    def section_response(self, parent, *, form=None, row=None, status=200, anchor=""):
        return self.stages_response(parent, changed=True)


@register_model_view("add", "edit")
class StageEditView(StageSection, ChildEditView):
    """GET: the stage list with the form open (the page, without JavaScript). POST: save the
    stage; after adding one, an empty form stays open for the next."""

    form_class = StageForm

    def get_form(self, stage, data=None):
        prefix = f"stage-{stage.pk}" if stage.pk else "new"
        return self.form_class(data, instance=stage, user=self.request.user, prefix=prefix)

    def forms(self, stage, form) -> dict:
        if stage.pk:
            return {"editing": stage.pk, "edit_form": form}
        return {"stage_form": form}

    def form_response(self, value_stream, stage, form, status: int = 200):
        return self.stages_response(
            value_stream, changed=False, status=status, page=True, **self.forms(stage, form)
        )

    def saved_response(self, value_stream, stage):
        forms = {}
        if "pk" not in self.kwargs:
            forms["stage_form"] = self.get_form(self.new_row(value_stream))
        return self.stages_response(value_stream, changed=True, **forms)

    def save(self, form):
        return services.save_stage(
            stage=form.save(commit=False),
            services=form.cleaned_data["services"],
            applications=form.cleaned_data["applications"],
            weights=form.weights,
        )


class StageMoveView(StageSection, ChildActionView):
    def perform(self, stage) -> None:
        services.move_stage(stage=stage, offset=-1 if self.kwargs["direction"] == "up" else 1)


@register_model_view("remove")
class StageRemoveView(StageSection, ChildDeleteView):
    remove_function = services.remove_stage


# --- Processes ---------------------------------------------------------------------------------


@register_model_view("list")
class ProcessListView(ObjectListView):
    filterset_class = ProcessFilterSet
    table_class = ProcessTable

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("value_stream")
            .annotate(moment_count=Count("stages", filter=Q(stages__moment_of_truth=True)))
        )

    def get_extra_context(self):
        user = self.request.user
        return {
            "checks": selectors.process_model_checks(user=user),
            "layers": ProcessLayer.choices,
            "can_add": can(user, "add", Process),
        }


@register_model_view("detail")
class ProcessDetailView(ObjectDetailView):
    queryset = Process.objects.select_related("value_stream", "value_stream__customer")

    def get_extra_context(self, process):
        stages = list(process.stages.order_by("position"))
        connections = [
            (c.connected_to, c)
            for c in process.connections_out.select_related(
                "connected_to", "connected_to__value_stream"
            )
        ] + [
            (c.process, c)
            for c in process.connections_in.select_related("process", "process__value_stream")
        ]
        connections.sort(key=lambda pair: (pair[0].layer, pair[0].name))
        others = Process.objects.exclude(pk=process.pk).only("id", "name", "activities")
        duplicates = [
            finding
            for finding in selectors.duplicate_activity_findings([process, *others])
            if process in finding.related
        ]
        return {
            "stages": stages,
            "moments": [stage for stage in stages if stage.moment_of_truth],
            "connections": connections,
            "purpose_problems": selectors.purpose_problems(process),
            "duplicates": duplicates,
            "requirement_5": selectors.REQUIREMENT_5,
            "requirement_9": selectors.REQUIREMENT_9,
            "layers": ProcessLayer.choices,
        }


@register_model_view("add", "edit")
class ProcessEditView(ObjectEditView):
    model = Process
    form_class = ProcessForm

    def get_object(self):
        process = super().get_object()
        if process.pk is None:
            slug = self.request.GET.get("value_stream")
            process.value_stream = ValueStream.objects.filter(slug=slug).first()
        return process

    def save(self, form):
        process = form.save(commit=False)
        return services.save_process(
            process=process,
            stages=form.cleaned_data["stages"],
            connected_to=form.cleaned_data["connected_to"],
        )


@register_model_view("delete")
class ProcessDeleteView(ObjectDeleteView):
    model = Process
    remove_function = services.remove_process


@register_model_view("remove")
class ConnectionRemoveView(ChildDeleteView):
    """Remove a connection of the process, whichever end of it the process is."""

    model = ProcessConnection
    remove_function = services.disconnect_processes
    parent_model = Process
    parent_lookup = "pk"
    parent_kwarg = "process_pk"

    def get_parent(self):
        # Removed from the page of a process one may change (either end's owner may).
        process = super().get_parent()
        require(self.request.user, "change", process)
        return process

    def get_row_queryset(self, process):
        return ProcessConnection.objects.filter(Q(process=process) | Q(connected_to=process))

    def section_response(self, process, *, form=None, row=None, status=200, anchor=""):
        return redirect_after_write(self.request, process.get_absolute_url() + "#connections")


# --- Improvement log ---------------------------------------------------------------------------


def board_context(request, *, errors: dict | None = None) -> dict:
    value_stream = None
    slug = request.GET.get("value_stream") or request.POST.get("board_value_stream")
    if slug:
        value_stream = ValueStream.objects.filter(slug=slug).first()
    columns = selectors.improvement_board(user=request.user, value_stream=value_stream)
    for column in columns:
        for item in column.items:
            item.errors = (errors or {}).get(item.pk, [])
    return {
        "columns": columns,
        "board_stream": value_stream,
        "streams": ValueStream.objects.filter(retired_at__isnull=True)
        .order_by("name")
        .only("slug", "name", "translations"),
        "status_choices": ImprovementStatus.choices,
        "errors": errors or {},
        "can_suggest": can(request.user, "add", Improvement),
    }


class ImprovementBoardView(PageView):
    """Readable by anyone signed in (see selectors.improvement_board)."""

    template_name = "valuestreams/improvement_board.html"
    partial = "board"

    def get_context(self) -> dict:
        return board_context(self.request)


class ImprovementStatusView(ObjectActionView):
    """Move an item on the board: the stream's owner and Portfolio managers decide."""

    model = Improvement

    def get_object(self):
        improvement = super().get_object()
        require(self.request.user, "change", services.decided(improvement))
        return improvement

    def perform(self, improvement):
        form = ImprovementStatusForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError([e for field in form.errors.values() for e in field])
        return services.set_improvement_status(
            improvement=improvement,
            status=form.cleaned_data["status"],
            measured_before=form.cleaned_data["measured_before"],
            measured_after=form.cleaned_data["measured_after"],
        )

    def board(self, *, errors=None, status=200):
        template = "valuestreams/improvement_board.html"
        if self.request.htmx:
            template += "#board"
        return render(
            self.request, template, board_context(self.request, errors=errors), status=status
        )

    def failed(self, improvement, exc):
        return self.board(errors={improvement.pk: exc.messages}, status=422)

    def done(self, improvement, result):
        if not self.request.htmx:
            return HttpResponseRedirect(improvement.get_absolute_url())
        return self.board()


@register_model_view("add", "edit")
class ImprovementEditView(ObjectEditView):
    model = Improvement
    form_class = ImprovementForm
    save_function = services.save_improvement

    def get_object(self):
        improvement = super().get_object()
        if improvement.pk is None:
            user = self.request.user
            improvement.suggested_by = user
            improvement.value_stream = (
                ValueStream.objects.restrict(user, "view")
                .filter(slug=self.request.GET.get("value_stream"))
                .first()
            )
        return improvement

    def get_form(self, obj, data=None):
        user = self.request.user
        may_decide = obj.pk is not None and can(user, "change", services.decided(obj))
        return self.form_class(data, instance=obj, user=user, may_decide=may_decide)


@register_model_view("delete")
class ImprovementDeleteView(ObjectDeleteView):
    model = Improvement
    list_url_name = "valuestreams:improvement_board"
    remove_function = services.remove_improvement


# --- Service ownership -------------------------------------------------------------------------


class OwnershipReportView(PageView):
    model = ValueStream
    template_name = "valuestreams/ownership_report.html"

    def get_context(self) -> dict:
        rows = selectors.service_ownership(user=self.request.user)
        return {
            "misplaced": [row for row in rows if row.misplaced],
            "rows": rows,
            "steps": selectors.RESOLUTION_STEPS,
        }


def service_panel_context(request, service) -> dict:
    """The value streams and stages a service underpins, for the service page (one query)."""
    uses = selectors.streams_underpinned_by(service, user=request.user)
    ownership = selectors.ServiceOwnership(
        service=service,
        streams=[
            use.value_stream
            for use in uses
            if not use.value_stream.is_future_state and not use.value_stream.is_retired
        ],
    )
    return {
        "uses": uses,
        "misplaced": service.kind == ServiceKind.CUSTOMER_FACING and ownership.misplaced,
        "candidates": ownership.accountable_candidates,
        "report_url": reverse("valuestreams:ownership_report"),
    }


# --- The verb lists of the verb rule -------------------------------------------------------------


@register_model_view("list")
class VerbListListView(ObjectListView):
    filterset_class = VerbListFilterSet
    table_class = VerbListTable
    title = "Verb lists"


@register_model_view("detail")
class VerbListDetailView(ObjectDetailView):
    queryset = VerbList.objects.all()


@register_model_view("add", "edit")
class VerbListEditView(ObjectEditView):
    model = VerbList
    form_class = VerbListForm
    save_function = services.save_verb_list


@register_model_view("delete")
class VerbListDeleteView(ObjectDeleteView):
    model = VerbList
    remove_function = services.remove_verb_list
