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

from dataclasses import dataclass
from dataclasses import field
from html import escape

from django.utils.safestring import SafeString
from django.utils.safestring import mark_safe

from core import textwidth
from core.money import format_amount
from core.translations import translated
from valuestreams.selectors import FlowMeasures
from valuestreams.selectors import StreamCosts
from valuestreams.templatetags.valuestreams_tags import duration
from valuestreams.templatetags.valuestreams_tags import percent

MARGIN = 16
TITLE_HEIGHT = 44
END_WIDTH = 150
STAGE_WIDTH = 168
GAP = 48
BOX_HEIGHT = 116  # the least: a box grows with its wrapped name and responsible party
LINE_HEIGHT = 15
LADDER_STEP = 34
TOTALS_WIDTH = 230
TOTALS_ROW = 22
TOTALS_LINE = 16  # between the lines of one totals row
MAX_SERVICE_LINES = 12

PAD = 8  # between a box's edge and its text
TEXT_SIZE = 12
SERVICE_SIZE = 11
SMALL_SIZE = 10
NAME_LINES = 4  # a stage's name wraps onto at most this many lines, the rest in its tooltip
RESPONSIBLE_LINES = 2
END_LINES = 8
VALUE_CLASS_WIDTH = 84  # the value class, right of %C&A on a stage's last line
# A service's name may run on under the gap to the next stage, whose own list starts there.
SERVICE_WIDTH = STAGE_WIDTH + GAP - 2 * PAD
VALUE_GAP = 12  # at least this between a totals label and its value

VALUE_CLASS_COLOURS = {
    "value_adding": "#2e7d32",
    "necessary": "#f9a825",
    "waste": "#c62828",
}


@dataclass
class Label:
    """Text laid out in lines (y of each baseline, the line), and the whole text when the
    lines had to cut it: drawn as the tooltip."""

    lines: list[tuple[int, str]]
    full: str = ""

    @property
    def first(self) -> str:
        return self.lines[0][1] if self.lines else ""


def wrapped(
    text: str, *, width: float, top: int, lines: int, size: int = TEXT_SIZE, bold: bool = False
) -> Label:
    """``text`` wrapped to ``width`` pixels in at most ``lines`` lines from baseline ``top``."""
    text = " ".join(text.split())
    kept, cut = textwidth.wrap(text, width, size, bold=bold, lines=lines)
    return Label(
        [(top + i * LINE_HEIGHT, line) for i, line in enumerate(kept)], text if cut else ""
    )


def fitted(text: str, *, width: float, y: int, size: int = TEXT_SIZE, bold: bool = False) -> Label:
    """``text`` on one line at baseline ``y``, cut with … (whole in the tooltip) if wider than
    ``width`` pixels."""
    text = " ".join(text.split())
    line = textwidth.fit(text, width, size, bold=bold)
    return Label([(y, line)], text if line != text else "")


@dataclass
class ServiceLine:
    label: Label
    name: str
    flag: str


@dataclass
class StageBox:
    stage: object
    number: int
    x: int
    name: Label
    responsible: Label
    services: list[ServiceLine]
    services_heading: Label
    colour: str
    value_class: Label
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
    text: Label

    @property
    def right(self) -> int:
        return self.x + END_WIDTH

    @property
    def centre(self) -> int:
        return self.x + END_WIDTH // 2


@dataclass
class TotalsRow:
    """One line of the Totals box: its label's lines, and its value right-aligned on the
    label's line when both fit side by side, else on a line of its own below."""

    number: int
    label: str
    value: str
    label_lines: list[tuple[int, str]]
    value_y: int


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
    box_height: int
    responsible_y: int
    measure_y: int
    services_top: int
    ladder_high: int
    ladder_low: int
    ladder_points: str
    totals_x: int
    totals: list[TotalsRow]
    totals_height: int
    title: Label
    subtitle: Label
    arrows: list[tuple[int, int]] = field(default_factory=list)

    # Fixed offsets the template uses, so it needs no arithmetic.
    stage_width: int = STAGE_WIDTH
    end_width: int = END_WIDTH
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
        return self.box_top + self.box_height

    @property
    def box_middle(self) -> int:
        return self.box_top + self.box_height // 2

    @property
    def label_top(self) -> int:
        return self.box_top + 20

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


def totals_rows(rows: list[tuple[str, str]], *, top: int) -> tuple[list[TotalsRow], int]:
    """The Totals box's rows from baseline ``top`` on, measured so that no label runs into its
    value, and the baseline after the last."""
    inner = TOTALS_WIDTH - 2 * 12
    out = []
    y = top
    for number, (label, value) in enumerate(rows, start=1):
        value_width = textwidth.text_width(value, TEXT_SIZE, bold=True)
        beside = inner - value_width - VALUE_GAP
        lines, _ = textwidth.wrap(label, beside, TEXT_SIZE) if beside > inner / 3 else ([], True)
        if lines and len(lines) <= 2:
            # The label (on one or two lines), its value right-aligned on the last of them.
            label_lines = [(y + i * TOTALS_LINE, line) for i, line in enumerate(lines)]
            value_y = label_lines[-1][0]
        else:
            # Too wide together: the label on its lines, the value on a line of its own.
            lines, _ = textwidth.wrap(label, inner, TEXT_SIZE)
            label_lines = [(y + i * TOTALS_LINE, line) for i, line in enumerate(lines)]
            value_y = label_lines[-1][0] + TOTALS_LINE
        out.append(TotalsRow(number, label, value, label_lines, value_y))
        y = value_y + TOTALS_ROW
    return out, y


