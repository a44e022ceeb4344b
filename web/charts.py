"""Server-rendered SVG charts: plain geometry computed here, drawn by a template. No JavaScript,
and in Arabic the time axis runs right to left."""

from dataclasses import dataclass
from decimal import Decimal

WIDTH_PER_PERIOD = 56
HEIGHT = 170
TOP, BOTTOM, SIDE = 12, 36, 40


@dataclass
class Bar:
    label: str
    x: float
    width: float
    target: Decimal | None
    actual: Decimal | None
    status: str
    target_y: float
    target_h: float
    actual_y: float
    actual_h: float
    label_x: float


def target_actual_chart(points: list[tuple[str, Decimal | None, Decimal | None, str]], *, rtl: bool) -> dict | None:
    """points: (period label, target, actual, status) in time order. None when nothing to draw."""
    values = [v for _label, target, actual, _s in points for v in (target, actual) if v is not None]
    if not values:
        return None
    top_value = max(max(values), Decimal(1))
    plot_height = HEIGHT - TOP - BOTTOM
    width = SIDE * 2 + WIDTH_PER_PERIOD * len(points)
    bars = []
    for index, (label, target, actual, status) in enumerate(points):
        slot = len(points) - 1 - index if rtl else index
        x = SIDE + slot * WIDTH_PER_PERIOD + 8
        bar_width = WIDTH_PER_PERIOD - 16

        def height(value):
            if value is None:
                return 0.0
            return float(Decimal(plot_height) * max(value, Decimal(0)) / top_value)

        target_h, actual_h = height(target), height(actual)
        bars.append(
            Bar(
                label=label,
                x=x,
                width=bar_width,
                target=target,
                actual=actual,
                status=status,
                target_y=TOP + plot_height - target_h,
                target_h=target_h,
                actual_y=TOP + plot_height - actual_h,
                actual_h=actual_h,
                label_x=x + bar_width / 2,
            )
        )
    return {
        "width": width,
        "height": HEIGHT,
        "bars": bars,
        "axis_y": TOP + plot_height,
        "axis_x1": SIDE,
        "axis_x2": width - SIDE,
        "label_y": TOP + plot_height + 16,
        "top_value": top_value,
        "top_label_x": (width - SIDE + 4) if rtl else 4,
    }
