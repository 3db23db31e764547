"""Charts drawn on the server as SVG: no JavaScript, readable by screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
LEFT, RIGHT, TOP = 56, 16, 16


@dataclass(frozen=True)
class Series:
    """One set of values drawn in one colour (a CSS class in console.css)."""

    name: str
    values: Sequence[float]
    css: str


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten, at least 1) for about `ticks` gridlines."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return float(max(step, 1))


def _num(v: float) -> str:
    return f"{v:g}" if v != int(v) else str(int(v))


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def columns(
    chart_id: str,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    top: float | None = None,
    height: int = 260,
) -> Markup:
    """Grouped columns, one group per label (a day), one column per series, with a y-axis."""
    bottom = 56 if len(series) > 1 else 36
    plot_h = height - TOP - bottom
    plot_w = WIDTH - LEFT - RIGHT
    peak = max((v for s in series for v in s.values), default=0.0)
    limit = top if top is not None else peak
    step = nice_step(limit)
    axis_top = top if top is not None else max(step, math.ceil(limit / step) * step)
    body: list[str] = []
    tick = 0.0
    while tick <= axis_top + 1e-9:
        y = TOP + plot_h - plot_h * tick / axis_top
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" '
                    f'y2="{y:.1f}"/>')
        body.append(f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" '
                    f'text-anchor="end">{_num(tick)}{escape(unit)}</text>')
        tick += step
    n = max(len(labels), 1)
    group = plot_w / n
    bar = max(1.0, group * 0.8 / max(len(series), 1))
    every = max(1, math.ceil(n / 12))  # at most about 12 labels under the axis
    for i, label in enumerate(labels):
        x0 = LEFT + i * group + group * 0.1
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else 0
            h = plot_h * value / axis_top if axis_top else 0
            body.append(
                f'<rect class="{escape(s.css)}" x="{x0 + j * bar:.1f}" '
                f'y="{TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
                f"<title>{escape(label)}: {_num(value)}{escape(unit)} {escape(s.name)}</title>"
                "</rect>"
            )
        if (n - 1 - i) % every == 0:  # the latest day always has its label
            body.append(f'<text class="label" x="{LEFT + i * group + group / 2:.1f}" '
                        f'y="{TOP + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    body.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" '
                f'y2="{TOP + plot_h}"/>')
    if len(series) > 1:
        x = LEFT
        for s in series:
            ly = height - 16
            body.append(f'<rect class="{escape(s.css)}" x="{x}" y="{ly - 10}" width="12" '
                        'height="12"/>')
            body.append(f'<text class="legend" x="{x + 18}" y="{ly}">{escape(s.name)}</text>')
            x += 30 + 8 * len(s.name)
    return _svg(chart_id, title, desc, height, body)


def bars(
    chart_id: str,
    title: str,
    desc: str,
    items: Sequence[tuple[str, float, str]],
    *,
    total: float | None = None,
) -> Markup:
    """Horizontal bars, one per (label, value, css class), with the value (and share) written."""
    row = 28
    label_w = 190
    height = TOP * 2 + row * max(len(items), 1)
    peak = max((v for _, v, _ in items), default=0.0) or 1.0
    plot_w = WIDTH - label_w - RIGHT - 110
    body: list[str] = []
    if not items:
        body.append(f'<text class="label" x="{LEFT}" y="{TOP + 18}">Nothing in this period'
                    "</text>")
    for i, (label, value, css) in enumerate(items):
        y = TOP + i * row
        w = plot_w * value / peak
        share = f" ({100 * value / total:.0f}%)" if total else ""
        body.append(f'<text class="label" x="{label_w - 8}" y="{y + 18}" '
                    f'text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect class="{escape(css)}" x="{label_w}" y="{y + 5}" width="{w:.1f}" '
                    f'height="{row - 10}"><title>{escape(label)}: {_num(value)}{share}</title>'
                    "</rect>")
        body.append(f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 18}">'
                    f"{_num(value)}{escape(share)}</text>")
    return _svg(chart_id, title, desc, height, body)