def layout(
    value_stream, stages, measures: FlowMeasures, costs: StreamCosts | None = None
) -> MapLayout:
    """The geometry of ``value_stream``'s map, for stages from selectors.stages_of.
    With ``costs``, each stage shows the cost it carries (selectors.stream_costs).

    Every text is measured (core.textwidth) and wrapped or cut to the room it has; a cut text
    keeps its whole in a tooltip. The boxes grow with the longest wrapped name."""
    box_top = MARGIN + TITLE_HEIGHT
    name_top = box_top + 24
    inner = STAGE_WIDTH - 2 * PAD
    names = [
        wrapped(f"{n}. {stage.name}", width=inner, top=name_top, lines=NAME_LINES, bold=True)
        for n, stage in enumerate(stages, start=1)
    ]
    name_lines = max((len(name.lines) for name in names), default=1)
    responsible_y = name_top + name_lines * LINE_HEIGHT + 6
    responsibles = [
        wrapped(
            stage.responsible_party or "no one named",
            width=inner,
            top=responsible_y,
            lines=RESPONSIBLE_LINES,
        )
        for stage in stages
    ]
    responsible_lines = max((len(label.lines) for label in responsibles), default=1)
    measure_y = responsible_y + (responsible_lines - 1) * LINE_HEIGHT + 22

    text_top = box_top + 40
    end_texts = [
        wrapped(text or "—", width=END_WIDTH - 24, top=text_top, lines=END_LINES)
        for text in (value_stream.trigger, value_stream.result)
    ]
    end_bottom = max(label.lines[-1][0] for label in end_texts) + 14
    box_height = max(BOX_HEIGHT, measure_y + 14 - box_top, end_bottom - box_top)
    trigger = EndBox(MARGIN, "Trigger", end_texts[0])

    services_top = box_top + box_height + 30
    boxes = []
    x = trigger.right + GAP
    for number, stage in enumerate(stages, start=1):
        # A flagged service (retired or pipeline under a current state) is never hidden in
        # "+ n more": flagged ones come first when the list is cut.
        refs = sorted(stage.service_refs, key=lambda ref: not ref.flag)
        listed = [(service.name, service.flag) for service in refs]
        if len(listed) > MAX_SERVICE_LINES:
            listed = [
                *listed[: MAX_SERVICE_LINES - 1],
                (f"+ {len(listed) - MAX_SERVICE_LINES + 1} more", ""),
            ]
        services = [
            ServiceLine(
                fitted(
                    f"{'⚠' if flag else '▪'} {name}",
                    width=SERVICE_WIDTH,
                    y=services_top + 12 + i * LINE_HEIGHT,
                    size=SERVICE_SIZE,
                ),
                name,
                flag,
            )
            for i, (name, flag) in enumerate(listed)
        ]
        cost = stage_cost(costs, stage)
        boxes.append(
            StageBox(
                stage=stage,
                number=number,
                x=x,
                name=names[number - 1],
                responsible=responsibles[number - 1],
                services=services,
                services_heading=fitted(
                    "Services" + (f" · cost {cost}" if cost else ""),
                    width=SERVICE_WIDTH,
                    y=services_top - 6,
                    size=SMALL_SIZE,
                ),
                colour=VALUE_CLASS_COLOURS.get(stage.value_class, "#757575"),
                value_class=fitted(
                    stage.get_value_class_display(),
                    width=VALUE_CLASS_WIDTH,
                    y=measure_y,
                    size=SMALL_SIZE,
                ),
                process_time=duration(stage.process_time_minutes),
                lead_time=duration(stage.lead_time_minutes),
                complete_accurate=percent(stage.complete_accurate),
                cost=cost,
            )
        )
        x += STAGE_WIDTH + GAP
    if not boxes:
        x += STAGE_WIDTH + GAP  # room for the "no stages yet" note
    result = EndBox(x, "Result", end_texts[1])
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

    rows = [
        ("Total lead time", duration(measures.lead_time)),
        ("Total process time", duration(measures.process_time)),
        ("Activity ratio", percent(measures.activity_ratio)),
        ("Rolled %C&A", percent(measures.rolled_complete_accurate)),
        ("Moments of Truth", str(measures.moments_of_truth)),
    ]
    if costs is not None and costs.period is not None:
        total = "—" if costs.total is None else format_amount(costs.total, costs.currency)
        label = f"Cost {costs.period}" + (" (what-if)" if costs.what_if else "")
        rows.append((label, total))
    totals, after = totals_rows(rows, top=box_top + 42)
    totals_height = after - TOTALS_ROW + 16 - box_top
    width = totals_x + TOTALS_WIDTH + MARGIN
    return MapLayout(
        value_stream=value_stream,
        measures=measures,
        trigger=trigger,
        result=result,
        stages=boxes,
        width=width,
        height=max(ladder_low + 40, box_top + totals_height + MARGIN),
        box_top=box_top,
        box_height=box_height,
        responsible_y=responsible_y,
        measure_y=measure_y,
        services_top=services_top,
        ladder_high=ladder_high,
        ladder_low=ladder_low,
        ladder_points=" ".join(f"{px},{py}" for px, py in points),
        totals_x=totals_x,
        totals=totals,
        totals_height=totals_height,
        title=fitted(
            translated(value_stream, "name"), width=width - 2 * MARGIN, y=30, size=17, bold=True
        ),
        subtitle=fitted(subtitle_of(value_stream), width=width - 2 * MARGIN, y=48, size=11),
        arrows=arrows,
    )


