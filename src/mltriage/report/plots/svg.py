"""Draw a Chart as inline SVG: text stays text (searchable, scales with the page), no script, no
font file, a few kilobytes per plot. The SVG carries its text alternative (`<title>`, `<desc>`,
role="img" and aria-label)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from html import escape

from .chart import Band, Bars, Chart, Heat, Line, Mark, Points, Ranges, Rule
from .scale import Scale, fmt_num

COLOURS = {
    "base": "#1565c0",
    "alert": "#c62828",
    "ok": "#2e7d32",
    "muted": "#757575",
    "accent": "#ef6c00",
}
WIDTH = 600
ROW = 24  # height of one category on a bars chart
TOP = 30  # the legend above the plot area (the title is the figure's heading, in HTML)
BOTTOM = 46  # tick labels and the axis label below it
RIGHT = 24


def _finite(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def _extent(chart: Chart, axis: str) -> tuple[float, float]:
    vals: list[float] = []
    for m in chart.marks:
        vals += _mark_values(m, axis, chart.layout)
    if chart.layout == "bars" and axis == "x":
        vals.append(0.0)
    lo = getattr(chart, f"{axis}_min")
    hi = getattr(chart, f"{axis}_max")
    lo = min(vals, default=0.0) if lo is None else lo
    hi = max(vals, default=1.0) if hi is None else hi
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    if getattr(chart, f"{axis}_max") is None and not (axis == "y" and chart.log_y):
        hi += 0.04 * (hi - lo)
    return lo, hi


def _mark_values(m: Mark, axis: str, layout: str) -> list[float]:
    if isinstance(m, Bars):
        return _finite([*m.values, *(m.low or []), *(m.high or [])]) if axis == "x" else []
    if isinstance(m, Ranges):
        return _finite([*m.low, *m.high]) if axis == "x" else []
    if isinstance(m, (Line, Points)):
        if layout == "bars" and axis == "y":
            return []
        return _finite(m.xs if axis == "x" else m.ys)
    if isinstance(m, Band):
        return _finite(m.xs) if axis == "x" else _finite([*m.low, *m.high])
    if isinstance(m, Rule):
        return [m.value] if m.axis == axis else []
    return []


def _legend(chart: Chart) -> str:
    items = [m for m in chart.marks if getattr(m, "name", "")]
    out, x = [], 10.0
    for m in items:
        colour = COLOURS[getattr(m, "tone", "base")]
        name = escape(getattr(m, "name", ""))
        if isinstance(m, (Line, Rule)):
            dash = " stroke-dasharray='5 3'" if isinstance(m, Rule) or getattr(m, "dashed", False) else ""
            sw = f"<line x1='{x}' y1='14' x2='{x + 16}' y2='14' stroke='{colour}' stroke-width='2'{dash}/>"
        elif isinstance(m, Points):
            sw = f"<circle cx='{x + 8}' cy='14' r='4' fill='{colour}'/>"
        else:
            opacity = "0.25" if isinstance(m, Band) else "0.85"
            sw = f"<rect x='{x}' y='9' width='16' height='10' fill='{colour}' fill-opacity='{opacity}'/>"
        out.append(sw + f"<text x='{x + 20}' y='18' class='lg'>{name}</text>")
        x += 30 + 6.2 * len(getattr(m, "name", ""))
    return "".join(out)


def _x_axis(sx: Scale, y0: float, y1: float, percent: bool, label: str) -> str:
    out = []
    for t in sx.ticks():
        x = sx(t)
        out.append(
            f"<line x1='{x:.1f}' y1='{y0}' x2='{x:.1f}' y2='{y1}' class='grid'/>"
            f"<text x='{x:.1f}' y='{y1 + 14}' class='tk' text-anchor='middle'>{fmt_num(t, percent)}</text>"
        )
    mid = (sx.a + sx.b) / 2
    out.append(f"<text x='{mid:.1f}' y='{y1 + 34}' class='ax' text-anchor='middle'>{escape(label)}</text>")
    return "".join(out)


def _y_axis(sy: Scale, x0: float, x1: float, percent: bool, label: str) -> str:
    out = []
    for t in sy.ticks():
        y = sy(t)
        out.append(
            f"<line x1='{x0}' y1='{y:.1f}' x2='{x1}' y2='{y:.1f}' class='grid'/>"
            f"<text x='{x0 - 5}' y='{y + 4:.1f}' class='tk' text-anchor='end'>{fmt_num(t, percent)}</text>"
        )
    mid = (sy.a + sy.b) / 2
    out.append(
        f"<text x='12' y='{mid:.1f}' class='ax' text-anchor='middle' "
        f"transform='rotate(-90 12 {mid:.1f})'>{escape(label)}</text>"
    )
    return "".join(out)


def _bars(m: Bars, sx: Scale, cy: Callable[[float], float]) -> str:
    out = []
    for i, v in enumerate(m.values):
        if v is None or not math.isfinite(v):
            continue
        tone = (m.tones or [])[i] if m.tones and i < len(m.tones) else "base"
        a, b = sorted((sx(min(max(m.start, sx.lo), sx.hi)), sx(v)))
        y = cy(i)
        out.append(
            f"<rect x='{a:.1f}' y='{y - 7:.1f}' width='{max(b - a, 1):.1f}' height='14' "
            f"fill='{COLOURS[tone]}' fill-opacity='0.85'/>"
        )
        lo = m.low[i] if m.low else None
        hi = m.high[i] if m.high else None
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi):
            out.append(_whisker(sx(lo), sx(hi), y))
    return "".join(out)


def _whisker(a: float, b: float, y: float) -> str:
    return (
        f"<path d='M{a:.1f} {y:.1f}H{b:.1f}M{a:.1f} {y - 5:.1f}V{y + 5:.1f}M{b:.1f} {y - 5:.1f}V{y + 5:.1f}' "
        "stroke='#222' stroke-width='1.4' fill='none'/>"
    )


def _ranges(m: Ranges, sx: Scale, cy: Callable[[float], float]) -> str:
    out = []
    for i, (lo, hi) in enumerate(zip(m.low, m.high)):
        if lo is None or hi is None:
            continue
        y = cy(i + m.offset)
        a, b = sx(lo), sx(hi)
        out.append(
            f"<line x1='{a:.1f}' y1='{y:.1f}' x2='{max(b, a + 2):.1f}' y2='{y:.1f}' "
            f"stroke='{COLOURS[m.tone]}' stroke-width='7' stroke-linecap='butt' stroke-opacity='0.8'/>"
        )
    return "".join(out)


def _line(m: Line, sx: Scale, sy: Scale) -> str:
    pts = [(sx(x), sy(y)) for x, y in zip(m.xs, m.ys) if y is not None and math.isfinite(y)]
    if not pts:
        return ""
    colour = COLOURS[m.tone]
    dash = " stroke-dasharray='5 3'" if m.dashed else ""
    d = "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in pts)
    out = [f"<path d='{d}' stroke='{colour}' stroke-width='2' fill='none'{dash}/>"]
    if m.markers:
        out += [f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>" for x, y in pts]
    return "".join(out)


def _band(m: Band, sx: Scale, sy: Scale) -> str:
    top = [f"{sx(x):.1f} {sy(h):.1f}" for x, h in zip(m.xs, m.high)]
    bottom = [f"{sx(x):.1f} {sy(lo):.1f}" for x, lo in reversed(list(zip(m.xs, m.low)))]
    if not top:
        return ""
    return (
        f"<path d='M{'L'.join(top + bottom)}Z' fill='{COLOURS[m.tone]}' fill-opacity='0.18' stroke='none'/>"
    )


def _points(m: Points, sx: Scale, sy: Callable[[float], float]) -> str:
    out = []
    for i, (x, y) in enumerate(zip(m.xs, m.ys)):
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            continue
        px, py = sx(x), sy(y)
        out.append(f"<circle cx='{px:.1f}' cy='{py:.1f}' r='4.5' fill='{COLOURS[m.tone]}' stroke='#fff'/>")
        if m.labels and i < len(m.labels) and m.labels[i]:
            out.append(f"<text x='{px + 7:.1f}' y='{py - 6:.1f}' class='pl'>{escape(m.labels[i])}</text>")
    return "".join(out)


def _rule(m: Rule, sx: Scale, sy: Scale, box: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = box
    colour = COLOURS[m.tone]
    if m.axis == "x":
        x = sx(m.value)
        return f"<line x1='{x:.1f}' y1='{y0}' x2='{x:.1f}' y2='{y1}' stroke='{colour}' stroke-width='1.6' stroke-dasharray='5 3'/>"
    y = sy(m.value)
    return f"<line x1='{x0}' y1='{y:.1f}' x2='{x1}' y2='{y:.1f}' stroke='{colour}' stroke-width='1.6' stroke-dasharray='5 3'/>"


def _frame(chart: Chart, ident: str, height: float, body: str) -> str:
    label = escape(chart.title)
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 {WIDTH} {height:.0f}' "
        f"width='{WIDTH}' height='{height:.0f}' role='img' aria-label='{label}' "
        f"aria-describedby='{ident}-d'><title>{label}</title><desc id='{ident}-d'>{escape(chart.alt)}</desc>"
        f"{_legend(chart)}{body}</svg>"
    )


def _label_room(labels: list[str]) -> float:
    return min(210.0, max(60.0, 7.0 * max((len(s) for s in labels), default=4) + 14))


def render_bars(chart: Chart, ident: str) -> str:
    n = max(len(chart.categories), 1)
    left = _label_room(chart.categories)
    y0 = TOP + (18 if chart.y_label else 0)
    y1 = y0 + n * ROW
    sx = Scale(*_extent(chart, "x"), left, WIDTH - RIGHT)

    def cy(i: float) -> float:
        return y0 + (i + 0.5) * ROW

    body = [_x_axis(sx, y0, y1, chart.percent_x, chart.x_label)]
    for i, c in enumerate(chart.categories):
        body.append(
            f"<text x='{left - 6}' y='{cy(i) + 4:.1f}' class='ct' text-anchor='end'>{escape(c)}</text>"
        )
    if chart.y_label:
        body.append(f"<text x='4' y='{y0 - 6}' class='ax'>{escape(chart.y_label)}</text>")
    for m in chart.marks:
        if isinstance(m, Bars):
            body.append(_bars(m, sx, cy))
        elif isinstance(m, Ranges):
            body.append(_ranges(m, sx, cy))
        elif isinstance(m, Points):
            body.append(_points(m, sx, cy))
        elif isinstance(m, Rule):
            body.append(_rule(m, sx, sx, (left, y0, WIDTH - RIGHT, y1)))
    return _frame(chart, ident, y1 + BOTTOM, "".join(body))


def render_xy(chart: Chart, ident: str) -> str:
    left, height = 64.0, 320.0
    y0, y1 = TOP, height - BOTTOM
    sx = Scale(*_extent(chart, "x"), left, WIDTH - RIGHT)
    sy = Scale(*_extent(chart, "y"), y1, y0, log=chart.log_y)
    body = [
        _x_axis(sx, y0, y1, chart.percent_x, chart.x_label),
        _y_axis(sy, left, WIDTH - RIGHT, chart.percent_y, chart.y_label),
    ]
    order = {Band: 0, Rule: 1, Line: 2, Points: 3}
    for m in sorted(chart.marks, key=lambda m: order.get(type(m), 4)):
        if isinstance(m, Band):
            body.append(_band(m, sx, sy))
        elif isinstance(m, Line):
            body.append(_line(m, sx, sy))
        elif isinstance(m, Points):
            body.append(_points(m, sx, sy))
        elif isinstance(m, Rule):
            body.append(_rule(m, sx, sy, (left, y0, WIDTH - RIGHT, y1)))
    return _frame(chart, ident, height, "".join(body))


def _heat_colour(v: float) -> str:
    v = min(max(v, 0.0), 1.0)
    r, g, b = (int(255 - v * (255 - c)) for c in (21, 101, 192))
    return f"#{r:02x}{g:02x}{b:02x}"


def render_heat(chart: Chart, ident: str) -> str:
    heat = next(m for m in chart.marks if isinstance(m, Heat))
    n_r, n_c = len(heat.rows), len(heat.cols)
    left = 28 + _label_room(heat.rows)
    cell = min(56.0, (WIDTH - left - RIGHT) / max(n_c, 1))
    top = TOP + 22 + 5.5 * min(max((len(c) for c in heat.cols), default=4), 16)
    body = [
        f"<text x='{left + n_c * cell / 2:.1f}' y='{TOP + 8}' class='ax' text-anchor='middle'>{escape(chart.x_label)}</text>"
    ]
    for j, c in enumerate(heat.cols):
        x = left + (j + 0.5) * cell
        body.append(
            f"<text x='{x:.1f}' y='{top - 6:.1f}' class='tk' transform='rotate(-40 {x:.1f} {top - 6:.1f})'>"
            f"{escape(c[:16])}</text>"
        )
    hl = set(map(tuple, heat.highlight))
    for i, r in enumerate(heat.rows):
        y = top + i * cell
        body.append(
            f"<text x='{left - 6}' y='{y + cell / 2 + 4:.1f}' class='ct' text-anchor='end'>{escape(r)}</text>"
        )
        for j, v in enumerate(heat.matrix[i]):
            x = left + j * cell
            stroke = " stroke='#ef6c00' stroke-width='3'" if (i, j) in hl else " stroke='#fff'"
            ink = "#fff" if v > 0.55 else "#222"
            body.append(
                f"<rect x='{x:.1f}' y='{y:.1f}' width='{cell:.1f}' height='{cell:.1f}' fill='{_heat_colour(v)}'{stroke}/>"
                f"<text x='{x + cell / 2:.1f}' y='{y + cell / 2 + 4:.1f}' class='cv' fill='{ink}' "
                f"text-anchor='middle'>{v * 100:.0f}%</text>"
            )
    bottom = top + n_r * cell
    mid = (top + bottom) / 2
    body.append(
        f"<text x='14' y='{mid:.1f}' class='ax' text-anchor='middle' transform='rotate(-90 14 {mid:.1f})'>"
        f"{escape(chart.y_label)}</text>"
    )
    return _frame(chart, ident, bottom + 12, "".join(body))


def render(chart: Chart, ident: str) -> str:
    if chart.layout == "bars":
        return render_bars(chart, ident)
    if chart.layout == "heat":
        return render_heat(chart, ident)
    return render_xy(chart, ident)


STYLE = (
    ".chart{max-width:100%;height:auto;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}"
    ".chart .lg,.chart .tk{font-size:11px;fill:#555}"
    ".chart .ax{font-size:12px;fill:#333}.chart .ct{font-size:12px;fill:#222}"
    ".chart .cv{font-size:11px}.chart .pl{font-size:11px;fill:#222}"
    ".chart .grid{stroke:#e4e4e4;stroke-width:1}"
)
