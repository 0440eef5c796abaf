"""Inline SVG charts of the operations page (docs/report.md): lines over periods, the levels
timeline, a Gantt chart and an interval (forest) plot.

Each chart is one ``<svg>`` string; every text and attribute value is escaped. A chart over
periods holds a period marker, ``<line class="pmark" data-x0 data-dx>``: the page's script
moves it to ``x0 + dx * period`` when the period slider moves (``templates/ops.js``).
"""

from __future__ import annotations

import math
from html import escape

#: colours of the layers, in the case's order of layers (cycled)
LAYER_COLOURS = ("#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf")
#: colours of the emergency levels by index (0 = normal), cycled past the end
LEVEL_COLOURS = ("#e8f5e9", "#fff3b0", "#ffcc80", "#ff8a65", "#e53935", "#8e24aa")

W, H = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 58, 150, 16, 36


def _a(v) -> str:
    """An attribute value, escaped."""
    return escape(str(v), quote=True)


def _num(v: float) -> str:
    return f"{v:.1f}"


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(1, n - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    out, v = [], first
    while v <= hi + 1e-9 * step:
        out.append(round(v, 10))
        v += step
    return out


class Frame:
    """The plot area of one chart: data -> pixel coordinates."""

    def __init__(
        self, x0: float, x1: float, y0: float, y1: float, width: int = W, height: int = H, left: int = LEFT
    ):
        self.x0, self.x1 = x0, x1 if x1 > x0 else x0 + 1
        self.y0, self.y1 = y0, y1 if y1 > y0 else y0 + 1
        self.w, self.h, self.left = width, height, left

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * (self.w - self.left - RIGHT)

    def py(self, y: float) -> float:
        return self.h - BOTTOM - (y - self.y0) / (self.y1 - self.y0) * (self.h - TOP - BOTTOM)

    def axes(self, xlabel: str, ylabel: str, yfmt=lambda v: f"{v:g}", xticks=None) -> list[str]:
        out = [
            f'<rect x="{self.left}" y="{TOP}" width="{self.w - self.left - RIGHT}" '
            f'height="{self.h - TOP - BOTTOM}" class="plot"/>'
        ]
        for v in _ticks(self.y0, self.y1, 5):
            y = _num(self.py(v))
            out.append(f'<line x1="{self.left}" x2="{self.w - RIGHT}" y1="{y}" y2="{y}" class="grid"/>')
            out.append(
                f'<text x="{self.left - 6}" y="{y}" class="tick" text-anchor="end">{_a(yfmt(v))}</text>'
            )
        xt = xticks if xticks is not None else [v for v in _ticks(self.x0, self.x1, 11) if v == int(v)]
        for v in xt:
            x = _num(self.px(v))
            out.append(
                f'<text x="{x}" y="{self.h - BOTTOM + 14}" class="tick" text-anchor="middle">'
                f"{_a(f'{v:g}')}</text>"
            )
        out.append(
            f'<text x="{(self.left + self.w - RIGHT) / 2:.0f}" y="{self.h - 4}" class="axis" '
            f'text-anchor="middle">{_a(xlabel)}</text>'
        )
        out.append(
            f'<text x="12" y="{(TOP + self.h - BOTTOM) / 2:.0f}" class="axis" text-anchor="middle" '
            f'transform="rotate(-90 12 {(TOP + self.h - BOTTOM) / 2:.0f})">{_a(ylabel)}</text>'
        )
        return out

    def marker(self, at: float = 0.0) -> str:
        """The period marker (moved by the page's script)."""
        x0, dx = self.px(0), self.px(1) - self.px(0)
        x = _num(x0 + dx * at)
        return (
            f'<line class="pmark" x1="{x}" x2="{x}" y1="{TOP}" y2="{self.h - BOTTOM}" '
            f'data-x0="{x0:.3f}" data-dx="{dx:.3f}"/>'
        )


def _svg(body: list[str], title: str, width: int = W, height: int = H, cls: str = "chart") -> str:
    return (
        f'<svg class="{cls}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_a(title)}"><title>{_a(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _legend(items: list[tuple[str, str]], width: int = W, dash: dict | None = None) -> list[str]:
    out = []
    for k, (label, colour) in enumerate(items):
        y = TOP + 10 + 16 * k
        x = width - RIGHT + 10
        d = f' stroke-dasharray="{dash[label]}"' if dash and label in dash else ""
        out.append(
            f'<line x1="{x}" x2="{x + 18}" y1="{y}" y2="{y}" stroke="{_a(colour)}" stroke-width="3"{d}/>'
        )
        out.append(f'<text x="{x + 24}" y="{y + 4}" class="tick">{_a(label)}</text>')
    return out


def line_chart(
    series: dict[str, tuple[list[float], list[float]]],
    title: str,
    xlabel: str = "period",
    ylabel: str = "served share",
    y_range: tuple[float, float] | None = (0.0, 1.0),
    colours: dict[str, str] | None = None,
    marker: bool = True,
    percent: bool = True,
    x_from: float | None = None,
) -> str:
    """Lines (``label -> (xs, ys)``) over periods; NaN values leave gaps; the x axis starts at
    ``x_from`` if that is before the first x. With ``y_range`` the y axis ends at its top and
    starts at its bottom or, where every value is higher, at the tenth below the lowest value
    (shares near 1 stay readable; the axis says where it starts)."""
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys if y == y]
    if not xs_all:
        return '<p class="none">(no data)</p>'
    lo, hi = y_range if y_range is not None else (min(ys_all, default=0.0), max(ys_all, default=1.0))
    if y_range is not None and ys_all:
        lo = min(max(lo, math.floor(min(ys_all) * 10 - 1e-9) / 10), hi - 0.1)
        lo, hi = min(lo, min(ys_all)), max(hi, max(ys_all))
    first = min(xs_all) if x_from is None else min(x_from, min(xs_all))
    f = Frame(first, max(xs_all), lo, hi)
    yfmt = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:g}")
    body = f.axes(xlabel, ylabel, yfmt)
    colours = colours or {}
    legend = []
    for k, (label, (xs, ys)) in enumerate(series.items()):
        colour = colours.get(label, LAYER_COLOURS[k % len(LAYER_COLOURS)])
        runs, cur = [], []
        for x, y in zip(xs, ys, strict=True):
            if y == y:
                cur.append(f"{_num(f.px(x))},{_num(f.py(y))}")
            elif cur:
                runs.append(cur)
                cur = []
        if cur:
            runs.append(cur)
        for pts in runs:
            body.append(
                f'<polyline points="{" ".join(pts)}" fill="none" stroke="{_a(colour)}" stroke-width="2">'
                f"<title>{_a(label)}</title></polyline>"
            )
            for p in pts:
                x, y = p.split(",")
                body.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{_a(colour)}"/>')
        legend.append((label, colour))
    body += _legend(legend)
    if marker:
        body.append(f.marker(first))
    return _svg(body, title)


