"""The value stream map: where each box, line and label goes (``layout``), and the SVG drawn
from it (``draw``).

Pure geometry and drawing from already loaded stages and measures (no queries). Left to right:
the trigger, the stages (with their responsible party, %C&A and Moment-of-Truth mark), the
result and the totals; beneath each stage the services that underpin it, and under everything
the timeline ladder: lead time on the upper level, process time on the lower.

The SVG is written here rather than in a template: a map of 60 stages has some 2,000
elements, which string formatting draws in a few milliseconds and the template engine in tens.
Every text is escaped (``esc``); colours and sizes are inline attributes, so the SVG stands
alone as a downloaded file and draws the same on a canvas (the PNG download).
"""

import textwrap
from dataclasses import dataclass
from dataclasses import field
from html import escape
from typing import TypeVar

from django.utils.safestring import SafeString
from django.utils.safestring import mark_safe

from core.money import format_amount
from core.translations import translated
from valuestreams.selectors import FlowMeasures
from valuestreams.selectors import StreamCosts
from valuestreams.templatetags.valuestreams_tags import duration
from valuestreams.templatetags.valuestreams_tags import percent

T = TypeVar("T")

MARGIN = 16
TITLE_HEIGHT = 44
END_WIDTH = 150
STAGE_WIDTH = 168
GAP = 48
BOX_HEIGHT = 116
LINE_HEIGHT = 15
LADDER_STEP = 34
TOTALS_WIDTH = 230
TOTALS_ROW = 22
MAX_SERVICE_LINES = 12

NAME_CHARS = 22
LABEL_CHARS = 26
END_CHARS = 20

VALUE_CLASS_COLOURS = {
    "value_adding": "#2e7d32",
    "necessary": "#f9a825",
    "waste": "#c62828",
}


