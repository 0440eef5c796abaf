r"""The network map of the operations page (docs/report.md): one panel per layer of the case,
each element (node or link) drawn once, its state at the chosen period given by its CSS class.

Every element of the case has an index :math:`i` (the nodes in the case's order, then the
links); a *frame* (one period of one run) is a string whose character :math:`i` is the state
code of element :math:`i` (:class:`State`), plus the crews at work and the closed roads. The
page's script (``templates/ops.js``) sets each element's class from the frame the period
slider and the run selector choose, and draws the crews and their routes.

Coordinates. With ``x, y`` for every node, the nodes are drawn where they are: degrees
(:math:`|x| \le 180, |y| \le 90`) as an equirectangular projection with
:math:`x \cos \bar\varphi`, anything else as plane coordinates; the event's roads share the
projection. A link is the segment between its end nodes, and its *site* (where a crew works)
is the midpoint, as :func:`resiliopt.emergency.response.element_sites` has it. A case with a
node without coordinates is drawn schematically instead: each layer's own force layout
(networkx ``spring_layout``, seed 0), no roads (their coordinates would mean nothing there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import pandas as pd

from resiliopt.case.infra import InfraCase
from resiliopt.reports.ops_charts import LAYER_COLOURS

WIDTH = 960
GAP, TITLE, PAD = 14, 22, 12


@dataclass(frozen=True)
class State:
    """One state of an element on the map: its code in a frame, the name of its count on the
    map (``data-n-<name>``), its label in the legend and its colour."""

    code: str
    name: str
    label: str
    colour: str
    count: str = "{n} {label}"  # a panel's count of the state, as its title says it


def key(kind, layer, element) -> tuple[str, str, str]:
    """An element's key with the element's id as text (ids read from CSV may be numbers)."""
    e = element
    if isinstance(e, float) and e == int(e):
        e = int(e)
    return (str(kind), str(layer), str(e))


def _a(v) -> str:
    return escape(str(v), quote=True)


class NetworkMap:
    """The map's geometry for one case (and, optionally, the event's roads)."""

    def __init__(self, case: InfraCase, roads=None, width: int = WIDTH):
        self.case = case
        self.layers = [str(v) for v in case.layers["layer"]]
        n, lk = case.nodes, case.links
        self.keys = [key("node", a, b) for a, b in zip(n["layer"], n["node"], strict=True)]
        self.keys += [key("link", a, b) for a, b in zip(lk["layer"], lk["link"], strict=True)]
        self.index = {k: i for i, k in enumerate(self.keys)}
        self.ends = {
            key("link", a, b): (str(f), str(t))
            for a, b, f, t in zip(lk["layer"], lk["link"], lk["from"], lk["to"], strict=True)
        }
        none = [None] * len(n)
        xy = {
            (str(a), str(b)): (x, y)
            for a, b, x, y in zip(n["layer"], n["node"], n.get("x", none), n.get("y", none), strict=True)
        }
        self.geo = bool(xy) and all(
            x is not None and y is not None and math.isfinite(x) and math.isfinite(y) for x, y in xy.values()
        )
        self.roads = roads if self.geo else None
        self.raw = xy if self.geo else self._schematic()
        self._fit(width)

    # ------------------------------------------------------------------ layout
    def _schematic(self) -> dict[tuple[str, str], tuple[float, float]]:
        import networkx as nx  # imported here: only a case without coordinates needs it (0.2 s)

        out = {}
        lk = self.case.links
        for layer in self.layers:
            g = nx.Graph()
            g.add_nodes_from(str(v) for v in self.case.nodes.loc[self.case.nodes["layer"] == layer, "node"])
            mine = lk[lk["layer"] == layer]
            g.add_edges_from((str(f), str(t)) for f, t in zip(mine["from"], mine["to"], strict=True))
            pos = nx.spring_layout(g, seed=0) if len(g) else {}
            out.update({(layer, v): (float(p[0]), float(p[1])) for v, p in pos.items()})
        return out

    def _fit(self, width: int) -> None:
        pts = list(self.raw.values())
        if self.roads is not None:
            pts += [(r.x, r.y) for r in self.roads.nodes]
        xs, ys = [p[0] for p in pts] or [0.0], [p[1] for p in pts] or [0.0]
        degrees = self.geo and all(abs(x) <= 180 for x in xs) and all(abs(y) <= 90 for y in ys)
        self.kx = math.cos(math.radians(sum(ys) / len(ys))) if degrees else 1.0
        self.x0, self.y1 = min(xs) * self.kx, max(ys)
        dx = max(max(xs) * self.kx - self.x0, 1e-9)
        dy = max(self.y1 - min(ys), 1e-9)
        self.cols = 2 if len(self.layers) > 1 else 1
        self.rows = math.ceil(len(self.layers) / self.cols)
        self.pw = (width - GAP * (self.cols - 1)) / self.cols
        inner = self.pw - 2 * PAD
        self.ph = min(max(inner * dy / dx, 180.0), 440.0) + TITLE + 2 * PAD
        self.scale = min(inner / dx, (self.ph - TITLE - 2 * PAD) / dy)
        self.width, self.height = width, self.rows * self.ph + GAP * (self.rows - 1)

    def _origin(self, layer: str) -> tuple[float, float]:
        k = self.layers.index(layer) if layer in self.layers else 0
        return (k % self.cols) * (self.pw + GAP), (k // self.cols) * (self.ph + GAP)

    def xy(self, layer: str, x: float, y: float) -> tuple[float, float]:
        """Data coordinates -> the SVG point in the panel of ``layer``."""
        ox, oy = self._origin(layer)
        return ox + PAD + (x * self.kx - self.x0) * self.scale, oy + TITLE + PAD + (self.y1 - y) * self.scale

    def node(self, layer: str, node: str) -> tuple[float, float] | None:
        p = self.raw.get((layer, node))
        return self.xy(layer, *p) if p is not None else None

    def raw_site(self, k: tuple[str, str, str]) -> tuple[float, float] | None:
        """The element's site in data coordinates (the node, or the link's midpoint)."""
        kind, layer, el = k
        if kind == "node":
            return self.raw.get((layer, el))
        ends = self.ends.get(k)
        a, b = (self.raw.get((layer, ends[0])), self.raw.get((layer, ends[1]))) if ends else (None, None)
        return ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) if a and b else None

    def site(self, k: tuple[str, str, str]) -> tuple[float, float] | None:
        """Where the element's crew works, as an SVG point in its layer's panel."""
        p = self.raw_site(k)
        return self.xy(k[1], *p) if p is not None else None

    def road_points(self, layer: str, ids: list[str]) -> list[tuple[float, float]]:
        pos = {r.id: r for r in self.roads.nodes} if self.roads is not None else {}
        return [self.xy(layer, pos[i].x, pos[i].y) for i in ids if i in pos]

    # ------------------------------------------------------------------ SVG
    def layer_of(self) -> list[int]:
        """The layer index of every element, in element order."""
        return [self.layers.index(k[1]) if k[1] in self.layers else 0 for k in self.keys]

    def states_of(self, codes: dict[tuple[str, str, str], str], default: str = "w") -> str:
        """A frame's state string from ``key -> code`` (every other element: ``default``)."""
        return "".join(codes.get(k, default) for k in self.keys)

    def svg(self, states: str, legend: list[State]) -> str:
        """The map at one frame (the page's script takes over from there)."""
        css = ["#ops-map .el{stroke-linecap:round}"]
        for s in legend:
            css.append(f"#ops-map circle.st-{s.code}{{fill:{s.colour}}}")
            css.append(f"#ops-map line.st-{s.code}{{stroke:{s.colour}}}")
        out = [
            f'<svg id="ops-map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width:.0f} '
            f'{self.height:.0f}" width="{self.width:.0f}" height="{self.height:.0f}" role="img" '
            f'aria-label="network map">',
            f"<style>{''.join(css)}</style>",
        ]
        for k, layer in enumerate(self.layers):
            ox, oy = self._origin(layer)
            colour = LAYER_COLOURS[k % len(LAYER_COLOURS)]
            out.append(
                f'<rect x="{ox:.1f}" y="{oy:.1f}" width="{self.pw:.1f}" height="{self.ph:.1f}" class="panel" '
                f'style="stroke:{colour}"/>'
            )
            out.append(
                f'<text x="{ox + 8:.1f}" y="{oy + 16:.1f}" class="ptitle" data-layer="{k}" '
                f'style="fill:{colour}">{_a(layer)}</text>'
            )
            out += self._roads(layer)
        links, nodes = [], []
        for i, k in enumerate(self.keys):
            code = states[i] if i < len(states) else "w"
            tip = f"<title>{_a(' '.join(k))}</title>"
            if k[0] == "node":
                p = self.node(k[1], k[2])
                if p is not None:
                    nodes.append(
                        f'<circle class="el st-{code}" data-i="{i}" cx="{p[0]:.1f}" cy="{p[1]:.1f}" '
                        f'r="3.4">{tip}</circle>'
                    )
            else:
                ends = self.ends[k]
                a, b = self.node(k[1], ends[0]), self.node(k[1], ends[1])
                if a is not None and b is not None:
                    links.append(
                        f'<line class="el st-{code}" data-i="{i}" x1="{a[0]:.1f}" y1="{a[1]:.1f}" '
                        f'x2="{b[0]:.1f}" y2="{b[1]:.1f}">{tip}</line>'
                    )
        out += links + nodes
        out.append('<g id="ops-crews"></g></svg>')
        return "".join(out)

    def _roads(self, layer: str) -> list[str]:
        if self.roads is None:
            return []
        pos = {r.id: r for r in self.roads.nodes}
        out = []
        for lk in self.roads.links:
            a, b = (
                self.xy(layer, pos[lk.from_].x, pos[lk.from_].y),
                self.xy(layer, pos[lk.to].x, pos[lk.to].y),
            )
            cls = "road bridge" if lk.bridge else "road"
            out.append(
                f'<line class="{cls}" data-road="{_a(lk.id)}" x1="{a[0]:.1f}" y1="{a[1]:.1f}" '
                f'x2="{b[0]:.1f}" y2="{b[1]:.1f}"><title>road {_a(lk.id)}</title></line>'
            )
        for d in self.roads.depots:
            x, y = self.xy(layer, pos[d].x, pos[d].y)
            out.append(
                f'<rect class="depot" x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8">'
                f"<title>depot {_a(d)}</title></rect>"
            )
        return out


def legend_html(legend: list[State], extra: list[tuple[str, str]] = ()) -> str:
    """The map's legend as HTML: each state's colour and label (and ``extra`` symbols)."""
    items = [f'<span class="key"><i style="background:{s.colour}"></i>{_a(s.label)}</span>' for s in legend]
    items += [f'<span class="key"><i class="{_a(c)}"></i>{_a(t)}</span>' for c, t in extra]
    return '<p class="legend">' + " ".join(items) + "</p>"


def damage_keys(df: pd.DataFrame | None) -> set[tuple[str, str, str]]:
    """The keys of a table with kind, layer, element columns."""
    if df is None or df.empty:
        return set()
    return {key(a, b, c) for a, b, c in zip(df["kind"], df["layer"], df["element"], strict=True)}