def level_timeline(periods: list[dict], level_names: list[str], title: str) -> str:
    """The emergency level of every period (``period, level, level_index, event, reason``)
    as a step band, one colour per level; hovering a period shows its reason."""
    if not periods:
        return '<p class="none">(no periods)</p>'
    n_levels = max(len(level_names), 1 + max(int(p["level_index"]) for p in periods))
    last = max(int(p["period"]) for p in periods)
    f = Frame(0, last + 1, 0, max(1, n_levels - 1), height=220)
    names = list(level_names) + [str(k) for k in range(len(level_names), n_levels)]
    body = f.axes("period", "level", yfmt=lambda v: names[int(v)] if v == int(v) and v < len(names) else "")
    base = f.py(0)
    for p in periods:
        t, k = int(p["period"]), int(p["level_index"])
        colour = LEVEL_COLOURS[k % len(LEVEL_COLOURS)]
        x0, x1 = f.px(t), f.px(t + 1)
        y = f.py(k) if k > 0 else base - 3
        why = f"period {t}: {p['level']} ({p['event']}: {p['reason']})"
        body.append(
            f'<rect x="{_num(x0)}" y="{_num(y)}" width="{_num(x1 - x0)}" height="{_num(base - y)}" '
            f'fill="{colour}" stroke="#888" stroke-width="0.5" class="lvl" data-period="{t}">'
            f"<title>{_a(why)}</title></rect>"
        )
        if p["event"] in ("enter", "leave"):
            body.append(
                f'<text x="{_num(x0 + 2)}" y="{_num(y - 4)}" class="tick">'
                f"{_a(('+' if p['event'] == 'enter' else '-') + str(p['level']))}</text>"
            )
    body += _legend([(n, LEVEL_COLOURS[k % len(LEVEL_COLOURS)]) for k, n in enumerate(names)])
    body.append(f.marker(0))
    return _svg(body, title, height=220)


