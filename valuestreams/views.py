from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    add_service_errors,
    redirect_after_write,
)
from core.permissions import can, require
from portfolio.choices import ServiceKind
from valuestreams import maps, selectors, services
from valuestreams.choices import ImprovementStatus, ProcessLayer
from valuestreams.filtersets import ProcessFilterSet, ValueStreamFilterSet
from valuestreams.forms import (
    ImprovementForm,
    ImprovementStatusForm,
    ProcessForm,
    StageForm,
    ValueStreamForm,
)
from valuestreams.models import Improvement, Process, ProcessConnection, Stage, ValueStream
from valuestreams.tables import ProcessTable, ValueStreamTable

DETAIL_TEMPLATE = "valuestreams/valuestream_detail.html"

# --- Value streams -----------------------------------------------------------------------------


class ValueStreamListView(ObjectListView):
    model = ValueStream
    filterset_class = ValueStreamFilterSet
    table_class = ValueStreamTable
    template_name = "valuestreams/valuestream_list.html"
    add_url_name = "valuestreams:valuestream_add"
    export_name = "value-streams"

    def get_queryset(self):
        return selectors.with_measures(super().get_queryset().select_related("owner", "customer"))


def stream_queryset():
    return ValueStream.objects.select_related(
        "owner", "customer", "current_state", "current_state__owner"
    )


def map_context(value_stream, stages) -> dict:
    measures = selectors.flow_measures(stages)
    costs = selectors.stream_costs(stages)
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


class ValueStreamDetailView(ObjectDetailView):
    model = ValueStream
    lookup_field = lookup_url_kwarg = "slug"
    template_name = DETAIL_TEMPLATE

    def get_queryset(self):
        return stream_queryset()

    def get_extra_context(self, value_stream):
        can_change = can(self.request.user, "change", value_stream)
        return {
            **stream_page_context(self.request, value_stream, can_change=can_change),
            **stream_page_extras(self.request, value_stream),
        }


class ValueStreamEditView(ObjectEditView):
    model = ValueStream
    form_class = ValueStreamForm
    lookup_field = lookup_url_kwarg = "slug"

    def save(self, form):
        return services.save_value_stream(
            value_stream=form.save(commit=False), user=self.request.user
        )


class ValueStreamDeleteView(ObjectDeleteView):
    model = ValueStream
    lookup_field = lookup_url_kwarg = "slug"
    list_url_name = "valuestreams:valuestream_list"

    def delete(self, obj):
        return services.remove_value_stream(value_stream=obj)


@login_required
@require_POST
def future_state_create(request, slug: str):
    current = get_object_or_404(ValueStream, slug=slug)
    require(request.user, "change", current)
    try:
        with transaction.atomic():
            future = services.create_future_state(current=current)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect_after_write(request, current.get_absolute_url())
    messages.success(request, f"Created the future state “{future}”: redesign its stages.")
    return redirect_after_write(request, future.get_absolute_url())


@login_required
@require_GET
def map_svg(request, slug: str):
    """The value stream map as a standalone SVG file to download."""
    value_stream = get_object_or_404(ValueStream, slug=slug)
    require(request.user, "view", value_stream)
    stages = selectors.stages_of(value_stream)
    svg = maps.draw(map_context(value_stream, stages)["map"], standalone=True)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{value_stream.slug}-map.svg"'
    return response


# --- Stages: edited in place, the map and the totals follow --------------------------------------


def editable_stream(request, slug: str) -> ValueStream:
    value_stream = stream_queryset().filter(slug=slug).first()
    if value_stream is None:
        raise Http404("No such value stream")
    require(request.user, "change", value_stream)
    return value_stream


def stages_response(
    request, value_stream, *, changed: bool, status: int = 200, show_page: bool = False, **forms
):
    """The answer to a stage request. With htmx: the stage list, plus the map and the totals
    swapped out of band when something changed. Without: a redirect to the page after a
    change, else the page itself (showing a form, or a form with its errors)."""
    if not request.htmx and status == 200 and not show_page:
        return HttpResponseRedirect(value_stream.get_absolute_url() + "#stages")
    context = stream_page_context(request, value_stream, can_change=True, **forms)
    if not request.htmx:
        context.update(stream_page_extras(request, value_stream))
        return render(request, DETAIL_TEMPLATE, context, status=status)
    parts = [render_to_string(f"{DETAIL_TEMPLATE}#stages", context, request)]
    if changed:
        context["oob"] = True
        parts.append(render_to_string(f"{DETAIL_TEMPLATE}#map", context, request))
        parts.append(render_to_string(f"{DETAIL_TEMPLATE}#totals", context, request))
    return HttpResponse("".join(parts), status=status)


