"""Server-rendered SVG charts: well-formed, accessible, with their bars, ticks and words."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from core import charts

NS = {"svg": charts.SVG_NS}


def parse(markup) -> ET.Element:
    """The chart as XML: parsing fails on anything that is not well-formed."""
    return ET.fromstring(str(markup))  # noqa: S314  (our own markup, not untrusted input)


def bars_of(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{{{charts.SVG_NS}}}rect") if "chart__bar" in r.get("class")]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{{{charts.SVG_NS}}}text")]


def months(values):
    return [
        charts.Bar(f"Month {i}", Decimal(v), f"Month {i}: €{v}", f"M{i}")
        for i, v in enumerate(values, 1)
    ]


def test_bar_chart_is_well_formed_and_titled():
    root = parse(
        charts.bar_chart(
            "chart-sales",
            months(["120.50", "0", "980.25"]),
            title="Revenue per month",
            desc="Three bars",
            x_label="Month",
            y_label="Revenue (€)",
            unit="€",
        )
    )
    assert root.tag == f"{{{charts.SVG_NS}}}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "chart-sales-title chart-sales-desc"
    assert root.find("svg:title", NS).text == "Revenue per month"
    assert root.find("svg:desc", NS).text == "Three bars"
    assert "style" not in ET.tostring(root, encoding="unicode")  # the CSP forbids it


def test_one_bar_per_period_with_its_exact_figure_as_tooltip():
    root = parse(
        charts.bar_chart(
            "c", months(["120.50", "0", "980.25"]), title="t", desc="d", x_label="x", y_label="y"
        )
    )
    bars = bars_of(root)
    assert len(bars) == 3
    assert [b.find("svg:title", NS).text for b in bars] == [
        "Month 1: €120.50",
        "Month 2: €0",
        "Month 3: €980.25",
    ]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] == 0
    assert heights[2] > heights[0] > 0
    # Proportional: 980.25 / 120.50
    assert heights[2] / heights[0] == pytest.approx(980.25 / 120.50, rel=0.01)


def test_axis_ticks_are_round_and_labels_say_what_is_measured():
    root = parse(
        charts.bar_chart(
            "c",
            months(["1200", "3400"]),
            title="t",
            desc="d",
            x_label="Month",
            y_label="Revenue (€)",
            unit="€",
        )
    )
    words = texts(root)
    assert {"€0", "€1k", "€2k", "€3k", "€4k"} <= set(words)
    assert "Month" in words and "Revenue (€)" in words
    assert "M1" in words and "M2" in words  # the short period names under the bars


def test_labels_thin_out_when_periods_are_many_but_every_bar_stays():
    many = months([str(i) for i in range(1, 367)])
    root = parse(charts.bar_chart("c", many, title="t", desc="d", x_label="Day", y_label="€"))
    assert len(bars_of(root)) == 366
    shown = [w for w in texts(root) if w.startswith("M")]
    assert 3 <= len(shown) <= 14


def test_negative_values_hang_below_the_zero_line_in_their_own_class():
    root = parse(
        charts.bar_chart("c", months(["50", "-20"]), title="t", desc="d", x_label="x", y_label="y")
    )
    positive, negative = bars_of(root)
    assert "chart__bar--negative" in negative.get("class")
    assert "chart__bar--negative" not in positive.get("class")
    # The negative bar starts where the positive one ends: at the zero line.
    assert float(negative.get("y")) == pytest.approx(
        float(positive.get("y")) + float(positive.get("height"))
    )
    assert "−€20" in texts(
        parse(
            charts.bar_chart(
                "c", months(["-20"]), title="t", desc="d", x_label="x", y_label="y", unit="€"
            )
        )
    )


def test_text_is_escaped_so_names_cannot_break_the_markup():
    nasty = 'Smith & Sons <"Ltd">'
    root = parse(
        charts.hbar_chart(
            "c",
            [charts.Bar(nasty, Decimal("10"), f"{nasty}: €10")],
            title=f"Top {nasty}",
            desc=nasty,
            x_label="Revenue",
        )
    )
    assert root.find("svg:title", NS).text == f"Top {nasty}"
    assert nasty in texts(root)
    assert bars_of(root)[0].find("svg:title", NS).text == f"{nasty}: €10"


def test_horizontal_bars_one_row_each_longest_widest_and_long_names_shortened():
    items = [
        charts.Bar("Acme Robotics", Decimal("834.29"), "Acme: €834.29"),
        charts.Bar("A company with a very long name indeed, really", Decimal("9.58"), "Long"),
    ]
    root = parse(
        charts.hbar_chart("c", items, title="t", desc="d", x_label="Revenue (€)", unit="€")
    )
    first, second = bars_of(root)
    assert float(first.get("width")) > float(second.get("width")) > 0
    assert float(first.get("y")) < float(second.get("y"))
    words = texts(root)
    assert "Acme Robotics" in words and "€834.29" in words
    assert any(w.endswith("…") and len(w) <= 24 for w in words)
    assert second.find("svg:title", NS).text == "Long"  # the whole name stays in the tooltip


def test_stacked_bars_segment_per_series_with_a_legend():
    series = ["Not yet due", "1–30 days late", "Over 90 days late"]
    rows = [
        charts.StackRow("All", [Decimal("100"), Decimal("50"), Decimal("0")], ["a", "b", "c"]),
        charts.StackRow("Acme", [Decimal("0"), Decimal("50"), Decimal("0")], ["d", "e", "f"]),
    ]
    root = parse(charts.stacked_bars("c", rows, series, title="t", desc="d", x_label="Owed"))
    segments = [
        r for r in root.iter(f"{{{charts.SVG_NS}}}rect") if "chart__segment" in r.get("class")
    ]
    # Zero amounts draw nothing; each drawn segment says its exact figure.
    assert [s.find("svg:title", NS).text for s in segments] == ["a", "b", "e"]
    assert "chart__series-1" in segments[1].get("class")
    # Segments of one row follow each other.
    assert float(segments[1].get("x")) == pytest.approx(
        float(segments[0].get("x")) + float(segments[0].get("width"))
    )
    # Same scale for every row: 50 is as wide in both.
    assert float(segments[1].get("width")) == pytest.approx(float(segments[2].get("width")))
    assert set(series) <= set(texts(root))


def test_legend_wraps_within_the_width():
    series = [f"A fairly long series name {i}" for i in range(6)]
    root = parse(
        charts.stacked_bars(
            "c",
            [charts.StackRow("x", [1] * 6)],
            series,
            title="t",
            desc="d",
            x_label="x",
            width=500,
        )
    )
    width = float(root.get("viewBox").split()[2])
    swatches = [r for r in root.iter(f"{{{charts.SVG_NS}}}rect") if "swatch" in r.get("class")]
    assert len({s.get("y") for s in swatches}) > 1
    assert all(float(s.get("x")) < width for s in swatches)


@pytest.mark.parametrize("chart", ["bar", "hbar", "stacked"])
def test_empty_charts_say_so(chart):
    if chart == "bar":
        markup = charts.bar_chart("c", [], title="t", desc="d", x_label="x", y_label="y")
    elif chart == "hbar":
        markup = charts.hbar_chart("c", [], title="t", desc="d", x_label="x")
    else:
        markup = charts.stacked_bars("c", [], ["a"], title="t", desc="d", x_label="x")
    root = parse(markup)
    assert any(w in ("No figures in this range", "Nothing is owed") for w in texts(root))


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0, "€", "€0"),
        (950, "€", "€950"),
        (2.5, "€", "€2.5"),
        (1000, "€", "€1k"),
        (12_500, "€", "€12.5k"),
        (1_200_000, "", "1.2M"),
        (-2500, "€", "−€2.5k"),
    ],
)
def test_compact_numbers(value, unit, text):
    assert charts.compact(value, unit) == text


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 3400, [0, 1000, 2000, 3000, 4000]),
        (0, 0, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-20, 50, [-20, 0, 20, 40, 60]),
        (0, 9.58, [0, 2, 4, 6, 8, 10]),
    ],
)
def test_nice_ticks(low, high, expected):
    assert charts.nice_ticks(low, high) == pytest.approx(expected)