def gantt(rows: list[tuple[str, list[tuple[float, float, str, str, str]]]], title: str, xlabel: str) -> str:
    """A Gantt chart: ``rows`` of ``(label, bars)``, each bar ``(start, end, text, colour,
    tooltip)``; a bar with colour ``"travel"`` is drawn hatched."""
    bars = [b for _, bs in rows for b in bs]
    if not bars:
        return '<p class="none">(nothing dispatched)</p>'
    height = TOP + BOTTOM + 22 * len(rows) + 8
    f = Frame(0, max(b[1] for b in bars) + 0.5, 0, len(rows), height=height, left=120)
    xt = [v for v in _ticks(f.x0, f.x1, 11) if v == int(v)]
    body = [
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#555" stroke-width="2"/>'
        "</pattern></defs>"
    ]
    body += f.axes(xlabel, "", yfmt=lambda v: "", xticks=xt)
    for k, (label, bs) in enumerate(rows):
        y = TOP + 6 + 22 * k
        body.append(f'<text x="{f.left - 6}" y="{y + 12}" class="tick" text-anchor="end">{_a(label)}</text>')
        for start, end, text, colour, tip in bs:
            x0, x1 = f.px(start), f.px(max(end, start + 0.02))
            fill = "url(#hatch)" if colour == "travel" else _a(colour)
            body.append(
                f'<rect x="{_num(x0)}" y="{y}" width="{_num(max(x1 - x0, 1.5))}" height="16" fill="{fill}" '
                f'stroke="#333" stroke-width="0.5" class="bar"><title>{_a(tip)}</title></rect>'
            )
            if text and x1 - x0 > 7 * len(text):
                body.append(f'<text x="{_num(x0 + 3)}" y="{y + 12}" class="bartext">{_a(text)}</text>')
    body.append(f.marker(0))
    return _svg(body, title, height=height)


def intervals(rows: list[dict], title: str, xlabel: str) -> str:
    """A forest plot: one row per ``label`` with ``value`` and its ``[low, high]`` interval;
    the zero line marks no difference."""
    rows = [r for r in rows if r["value"] == r["value"]]
    if not rows:
        return '<p class="none">(no intervals)</p>'
    vals = [v for r in rows for v in (r["value"], r["low"], r["high"]) if v == v]
    lo, hi = min(vals + [0.0]), max(vals + [0.0])
    pad = 0.08 * (hi - lo or 1.0)
    height = TOP + BOTTOM + 26 * len(rows) + 8
    left = 130
    f = Frame(lo - pad, hi + pad, 0, len(rows), height=height, left=left)
    body = []
    for v in _ticks(f.x0, f.x1, 7):
        x = _num(f.px(v))
        body.append(f'<line x1="{x}" x2="{x}" y1="{TOP}" y2="{height - BOTTOM}" class="grid"/>')
        body.append(
            f'<text x="{x}" y="{height - BOTTOM + 14}" class="tick" text-anchor="middle">{v:g}</text>'
        )
    z = _num(f.px(0))
    body.append(
        f'<line x1="{z}" x2="{z}" y1="{TOP}" y2="{height - BOTTOM}" stroke="#333" stroke-dasharray="4 3"/>'
    )
    for k, r in enumerate(rows):
        y = TOP + 14 + 26 * k
        tip = f"{r['label']}: {r['value']:.4g} [{r['low']:.4g}, {r['high']:.4g}]"
        body.append(
            f'<text x="{left - 8}" y="{y + 4}" class="tick" text-anchor="end">{_a(r["label"])}</text>'
        )
        if r["low"] == r["low"] and r["high"] == r["high"]:
            body.append(
                f'<line x1="{_num(f.px(r["low"]))}" x2="{_num(f.px(r["high"]))}" y1="{y}" y2="{y}" '
                f'stroke="#1d2430" stroke-width="2"><title>{_a(tip)}</title></line>'
            )
        body.append(
            f'<circle cx="{_num(f.px(r["value"]))}" cy="{y}" r="4.5" fill="#b03a2e" class="est">'
            f"<title>{_a(tip)}</title></circle>"
        )
    body.append(
        f'<text x="{(left + W - RIGHT) / 2:.0f}" y="{height - 4}" class="axis" text-anchor="middle">'
        f"{_a(xlabel)}</text>"
    )
    return _svg(body, title, height=height)