def subtitle_of(stream) -> str:
    owner = stream.owner.get_full_name() or stream.owner.username
    subtitle = f"{stream.get_state_display()} · {stream.get_experience_display()} · owner {owner}"
    if stream.served:
        subtitle += f" · serves {stream.served}"
    return subtitle


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


def label_text(x, label: Label, **attributes) -> str:
    """The lines of ``label``, one <text> each; a cut label in a group whose tooltip is its
    whole text."""
    lines = "".join(text(x, y, line, **attributes) for y, line in label.lines)
    if not label.full:
        return lines
    return f'<g class="vsm-cut"><title>{esc(label.full)}</title>{lines}</g>'


def draw(map: MapLayout, *, standalone: bool = False) -> SafeString:
    """The SVG of ``map``; ``standalone`` adds the XML declaration of a file of its own."""
    stream, m = map.value_stream, map.measures
    pk = stream.pk
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
    out.append(label_text(MARGIN, map.title, font_size=17, font_weight="bold", fill=INK))
    out.append(label_text(MARGIN, map.subtitle, font_size=11, fill=MUTED))
    for end in map.ends:
        out.append(
            f'<g class="vsm-end"><rect x="{end.x}" y="{map.box_top}" width="{END_WIDTH}" '
            f'height="{map.box_height}" rx="18" fill="#e3f2fd" stroke="#1565c0" '
            f'stroke-width="1.5"/>'
        )
        out.append(text(end.x + 12, map.label_top, end.label, font_weight="bold", fill="#0d47a1"))
        out.append(label_text(end.x + 12, end.text, fill=INK))
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
    for row in map.totals:
        out.extend(
            text(map.totals_x + 12, y, line, fill="#37474f", data_total_label=row.number)
            for y, line in row.label_lines
        )
        out.append(
            text(
                map.totals_x + TOTALS_WIDTH - 12,
                row.value_y,
                row.value,
                text_anchor="end",
                font_weight="bold",
                fill=INK,
                data_total=row.number,
            )
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # every text above went through esc()


def draw_stage(map: MapLayout, box: StageBox) -> str:
    stage = box.stage
    moment = stage.moment_of_truth
    out = [
        f'<g class="vsm-stage" data-stage="{stage.pk}">'
        f'<rect x="{box.x}" y="{map.box_top}" width="{STAGE_WIDTH}" height="{map.box_height}" '
        f'rx="4" fill="#fafafa" stroke="{MOMENT if moment else "#37474f"}" '
        f'stroke-width="{3 if moment else 1.2}"/>'
        f'<rect x="{box.x}" y="{map.band_y}" width="{STAGE_WIDTH}" height="6" '
        f'fill="{box.colour}"><title>{esc(stage.get_value_class_display())}</title></rect>'
    ]
    out.append(label_text(box.x + PAD, box.name, font_weight="bold", fill=INK))
    out.append(label_text(box.x + PAD, box.responsible, font_style="italic", fill="#37474f"))
    out.append(text(box.x + PAD, map.measure_y, f"%C&A {box.complete_accurate}", fill=INK))
    out.append(
        label_text(
            box.right - PAD, box.value_class, text_anchor="end", font_size=10, fill=box.colour
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
        out.append(label_text(box.x, box.services_heading, font_size=10, fill=MUTED))
        for service in box.services:
            if service.flag:
                ((y, line),) = service.label.lines
                out.append(
                    f'<g class="vsm-flag" data-flag="{esc(service.flag)}">'
                    + text(box.x + 4, y, line, font_size=11, fill=FLAG)
                    + f"<title>{esc(service.name)} is {esc(service.flag)}: a current state maps "
                    "live services</title></g>"
                )
            else:
                out.append(label_text(box.x + 4, service.label, font_size=11, fill="#263238"))
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
