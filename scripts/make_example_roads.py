"""Write data/roads/example.graphml: a small OSMnx-style road graph bundled with resiliopt.

    python scripts/make_example_roads.py

A jittered 8 x 8 grid city (resiliopt.roads.synthetic.grid_city, seed 3, 5 % bridge streets)
with the quirks real OSMnx files have: one merged street whose ``lanes`` is a list, one street
with an explicit ``capacity``, one parallel street (a second edge between the same nodes).
Import it with ``python scripts/import_graphml.py data/roads/example.graphml OUT``.
"""

from pathlib import Path

import networkx as nx

from resiliopt.roads.synthetic import grid_city


def main() -> None:
    g = grid_city(64, seed=3, bridge_share=0.05)
    g.graph["name"] = "resiliopt example roads (synthetic)"
    u, v, k = next(iter(g.edges(keys=True)))
    g.edges[u, v, k]["lanes"] = "['2', '3']"  # OSMnx writes merged values as a list
    u, v, k = list(g.edges(keys=True))[10]
    g.edges[u, v, k]["capacity"] = 55.0  # an explicit capacity wins over lanes
    g.add_edge("n7_6", "n7_7", highway="service", lanes="1", length=520.0)  # a parallel street
    out = Path(__file__).resolve().parents[1] / "data" / "roads" / "example.graphml"
    out.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(g, out)
    print(f"wrote {out}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges")


if __name__ == "__main__":
    main()
