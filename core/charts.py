"""Charts as server-rendered inline SVG: bars for periods, horizontal bars, stacked bars.

No script and no chart library: the page's Content-Security-Policy allows neither inline
script nor inline `style`, so shapes carry SVG presentation attributes (a fill that
works on its own) and classes the stylesheet refines. Every chart has a <title> and a
<desc> for screen readers, and every bar a <title> with its exact figure (a tooltip).
The exact figures are the caller's: geometry uses floats, the words come in as text.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

from . import i18n
from .i18n import _

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 640
FONT = 12
BAR_FILL = "#1f5fbf"
NEGATIVE_FILL = "#b3261e"
GRID_STROKE = "#dde2ea"
AXIS_STROKE = "#5d6778"
TEXT_FILL = "#1c2330"
MUTED_FILL = "#5d6778"
# Not yet due, then later and later: from calm to alarming.
SERIES_FILLS = ("#1b7f4b", "#e0a800", "#e07b00", "#c94f1d", "#8e1b12")


@dataclass(frozen=True)
class Bar:
    """One bar: its axis label, its value, and the exact words its tooltip shows."""

    label: str
    value: Decimal | int | float
    detail: str = ""
    short: str = ""  # a shorter axis label, when the full one is long


@dataclass(frozen=True)
class StackRow:
    """One stacked bar: a label, one value per series, and the exact words of each segment."""

    label: str
    values: Sequence[Decimal | int | float]
    details: Sequence[str] = ()
    total_text: str = ""


def _figure(value: float, places: int) -> str:
    """A number rounded to `places` decimals, without trailing zeros, in the reader's
    number format (12.5, or 12,5 in French)."""
    rounded = round(value, places)
    return i18n.format_number(int(rounded) if rounded == int(rounded) else rounded)


def compact(value: float, unit: str = "") -> str:
    """A short axis number: 950, 12.5k, 1.2M (with a currency symbol in front if given)."""
    sign = "−" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if value >= limit:
            text = _figure(value / limit, 1) + suffix
            break
    else:
        text = _figure(value, 2)
    return f"{sign}{unit}{text}"


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering [low, high] (always including 0): steps of 1, 2, 2.5, 5 x 10^n."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    count = round((last - first) / step)
    return [first + i * step for i in range(count + 1)]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _escape(words) -> Markup:
    """Text as SVG content: a lazy message (core.i18n) is read as plain text first, so
    that it is escaped like any other string."""
    return escape(str(words))


class _Svg:
    """Builds the markup of one chart; every piece of text is escaped on the way in."""

    def __init__(self, chart_id: str, width: int, height: int, title: str, desc: str, kind: str):
        self.parts: list[str] = [
            f'<svg xmlns="{SVG_NS}" class="chart chart--{kind}" id="{escape(chart_id)}" '
            f'viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
            f'font-size="{FONT}">',
            f'<title id="{escape(chart_id)}-title">{_escape(title)}</title>',
            f'<desc id="{escape(chart_id)}-desc">{_escape(desc)}</desc>',
        ]

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(self, x, y, words, *, anchor="start", css="chart__label", fill=TEXT_FILL, extra=""):
        self.parts.append(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" class="{css}" '
            f'fill="{fill}"{extra}>{_escape(words)}</text>'
        )

    def rect(self, x, y, w, h, *, css, fill, tooltip: str = "") -> None:
        inner = f"<title>{_escape(tooltip)}</title>" if tooltip else ""
        self.parts.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(max(w, 0))}" '
            f'height="{_num(max(h, 0))}" class="{css}" fill="{fill}">{inner}</rect>'
        )

    def line(self, x1, y1, x2, y2, *, css, stroke) -> None:
        self.parts.append(
            f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}" '
            f'class="{css}" stroke="{stroke}"/>'
        )

    def vertical_grid(self, ticks, x_of, top: float, bottom: float, unit: str) -> None:
        """A grid line at each tick of a horizontal value axis, its figure under the plot."""
        for tick in ticks:
            x = x_of(tick)
            self.line(x, top, x, bottom, css="chart__grid", stroke=GRID_STROKE)
            self.text(
                x,
                bottom + 16,
                compact(tick, unit),
                anchor="middle",
                css="chart__tick",
                fill=MUTED_FILL,
            )

    def caption(self, x, y, words, *, css="chart__axis-title", extra="") -> None:
        """Muted words centred on x: an axis title, or what an empty chart says instead."""
        self.text(x, y, words, anchor="middle", css=css, fill=MUTED_FILL, extra=extra)

    def done(self) -> Markup:
        return Markup("".join([*self.parts, "</svg>"]))  # noqa: S704  (every piece escaped)


def bar_chart(
    chart_id: str,
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    unit: str = "",
    width: int = WIDTH,
    height: int = 300,
) -> Markup:
    """Vertical bars, one per period, on a value axis with round ticks (negatives below 0)."""
    left, right, top, bottom = 64, 12, 16, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(b.value) for b in bars] or [0.0]
    ticks = nice_ticks(min(values), max(values))
    low, high = ticks[0], ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    svg = _Svg(chart_id, width, height, title, desc, "bars")
    for tick in ticks:
        y = y_of(tick)
        svg.line(left, y, width - right, y, css="chart__grid", stroke=GRID_STROKE)
        svg.text(
            left - 6, y + 4, compact(tick, unit), anchor="end", css="chart__tick", fill=MUTED_FILL
        )
    zero = y_of(0.0)
    slot = plot_w / max(len(bars), 1)
    bar_w = max(slot * 0.72, 1.0)
    # Label every k-th period only, so that labels never overlap.
    every = max(1, math.ceil(len(bars) / max(1, int(plot_w // 56))))
    for i, bar in enumerate(bars):
        v = float(bar.value)
        x = left + i * slot + (slot - bar_w) / 2
        y = y_of(max(v, 0.0))
        negative = v < 0
        svg.rect(
            x,
            y,
            bar_w,
            abs(y_of(v) - zero),
            css="chart__bar chart__bar--negative" if negative else "chart__bar",
            fill=NEGATIVE_FILL if negative else BAR_FILL,
            tooltip=bar.detail or f"{bar.label}: {compact(v, unit)}",
        )
        if i % every == 0:
            svg.text(
                left + i * slot + slot / 2,
                top + plot_h + 16,
                bar.short or bar.label,
                anchor="middle",
                css="chart__tick",
                fill=MUTED_FILL,
            )
    svg.line(left, zero, width - right, zero, css="chart__axis", stroke=AXIS_STROKE)
    svg.line(left, top, left, top + plot_h, css="chart__axis", stroke=AXIS_STROKE)
    svg.caption(left + plot_w / 2, height - 8, x_label)
    svg.caption(
        14,
        top + plot_h / 2,
        y_label,
        extra=f' transform="rotate(-90 14 {_num(top + plot_h / 2)})"',
    )
    if not bars:
        svg.caption(
            left + plot_w / 2, top + plot_h / 2, _("No figures in this range"), css="chart__empty"
        )
    return svg.done()


def hbar_chart(
    chart_id: str,
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    x_label: str,
    unit: str = "",
    value_text: Callable[[Bar], str] | None = None,
    width: int = WIDTH,
) -> Markup:
    """Horizontal bars, one per row (top customers, products), longest first as given."""
    label_w, right, top, row_h, bottom = 170, 64, 8, 26, 44
    height = top + row_h * max(len(bars), 1) + bottom
    plot_w = width - label_w - right
    values = [float(b.value) for b in bars] or [0.0]
    ticks = nice_ticks(min(values), max(values), target=4)
    low, high = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return label_w + plot_w * (v - low) / (high - low)

    svg = _Svg(chart_id, width, height, title, desc, "hbars")
    plot_bottom = top + row_h * max(len(bars), 1)
    svg.vertical_grid(ticks, x_of, top, plot_bottom, unit)
    zero = x_of(0.0)
    for i, bar in enumerate(bars):
        v = float(bar.value)
        y = top + i * row_h
        negative = v < 0
        start, end = sorted((zero, x_of(v)))
        svg.rect(
            start,
            y + 4,
            end - start,
            row_h - 8,
            css="chart__bar chart__bar--negative" if negative else "chart__bar",
            fill=NEGATIVE_FILL if negative else BAR_FILL,
            tooltip=bar.detail or f"{bar.label}: {compact(v, unit)}",
        )
        svg.text(
            label_w - 8,
            y + row_h / 2 + 4,
            _shorten(bar.short or bar.label, 24),
            anchor="end",
            css="chart__label",
        )
        words = value_text(bar) if value_text else compact(v, unit)
        svg.text(max(end, zero) + 6, y + row_h / 2 + 4, words, css="chart__value")
    svg.line(zero, top, zero, plot_bottom, css="chart__axis", stroke=AXIS_STROKE)
    svg.caption(label_w + plot_w / 2, height - 8, x_label)
    if not bars:
        svg.caption(
            label_w + plot_w / 2,
            top + row_h / 2 + 4,
            _("No figures in this range"),
            css="chart__empty",
        )
    return svg.done()


def stacked_bars(
    chart_id: str,
    rows: Sequence[StackRow],
    series: Sequence[str],
    *,
    title: str,
    desc: str,
    x_label: str,
    unit: str = "",
    width: int = WIDTH,
) -> Markup:
    """Horizontal stacked bars (one per row, a segment per series) under a legend."""
    label_w, right, row_h, bottom = 170, 72, 28, 44
    # The legend wraps onto as many lines as the width needs.
    legend, x, y = [], 0.0, 8
    for i, name in enumerate(series):
        item_w = 16 + 7.2 * len(name) + 18
        if x and x + item_w > width:
            x, y = 0.0, y + 20
        legend.append((i, name, x, y))
        x += item_w
    top = y + 12 + 14
    height = top + row_h * max(len(rows), 1) + bottom
    plot_w = width - label_w - right
    totals = [sum(float(v) for v in row.values) for row in rows] or [0.0]
    ticks = nice_ticks(0.0, max(totals), target=4)
    high = ticks[-1]

    def width_of(v: float) -> float:
        return plot_w * v / high

    svg = _Svg(chart_id, width, height, title, desc, "stacked")
    for i, name, lx, ly in legend:
        fill = SERIES_FILLS[i % len(SERIES_FILLS)]
        svg.rect(lx, ly, 12, 12, css=f"chart__swatch chart__series-{i}", fill=fill)
        svg.text(lx + 16, ly + 10, name, css="chart__legend")
    plot_bottom = top + row_h * max(len(rows), 1)
    svg.vertical_grid(ticks, lambda tick: label_w + width_of(tick), top, plot_bottom, unit)
    for i, row in enumerate(rows):
        y = top + i * row_h
        x = float(label_w)
        for s, value in enumerate(row.values):
            v = float(value)
            if v <= 0:
                continue
            svg.rect(
                x,
                y + 4,
                width_of(v),
                row_h - 8,
                css=f"chart__segment chart__series-{s}",
                fill=SERIES_FILLS[s % len(SERIES_FILLS)],
                tooltip=row.details[s]
                if s < len(row.details)
                else f"{row.label}, {series[s]}: {compact(v, unit)}",
            )
            x += width_of(v)
        svg.text(
            label_w - 8,
            y + row_h / 2 + 4,
            _shorten(row.label, 28),
            anchor="end",
            css="chart__label",
        )
        words = row.total_text or compact(totals[i], unit)
        svg.text(x + 6, y + row_h / 2 + 4, words, css="chart__value")
    svg.line(label_w, top, label_w, plot_bottom, css="chart__axis", stroke=AXIS_STROKE)
    svg.caption(label_w + plot_w / 2, height - 8, x_label)
    if not rows:
        svg.caption(
            label_w + plot_w / 2, top + row_h / 2 + 4, _("Nothing is owed"), css="chart__empty"
        )
    return svg.done()