def wrap(text: str, width: int, lines: int) -> list[str]:
    """``text`` in at most ``lines`` lines of ``width`` characters, the last one cut with …"""
    wrapped = textwrap.wrap(" ".join(text.split()), width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = shorten(wrapped[-1] + " …", width)
    return wrapped


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def lines_at(texts: list[T], *, top: int, step: int = LINE_HEIGHT) -> list[tuple[int, T]]:
    return [(top + i * step, text) for i, text in enumerate(texts)]


@dataclass
class StageBox:
    stage: object
    number: int
    x: int
    name_lines: list[tuple[int, str]]
    responsible: str
    services: list[tuple[int, str, str]]  # (y, name, flag)
    colour: str
    process_time: str
    lead_time: str
    complete_accurate: str
    cost: str = ""

    @property
    def centre(self) -> int:
        return self.x + STAGE_WIDTH // 2

    @property
    def right(self) -> int:
        return self.x + STAGE_WIDTH


@dataclass
class EndBox:
    x: int
    label: str
    lines: list[tuple[int, str]]

    @property
    def right(self) -> int:
        return self.x + END_WIDTH

    @property
    def centre(self) -> int:
        return self.x + END_WIDTH // 2


@dataclass
class MapLayout:
    value_stream: object
    measures: FlowMeasures
    trigger: EndBox
    result: EndBox
    stages: list[StageBox]
    width: int
    height: int
    box_top: int
    services_top: int
    ladder_high: int
    ladder_low: int
    ladder_points: str
    totals_x: int
    totals: list[tuple[int, str, str]]
    arrows: list[tuple[int, int]] = field(default_factory=list)

    # Fixed offsets the template uses, so it needs no arithmetic.
    stage_width: int = STAGE_WIDTH
    end_width: int = END_WIDTH
    box_height: int = BOX_HEIGHT
    totals_width: int = TOTALS_WIDTH

    @property
    def svg(self) -> SafeString:
        """The map drawn inline, for a page."""
        return draw(self)

    @property
    def ends(self) -> list[EndBox]:
        return [self.trigger, self.result]

    @property
    def box_bottom(self) -> int:
        return self.box_top + BOX_HEIGHT

    @property
    def box_middle(self) -> int:
        return self.box_top + BOX_HEIGHT // 2

    @property
    def label_top(self) -> int:
        return self.box_top + 20

    @property
    def responsible_y(self) -> int:
        return self.box_top + 80

    @property
    def measure_y(self) -> int:
        return self.box_top + 102

    @property
    def band_y(self) -> int:
        return self.box_top

    @property
    def moment_y(self) -> int:
        return self.box_top - 2

    @property
    def services_label_y(self) -> int:
        return self.services_top - 6

    @property
    def lead_label_y(self) -> int:
        return self.ladder_high - 8

    @property
    def process_label_y(self) -> int:
        return self.ladder_low + 18

    @property
    def totals_height(self) -> int:
        return 36 + TOTALS_ROW * len(self.totals)


def layout(
    value_stream, stages, measures: FlowMeasures, costs: StreamCosts | None = None
) -> MapLayout:
    """The geometry of ``value_stream``'s map, for stages from selectors.stages_of.
    With ``costs``, each stage shows the cost it carries (selectors.stream_costs)."""
    box_top = MARGIN + TITLE_HEIGHT
    text_top = box_top + 40
    trigger = EndBox(
        MARGIN, "Trigger", lines_at(wrap(value_stream.trigger or "—", END_CHARS, 5), top=text_top)
    )
    services_top = box_top + BOX_HEIGHT + 30
    boxes = []
    x = trigger.right + GAP
    for number, stage in enumerate(stages, start=1):
        # A flagged service (retired or pipeline under a current state) is never hidden in
        # "+ n more": flagged ones come first when the list is cut.
        refs = sorted(stage.service_refs, key=lambda ref: not ref.flag)
        names = [(service.name, service.flag) for service in refs]
        if len(names) > MAX_SERVICE_LINES:
            names = [
                *names[: MAX_SERVICE_LINES - 1],
                (f"+ {len(names) - MAX_SERVICE_LINES + 1} more", ""),
            ]
        boxes.append(
            StageBox(
                stage=stage,
                number=number,
                x=x,
                name_lines=lines_at(wrap(stage.name, NAME_CHARS, 3), top=box_top + 24),
                responsible=shorten(stage.responsible_party, LABEL_CHARS),
                services=[
                    (y, shorten(name, LABEL_CHARS - (2 if flag else 0)), flag)
                    for y, (name, flag) in lines_at(names, top=services_top + 12)
                ],
                colour=VALUE_CLASS_COLOURS.get(stage.value_class, "#757575"),
                process_time=duration(stage.process_time_minutes),
                lead_time=duration(stage.lead_time_minutes),
                complete_accurate=percent(stage.complete_accurate),
                cost=stage_cost(costs, stage),
            )
        )
        x += STAGE_WIDTH + GAP
    if not boxes:
        x += STAGE_WIDTH + GAP  # room for the "no stages yet" note
    result = EndBox(
        x, "Result", lines_at(wrap(value_stream.result or "—", END_CHARS, 5), top=text_top)
    )
    totals_x = result.right + GAP

    service_lines = max((len(box.services) for box in boxes), default=0)
    ladder_high = services_top + max(service_lines, 1) * LINE_HEIGHT + 44
    ladder_low = ladder_high + LADDER_STEP

    points = [(trigger.centre, ladder_high)]
    for box in boxes:
        points += [
            (box.x, ladder_high),
            (box.x, ladder_low),
            (box.right, ladder_low),
            (box.right, ladder_high),
        ]
    points.append((result.x, ladder_high))

    arrows = []
    if boxes:
        lefts = [trigger.right, *(box.right for box in boxes)]
        rights = [*(box.x for box in boxes), result.x]
        arrows = list(zip(lefts, rights, strict=True))

    totals_rows = [
        ("Total lead time", duration(measures.lead_time)),
        ("Total process time", duration(measures.process_time)),
        ("Activity ratio", percent(measures.activity_ratio)),
        ("Rolled %C&A", percent(measures.rolled_complete_accurate)),
        ("Moments of Truth", str(measures.moments_of_truth)),
    ]
    if costs is not None and costs.period is not None:
        total = "—" if costs.total is None else format_amount(costs.total, costs.currency)
        label = f"Cost {costs.period}" + (" (what-if)" if costs.what_if else "")
        totals_rows.append((label, total))
    totals = [
        (box_top + 42 + i * TOTALS_ROW, label, value)
        for i, (label, value) in enumerate(totals_rows)
    ]
    return MapLayout(
        value_stream=value_stream,
        measures=measures,
        trigger=trigger,
        result=result,
        stages=boxes,
        width=totals_x + TOTALS_WIDTH + MARGIN,
        height=max(ladder_low + 40, box_top + 36 + TOTALS_ROW * len(totals) + MARGIN),
        box_top=box_top,
        services_top=services_top,
        ladder_high=ladder_high,
        ladder_low=ladder_low,
        ladder_points=" ".join(f"{px},{py}" for px, py in points),
        totals_x=totals_x,
        totals=totals,
        arrows=arrows,
    )


def stage_cost(costs: StreamCosts | None, stage) -> str:
    if costs is None or costs.period is None:
        return ""
    amount = costs.per_stage.get(stage.pk)
    return "" if amount is None else format_amount(amount, costs.currency)


# --- Drawing -------------------------------------------------------------------------------------

FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"
INK, MUTED, LINE = "#1b1f24", "#546e7a", "#455a64"
LEAD, PROCESS, MOMENT = "#b71c1c", "#1b5e20", "#6a1b9a"
FLAG = "#e65100"


def esc(text) -> str:
    return escape(str(text), quote=True)


def text(x, y, content, **attributes) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{value}"' for name, value in attributes.items())
    return f'<text x="{x}" y="{y}"{extra}>{esc(content)}</text>'


def plural(count: int) -> str:
    return "" if count == 1 else "s"


def draw(map: MapLayout, *, standalone: bool = False) -> SafeString:
    """The SVG of ``map``; ``standalone`` adds the XML declaration of a file of its own."""
    stream, m = map.value_stream, map.measures
    pk = stream.pk
    owner = stream.owner.get_full_name() or stream.owner.username
    subtitle = f"{stream.get_state_display()} · {stream.get_experience_display()} · owner {owner}"
    if stream.served:
        subtitle += f" · serves {stream.served}"
    description = (
        f"{m.stage_count} stage{plural(m.stage_count)}; total lead time "
        f"{duration(m.lead_time)}, total process time {duration(m.process_time)}, activity "
        f"ratio {percent(m.activity_ratio)}, rolled %C&A "
        f"{percent(m.rolled_complete_accurate)}, {m.moments_of_truth} "
        f"Moment{plural(m.moments_of_truth)} of Truth."
    )
    out = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vsm" id="map-svg-{pk}" '
        f'width="{map.width}" height="{map.height}" viewBox="0 0 {map.width} {map.height}" '
        f'role="img" aria-labelledby="map-title-{pk} map-desc-{pk}" '
        f'data-filename="{esc(stream.slug)}-map" font-family="{esc(FONT)}" font-size="12">'
        f'<title id="map-title-{pk}">Value stream map: {esc(translated(stream, "name"))}</title>'
        f'<desc id="map-desc-{pk}">{esc(description)}</desc>'
        f'<defs><marker id="vsm-arrow-{pk}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{LINE}"/></marker></defs>'
        f'<rect x="0" y="0" width="{map.width}" height="{map.height}" fill="#ffffff"/>'
    )
    out.append(
        text(MARGIN, 30, translated(stream, "name"), font_size=17, font_weight="bold", fill=INK)
    )
    out.append(text(MARGIN, 48, subtitle, font_size=11, fill=MUTED))
    for end in map.ends:
        out.append(
            f'<g class="vsm-end"><rect x="{end.x}" y="{map.box_top}" width="{END_WIDTH}" '
            f'height="{BOX_HEIGHT}" rx="18" fill="#e3f2fd" stroke="#1565c0" '
            f'stroke-width="1.5"/>'
        )
        out.append(text(end.x + 12, map.label_top, end.label, font_weight="bold", fill="#0d47a1"))
        out.extend(text(end.x + 12, y, line, fill=INK) for y, line in end.lines)
        out.append("</g>")
    for left, right in map.arrows:
        out.append(
            f'<line x1="{left}" y1="{map.box_middle}" x2="{right - 2}" y2="{map.box_middle}" '
            f'stroke="{LINE}" stroke-width="1.5" marker-end="url(#vsm-arrow-{pk})"/>'
        )
    for box in map.stages:
        out.append(draw_stage(map, box))
    if not map.stages:
        out.append(text(map.trigger.right + 24, map.box_middle, "No stages mapped yet", fill=MUTED))
    out.append(
        f'<polyline class="vsm-ladder" points="{map.ladder_points}" fill="none" '
        f'stroke="#263238" stroke-width="1.5"/>'
    )
    out.append(text(map.trigger.x, map.lead_label_y, "Lead time", font_size=10, fill=LEAD))
    out.append(text(map.trigger.x, map.process_label_y, "Process time", font_size=10, fill=PROCESS))
    out.append(
        text(
            map.result.x + 12,
            map.lead_label_y,
            f"Σ LT {duration(m.lead_time)}",
            font_size=11,
            font_weight="bold",
            fill=LEAD,
        )
    )
    out.append(
        text(
            map.result.x + 12,
            map.process_label_y,
            f"Σ PT {duration(m.process_time)}",
            font_size=11,
            font_weight="bold",
            fill=PROCESS,
        )
    )
    out.append(
        f'<g class="vsm-totals"><rect x="{map.totals_x}" y="{map.box_top}" '
        f'width="{TOTALS_WIDTH}" height="{map.totals_height}" rx="4" fill="#fff8e1" '
        f'stroke="#ff8f00" stroke-width="1.2"/>'
    )
    out.append(text(map.totals_x + 12, map.label_top, "Totals", font_weight="bold", fill="#e65100"))
    for number, (y, label, value) in enumerate(map.totals, start=1):
        out.append(text(map.totals_x + 12, y, label, fill="#37474f"))
        out.append(
            text(
                map.totals_x + TOTALS_WIDTH - 12,
                y,
                value,
                text_anchor="end",
                font_weight="bold",
                fill=INK,
                data_total=number,
            )
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # every text above went through esc()


def draw_stage(map: MapLayout, box: StageBox) -> str:
    stage = box.stage
    moment = stage.moment_of_truth
    out = [
        f'<g class="vsm-stage" data-stage="{stage.pk}">'
        f'<rect x="{box.x}" y="{map.box_top}" width="{STAGE_WIDTH}" height="{BOX_HEIGHT}" '
        f'rx="4" fill="#fafafa" stroke="{MOMENT if moment else "#37474f"}" '
        f'stroke-width="{3 if moment else 1.2}"/>'
        f'<rect x="{box.x}" y="{map.band_y}" width="{STAGE_WIDTH}" height="6" '
        f'fill="{box.colour}"><title>{esc(stage.get_value_class_display())}</title></rect>'
    ]
    for index, (y, line) in enumerate(box.name_lines):
        label = f"{box.number}. {line}" if index == 0 else line
        out.append(text(box.x + 8, y, label, font_weight="bold", fill=INK))
    out.append(
        text(
            box.x + 8,
            map.responsible_y,
            box.responsible or "no one named",
            font_style="italic",
            fill="#37474f",
        )
    )
    out.append(text(box.x + 8, map.measure_y, f"%C&A {box.complete_accurate}", fill=INK))
    out.append(
        text(
            box.right - 8,
            map.measure_y,
            shorten(stage.get_value_class_display(), 14),
            text_anchor="end",
            font_size=10,
            fill=box.colour,
        )
    )
    if moment:
        out.append(
            f'<g class="vsm-moment"><circle cx="{box.right - 12}" cy="{map.moment_y}" r="11" '
            f'fill="{MOMENT}"/>'
            + text(
                box.right - 12,
                map.moment_y + 4,
                "MoT",
                text_anchor="middle",
                font_size=9,
                font_weight="bold",
                fill="#ffffff",
            )
            + "<title>Moment of Truth</title></g>"
        )
    if box.services:
        heading = "Services" + (f" · cost {box.cost}" if box.cost else "")
        out.append(text(box.x, map.services_label_y, heading, font_size=10, fill=MUTED))
        for y, name, flag in box.services:
            if flag:
                out.append(
                    f'<g class="vsm-flag" data-flag="{esc(flag)}">'
                    + text(box.x + 4, y, f"⚠ {name}", font_size=11, fill=FLAG)
                    + f"<title>{esc(name)} is {esc(flag)}: a current state maps live "
                    "services</title></g>"
                )
            else:
                out.append(text(box.x + 4, y, f"▪ {name}", font_size=11, fill="#263238"))
    out.append(
        text(
            box.centre,
            map.lead_label_y,
            f"LT {box.lead_time}",
            text_anchor="middle",
            font_size=11,
            fill=LEAD,
        )
    )
    out.append(
        text(
            box.centre,
            map.process_label_y,
            f"PT {box.process_time}",
            text_anchor="middle",
            font_size=11,
            fill=PROCESS,
        )
    )
    out.append("</g>")
    return "".join(out)
