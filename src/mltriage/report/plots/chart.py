"""What a plot shows, declared as data: a Chart of marks (bars, ranges, lines, bands, points,
reference rules, a heat map). The plot builders of each family return Charts; `svg.render` draws
one as inline SVG (and any other backend could draw the same Chart: benchmarks/bench_report.py
draws them with matplotlib to compare).

Two layouts: "bars" puts `categories` down the vertical axis and values along the horizontal one
(bars, ranges, points per category); "xy" has two numeric axes (lines, bands, points, rules).
A "heat" chart has one Heat mark and no numeric axis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

Tone = str  # one of svg.COLOURS: "base", "alert", "ok", "muted", "accent"


@dataclass
class Bars:
    """A bar per category from 0 (or `start`), with optional interval whiskers."""

    values: list[float]
    low: list[float | None] | None = None
    high: list[float | None] | None = None
    tones: list[Tone] | None = None  # one per bar; "alert" highlights
    name: str = ""
    start: float = 0.0


@dataclass
class Ranges:
    """A segment per category, from low to high (a training range, a batch's values)."""

    low: list[float | None]
    high: list[float | None]
    tone: Tone = "base"
    name: str = ""
    offset: float = 0.0  # vertical shift within the category band, -0.5..0.5


@dataclass
class Line:
    xs: list[float]
    ys: list[float]
    name: str = ""
    tone: Tone = "base"
    dashed: bool = False
    markers: bool = True


@dataclass
class Band:
    """A shaded interval around a line (xy) between `low` and `high`."""

    xs: list[float]
    low: list[float]
    high: list[float]
    name: str = ""
    tone: Tone = "base"


@dataclass
class Points:
    """Points on an xy chart, or one per category on a bars chart (xs are then the values and
    ys the category positions 0..n-1)."""

    xs: list[float]
    ys: list[float]
    name: str = ""
    tone: Tone = "accent"
    labels: list[str] | None = None


@dataclass
class Rule:
    """A reference line across the plot at a value of one axis."""

    value: float
    axis: Literal["x", "y"] = "x"
    name: str = ""
    tone: Tone = "muted"


@dataclass
class Heat:
    """A matrix of shares in [0, 1] with row and column labels; `highlight` lists (row, col)."""

    matrix: list[list[float]]
    rows: list[str]
    cols: list[str]
    highlight: list[tuple[int, int]] = field(default_factory=list)


Mark = Union[Bars, Ranges, Line, Band, Points, Rule, Heat]


@dataclass
class Chart:
    title: str  # says what to see, e.g. "Predicted 0.9 comes true 57% of the time"
    alt: str  # the text alternative: what the plot shows, in numbers
    x_label: str = ""  # with units, e.g. "PSI (population stability index)"
    y_label: str = ""
    layout: Literal["bars", "xy", "heat"] = "xy"
    categories: list[str] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    x_min: float | None = None
    x_max: float | None = None
    y_min: float | None = None
    y_max: float | None = None
    log_y: bool = False
    percent_x: bool = False  # tick labels as percentages
    percent_y: bool = False
    note: str = ""  # a line under the plot (e.g. "dashed: perfectly calibrated")
    key: str = ""  # which plot this is (stable id part), e.g. "reliability"
