"""Server-rendered SVG charts: plain geometry computed here, drawn by a template. No JavaScript
and no style attributes (the Content-Security-Policy forbids both); in Arabic the time axis runs
right to left and the value axis stands on the right.

The SVG is drawn at its natural size (one user unit is one CSS pixel) and scrolls inside its own
box when a card is narrower, so its text is never scaled below TICK_FONT_SIZE (docs/pages.md).
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext

SLOT = 32  # horizontal room per period: eight periods fit a phone
PLOT_HEIGHT = 150
TOP = 14
BOTTOM = 92  # room for the slanted period labels
DIGIT_WIDTH = 7  # a digit at TICK_FONT_SIZE, to leave room for the value labels
END_PAD = 6
TICK_FONT_SIZE = 12  # CSS pixels: readable on a phone
LABEL_ANGLE = 40
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5))


def period_label(start: date, end: date, *, frequency: str, fiscal_year_start_month: int) -> str:
    """A period as people name it: "Q1 FY26" / "الربع الأول 2026", "H2 FY26", "FY26", "Jan 2026".
    The fiscal year is named after the calendar year it ends in; a period that is not one of the
    programme's regular periods is written as its months."""
    months_in = (start.month - fiscal_year_start_month) % 12
    fiscal_start_year = start.year if start.month >= fiscal_year_start_month else start.year - 1
    fiscal_year = fiscal_start_year + (0 if fiscal_year_start_month == 1 else 1)
    year = date_format(date(fiscal_year, 1, 1), pgettext("fiscal year in a period name, date format", "y"))
    length = (end.year - start.year) * 12 + end.month - start.month + 1
    regular = start.day == 1 and months_in % length == 0
    if frequency == "quarterly" and length == 3 and regular:
        return {
            1: gettext("Q1 FY%(year)s"),
            2: gettext("Q2 FY%(year)s"),
            3: gettext("Q3 FY%(year)s"),
            4: gettext("Q4 FY%(year)s"),
        }[months_in // 3 + 1] % {"year": year}
    if frequency == "semiannual" and length == 6 and regular:
        return (gettext("H1 FY%(year)s") if months_in < 6 else gettext("H2 FY%(year)s")) % {"year": year}
    if frequency == "annual" and length == 12 and regular:
        return gettext("FY%(year)s") % {"year": year}
    month_format = pgettext("month and year in a period name, date format", "M Y")
    if length == 1:
        return date_format(start, month_format)
    return f"{date_format(start, month_format)} – {date_format(end, month_format)}"


def value_ticks(top: Decimal) -> list[Decimal]:
    """3 to 5 round steps from 0 that reach `top`: 0, 25, 50, 75, 100 rather than 0 … 87.3."""
    top = max(top, Decimal(1))
    magnitude = Decimal(1).scaleb(top.adjusted())
    for scale in (magnitude / 10, magnitude, magnitude * 10):
        for step in NICE_STEPS:
            size = step * scale
            count = (top / size).to_integral_value(rounding=ROUND_CEILING)
            if 3 <= count <= 5:
                return [size * i for i in range(int(count) + 1)]
    return [Decimal(0), top]


@dataclass
class Bar:
    label: str
    target: Decimal | None
    actual: Decimal | None
    status: str
    x: float
    width: float
    centre: float
    actual_y: float
    actual_h: float
    target_y: float | None


@dataclass
class Tick:
    value: Decimal
    y: float


def target_actual_chart(points: list[tuple[str, Decimal | None, Decimal | None, str]], *, rtl: bool) -> dict | None:
    """points: (period label, target, actual, status) in time order. None when nothing to draw."""
    values = [v for _label, target, actual, _s in points for v in (target, actual) if v is not None]
    if not values:
        return None
    ticks = value_ticks(max(values))
    top_value = ticks[-1]
    longest = max(len(f"{value.normalize():,f}") for value in ticks)
    value_axis = DIGIT_WIDTH * longest + 12
    width = value_axis + SLOT * len(points) + END_PAD
    plot_start = END_PAD if rtl else value_axis  # x where the plot area begins
    baseline = TOP + PLOT_HEIGHT

    def y_of(value: Decimal) -> float:
        return baseline - float(Decimal(PLOT_HEIGHT) * max(value, Decimal(0)) / top_value)

    bars = []
    for index, (label, target, actual, status) in enumerate(points):
        slot = len(points) - 1 - index if rtl else index
        x = plot_start + slot * SLOT + 6
        bar_width = SLOT - 12
        actual_y = y_of(actual) if actual is not None else baseline
        bars.append(
            Bar(
                label=label,
                target=target,
                actual=actual,
                status=status,
                x=x,
                width=bar_width,
                centre=x + bar_width / 2,
                actual_y=actual_y,
                actual_h=baseline - actual_y,
                target_y=y_of(target) if target is not None else None,
            )
        )
    in_time_order = sorted(bars, key=lambda bar: bar.centre, reverse=rtl)
    targets = [bar for bar in in_time_order if bar.target_y is not None]
    target_points = " ".join(f"{bar.centre:.1f},{bar.target_y:.1f}" for bar in targets)
    return {
        "width": width,
        "height": TOP + PLOT_HEIGHT + BOTTOM,
        "font_size": TICK_FONT_SIZE,
        "bars": bars,
        "rows": bars,  # the numbers table, in time order
        "ticks": [Tick(value=value, y=y_of(value)) for value in ticks],
        "plot_x1": plot_start,
        "plot_x2": plot_start + SLOT * len(points),
        "baseline": baseline,
        # Value labels beside the axis, at the inline start of the plot.
        "tick_label_x": (plot_start + SLOT * len(points) + 6) if rtl else (value_axis - 6),
        "tick_anchor": "start" if rtl else "end",
        "period_label_y": baseline + 14,
        "period_angle": LABEL_ANGLE if rtl else -LABEL_ANGLE,
        "target_points": target_points,
    }


# Trends: progress to date over the periods so far --------------------------------------------

HUNDRED = Decimal(100)
ON_TRACK_BAND = (Decimal(85), Decimal(115))  # docs/design.md §4: on track from 85 to 115 %, inclusive
SPARK_STEP = 10  # CSS pixels between two periods of a sparkline
SPARK_HEIGHT = 20
SPARK_PAD = 3


@dataclass
class TrendPoint:
    label: str
    percent: Decimal | None
    status: str
    x: float
    y: float | None


def trend_chart(points: list[tuple[str, Decimal | None, str]], *, rtl: bool) -> dict | None:
    """points: (period label, percent of target to date, status) in time order; a line through
    the percents, broken where a period has none, over the on-track band and the 100 % line.
    None when no period has a percent."""
    values = [percent for _label, percent, _status in points if percent is not None]
    if not values:
        return None
    ticks = value_ticks(max(max(values), HUNDRED))
    top_value = ticks[-1]
    longest = max(len(f"{value.normalize():,f}") for value in ticks) + 2  # the " %" after each value
    value_axis = DIGIT_WIDTH * longest + 12
    width = value_axis + SLOT * len(points) + END_PAD
    plot_start = END_PAD if rtl else value_axis
    baseline = TOP + PLOT_HEIGHT

    def y_of(value: Decimal) -> float:
        return baseline - float(Decimal(PLOT_HEIGHT) * min(max(value, Decimal(0)), top_value) / top_value)

    drawn = []
    for index, (label, percent, status) in enumerate(points):
        slot = len(points) - 1 - index if rtl else index
        x = plot_start + slot * SLOT + SLOT / 2
        drawn.append(TrendPoint(label, percent, status, x, y_of(percent) if percent is not None else None))
    # One polyline per run of periods that have a percent: no line is drawn across a gap.
    segments, run = [], []
    for point in drawn:
        if point.y is None:
            if run:
                segments.append(run)
            run = []
        else:
            run.append(point)
    if run:
        segments.append(run)
    low, high = ON_TRACK_BAND
    band_top = y_of(min(high, top_value))
    return {
        "width": width,
        "height": TOP + PLOT_HEIGHT + BOTTOM,
        "font_size": TICK_FONT_SIZE,
        "points": drawn,
        "lines": [" ".join(f"{p.x:.1f},{p.y:.1f}" for p in segment) for segment in segments],
        "ticks": [Tick(value=value, y=y_of(value)) for value in ticks],
        "plot_x1": plot_start,
        "plot_x2": plot_start + SLOT * len(points),
        "plot_width": SLOT * len(points),
        "baseline": baseline,
        "band_y": band_top,
        "band_height": y_of(low) - band_top,
        "hundred_y": y_of(HUNDRED),
        "tick_label_x": (plot_start + SLOT * len(points) + 6) if rtl else (value_axis - 6),
        "tick_anchor": "start" if rtl else "end",
        "period_label_y": baseline + 14,
        "period_angle": LABEL_ANGLE if rtl else -LABEL_ANGLE,
    }


def sparkline(percents: list[Decimal | None], *, rtl: bool) -> dict | None:
    """A small line of progress to date (time order) for a table row, no text in it: the numbers
    are in the row and on the item's own page. None when fewer than two periods have a percent."""
    defined = [value for value in percents if value is not None]
    if len(defined) < 2:
        return None
    top = max(max(defined), HUNDRED)
    count = len(percents)
    width = SPARK_STEP * (count - 1) + 2 * SPARK_PAD

    def x_of(index: int) -> float:
        slot = count - 1 - index if rtl else index
        return SPARK_PAD + slot * SPARK_STEP

    def y_of(value: Decimal) -> float:
        return SPARK_PAD + float((SPARK_HEIGHT - 2 * SPARK_PAD) * (top - max(value, Decimal(0))) / top)

    coordinates = [(x_of(i), y_of(value)) for i, value in enumerate(percents) if value is not None]
    last_x, last_y = coordinates[-1]
    return {
        "width": width,
        "height": SPARK_HEIGHT,
        "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates),
        "hundred_y": y_of(HUNDRED),
        "last_x": last_x,
        "last_y": last_y,
        "first": defined[0],
        "last": defined[-1],
        "count": count,
    }