@login_required
def stage_add(request, slug: str):
    """GET: the stage list with an empty form (the page, without JavaScript). POST: add the
    stage, and keep an empty form open for the next one."""
    value_stream = editable_stream(request, slug)
    if request.method == "GET":
        form = new_stage_form(request, value_stream)
        return stages_response(
            request, value_stream, changed=False, show_page=True, stage_form=form
        )
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = new_stage_form(request, value_stream, request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                services.add_stage(
                    stage=form.save(commit=False),
                    services=form.cleaned_data["services"],
                    applications=form.cleaned_data["applications"],
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return stages_response(
                request,
                value_stream,
                changed=True,
                stage_form=new_stage_form(request, value_stream),
            )
    return stages_response(request, value_stream, changed=False, status=422, stage_form=form)


@login_required
def stage_edit(request, slug: str, pk: int):
    value_stream = editable_stream(request, slug)
    stage = get_object_or_404(Stage, pk=pk, value_stream=value_stream)
    if request.method == "GET":
        form = StageForm(instance=stage, user=request.user, prefix=f"stage-{stage.pk}")
        return stages_response(
            request, value_stream, changed=False, show_page=True, editing=stage.pk, edit_form=form
        )
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    form = StageForm(request.POST, instance=stage, user=request.user, prefix=f"stage-{stage.pk}")
    if form.is_valid():
        try:
            with transaction.atomic():
                services.save_stage(
                    stage=form.save(commit=False),
                    services=form.cleaned_data["services"],
                    applications=form.cleaned_data["applications"],
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return stages_response(request, value_stream, changed=True)
    return stages_response(
        request, value_stream, changed=False, status=422, editing=stage.pk, edit_form=form
    )


@login_required
@require_POST
def stage_move(request, slug: str, pk: int, direction: str):
    value_stream = editable_stream(request, slug)
    stage = get_object_or_404(Stage, pk=pk, value_stream=value_stream)
    with transaction.atomic():
        services.move_stage(stage=stage, offset=-1 if direction == "up" else 1)
    return stages_response(request, value_stream, changed=True)


@login_required
@require_POST
def stage_remove(request, slug: str, pk: int):
    value_stream = editable_stream(request, slug)
    stage = get_object_or_404(Stage, pk=pk, value_stream=value_stream)
    with transaction.atomic():
        services.remove_stage(stage=stage)
    return stages_response(request, value_stream, changed=True)


# --- Processes ---------------------------------------------------------------------------------


class ProcessListView(ObjectListView):
    model = Process
    filterset_class = ProcessFilterSet
    table_class = ProcessTable
    template_name = "valuestreams/process_list.html"
    add_url_name = "valuestreams:process_add"
    export_name = "processes"

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


class ProcessDetailView(ObjectDetailView):
    model = Process
    template_name = "valuestreams/process_detail.html"

    def get_queryset(self):
        return Process.objects.select_related("value_stream", "value_stream__customer")

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


class ProcessDeleteView(ObjectDeleteView):
    model = Process
    list_url_name = "valuestreams:process_list"

    def delete(self, obj):
        services.remove_process(process=obj)
        return "deleted"


@login_required
@require_POST
def connection_remove(request, pk: int, connection_pk: int):
    process = get_object_or_404(Process, pk=pk)
    require(request.user, "change", process)
    connection = get_object_or_404(
        ProcessConnection,
        Q(process=process) | Q(connected_to=process),
        pk=connection_pk,
    )
    with transaction.atomic():
        services.disconnect_processes(connection=connection)
    return redirect_after_write(request, process.get_absolute_url() + "#connections")


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
        .only("slug", "name"),
        "status_choices": ImprovementStatus.choices,
        "errors": errors or {},
        "can_suggest": can(request.user, "add", Improvement),
    }


@login_required
@require_GET
def improvement_board(request):
    """Readable by anyone signed in (see selectors.improvement_board)."""
    template = "valuestreams/improvement_board.html"
    if request.htmx and not request.htmx.boosted:
        template += "#board"
    return render(request, template, board_context(request))


@login_required
@require_POST
def improvement_status(request, pk: int):
    """Move an item on the board (the stream's owner and Portfolio managers)."""
    improvement = get_object_or_404(Improvement, pk=pk)
    require(request.user, "change", services.decided(improvement))
    form = ImprovementStatusForm(request.POST)
    errors = {}
    if form.is_valid():
        try:
            with transaction.atomic():
                services.set_improvement_status(
                    improvement=improvement,
                    status=form.cleaned_data["status"],
                    measured_before=form.cleaned_data["measured_before"],
                    measured_after=form.cleaned_data["measured_after"],
                )
        except ValidationError as exc:
            errors[improvement.pk] = exc.messages
    else:
        errors[improvement.pk] = [e for field in form.errors.values() for e in field]
    status = 422 if errors else 200
    if not request.htmx:
        if not errors:
            return HttpResponseRedirect(improvement.get_absolute_url())
        return render(
            request,
            "valuestreams/improvement_board.html",
            board_context(request, errors=errors),
            status=status,
        )
    return render(
        request,
        "valuestreams/improvement_board.html#board",
        board_context(request, errors=errors),
        status=status,
    )


class ImprovementEditView(ObjectEditView):
    model = Improvement
    form_class = ImprovementForm

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

    def save(self, form):
        return services.save_improvement(improvement=form.save(commit=False))


class ImprovementDeleteView(ObjectDeleteView):
    model = Improvement
    list_url_name = "valuestreams:improvement_board"

    def delete(self, obj):
        services.remove_improvement(improvement=obj)
        return "deleted"


# --- Service ownership -------------------------------------------------------------------------


@login_required
@require_GET
def ownership_report(request):
    require(request.user, "view", ValueStream)
    rows = selectors.service_ownership(user=request.user)
    return render(
        request,
        "valuestreams/ownership_report.html",
        {
            "misplaced": [row for row in rows if row.misplaced],
            "rows": rows,
            "steps": selectors.RESOLUTION_STEPS,
        },
    )


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
