"""Convert the extended Shelby County data (htalebiyan/Dec2py) to the resiliopt infra case format.

    python scripts/convert_shelby_extended.py [SRC] [OUT]

SRC defaults to ../shared/data/extended_shelby (node and arc CSVs of four networks,
Interdep.csv, g.csv, beta.csv, damage_scenarios_wu/SetS/SceN), OUT to
data/infra/shelby-extended. Readings of the format that the source leaves open are listed in
docs/infra.md ("shelby-extended"); the main ones:

* arcs are undirected: one two-way link per arc, id = the arc's ``ID``;
* a damaged arc is given by its end pair; when two arcs join the same pair (power 5-64) both fail;
* the scenario folder ``SetS/SceN`` is the damage scenario ``setS/sceN``;
* dependencies: ``Type`` lower-cased (physical, cyber), loss 1 (the depender fails);
* repeated rows of beta.csv (same arc and subspace) are kept once;
* population ``N/A`` (power intersection points, telecom splice capsules) is 0;
* repair times, resource use and the resources per period are not in the source: 1 period,
  1 unit, v = 3 per period (the issue's td-INDP benchmark setting).
"""

from __future__ import annotations

import csv
import shutil
import sys
from collections import defaultdict
from pathlib import Path

from resiliopt._tables import write_csv

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = {"Water": "water", "Gas": "gas", "Power": "power", "Telecommunication": "telecom"}
COMMODITY = {"water": "water", "gas": "gas", "power": "electric power", "telecom": "data"}


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(fh)]


def num(v: str | float) -> str:
    return f"{float(v):.10g}"


def convert(src: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    nodes, links = [], []
    pair_links: dict[tuple[str, frozenset], list[str]] = defaultdict(list)
    link_ends: dict[tuple[str, str], frozenset] = {}
    for net, layer in NETWORKS.items():
        for r in read(src / f"{net}Nodes.csv"):
            nodes.append(
                [
                    layer,
                    r["ID"],
                    num(r["Demand"]),
                    num(r["q (complete DS)"]),
                    num(r["Mp"]),
                    num(r["Mm"]),
                    ("0" if r["population"] == "N/A" else num(r["population"])),
                    num(r["X"]),
                    num(r["Y"]),
                    r["Node Type"],
                ]
            )
        for r in read(src / f"{net}Arcs.csv"):
            a, b = r["Start Node"], r["End Node"]
            links.append(
                [
                    layer,
                    r["ID"],
                    a,
                    b,
                    num(r["u"]),
                    num(r["c"]),
                    num(r["f"]),
                    num(r["Length (km)"]),
                    r["Arc Type"],
                ]
            )
            pair_links[(layer, frozenset((a, b)))].append(r["ID"])
            link_ends[(layer, r["ID"])] = frozenset((a, b))
    write_csv(
        out / "nodes.csv",
        [
            "layer",
            "node",
            "demand",
            "repair_cost",
            "oversupply_penalty",
            "unmet_penalty",
            "population",
            "x",
            "y",
            "node_type",
        ],
        nodes,
    )
    write_csv(
        out / "links.csv",
        ["layer", "link", "from", "to", "capacity", "flow_cost", "repair_cost", "length_km", "link_type"],
        links,
    )

    deps = [
        [
            NETWORKS[r["Dependee Network"]],
            r["Dependee Node"],
            NETWORKS[r["Depender Network"]],
            r["Depender Node"],
            r["Type"].lower(),
            "1",
        ]
        for r in read(src / "Interdep.csv")
    ]
    write_csv(
        out / "dependencies.csv",
        ["dependee_layer", "dependee", "depender_layer", "depender", "type", "loss"],
        deps,
    )

    write_csv(
        out / "spaces.csv",
        ["space", "preparation_cost"],
        [[r["Subspace_ID"], num(r["g"])] for r in read(src / "g.csv")],
    )
    es = []
    for r in read(src / "beta.csv"):
        layer = NETWORKS[r["Network"]]
        assert link_ends[(layer, r["Arc ID"])] == frozenset((r["Start Node"], r["End Node"])), r
        row = ["link", layer, r["Arc ID"], r["Subspace"]]
        if row not in es:  # beta.csv repeats some (arc, subspace) rows
            es.append(row)
    write_csv(out / "element_spaces.csv", ["kind", "layer", "element", "space"], es)

    # damage scenarios of Wu et al.: SetS/SceN/Net_<Network>_Damaged_{Nodes,Arcs}.txt
    damage, names = [], []
    root = src / "damage_scenarios_wu"
    sets = sorted(root.glob("Set*"), key=lambda p: int(p.name[3:]))
    for sdir in sets:
        for cdir in sorted(sdir.glob("Sce*"), key=lambda p: int(p.name[3:])):
            name = f"set{sdir.name[3:]}/sce{cdir.name[3:]}"
            names.append(name)
            for net, layer in NETWORKS.items():
                f = cdir / f"Net_{net}_Damaged_Nodes.txt"
                if f.is_file():
                    for line in f.read_text().split("\n"):
                        if line.strip():
                            damage.append([name, "node", layer, str(int(float(line)))])
                f = cdir / f"Net_{net}_Damaged_Arcs.txt"
                if f.is_file():
                    for line in f.read_text().split("\n"):
                        if line.strip():
                            a, b = (str(int(float(x))) for x in line.split())
                            ids = pair_links[(layer, frozenset((a, b)))]
                            assert ids, f"{f}: no arc joins {a} and {b}"
                            damage.extend([name, "link", layer, lid] for lid in ids)
    write_csv(out / "damage.csv", ["scenario", "kind", "layer", "element"], damage)

    scen = "\n".join(f"  - {n}" for n in names)
    layers = "\n".join(
        f"  - {{layer: {lay}, commodity: {COMMODITY[lay]}, unit: source units (not stated)}}"
        for lay in NETWORKS.values()
    )
    (out / "case.yaml").write_text(
        f"""# Generated by scripts/convert_shelby_extended.py from {src.name}; do not edit by hand.
kind: infra_case
name: shelby-extended
description: >-
  Extended Shelby County (TN) water, gas, power and telecommunication networks with their
  physical and cyber dependencies, coordinates, population served, geographic subspaces and
  the earthquake damage scenarios of Wu et al. (sets 0-9).
source: SOURCE.md
currency: USD (as in the source; not stated)
layers:
{layers}
resources:  # not in the source: v = 3 per period
  - {{resource: repair, per_period: 3}}
nodes: nodes.csv
links: links.csv
dependencies: dependencies.csv
spaces: spaces.csv
element_spaces: element_spaces.csv
damage: damage.csv
damage_scenarios:
{scen}
{EMERGENCY}"""
    )
    for f in ("LICENSE", "SOURCE.md"):
        shutil.copyfile(src / f, out / f)
    (out / "README.md").write_text(
        """# shelby-extended

Generated by `scripts/convert_shelby_extended.py` from the extended Shelby County data set
(see `SOURCE.md` for the origin and `LICENSE`, MIT, htalebiyan/Dec2py). Node and link ids are
the source's `ID`s (0-based, per network); damage scenario `setS/sceN` is the source folder
`damage_scenarios_wu/SetS/SceN` (sets 0-9). `Population.csv` of the source (census tracts) is
not carried over: the population served by each node is the nodes' own `population` column.
Every reading of the source format is in docs/infra.md.
"""
    )
    print(
        f"wrote {out}: {len(nodes)} nodes, {len(links)} links, {len(deps)} dependencies, "
        f"{len(names)} damage scenarios ({len(damage)} failed-element rows)"
    )


# Not in the source: resiliopt's example emergency levels (docs/emergency.md), not an official plan.
EMERGENCY = """emergency:  # not in the source: an example of docs/emergency.md, not an official plan
  min_dwell: 2
  levels:
    - {name: normal, response: {resources_per_period: 3, horizon: 3}}
    - name: IV
      enter: {unserved_share: 0.02}
      leave: {unserved_share: 0.01}
      response: {resources_per_period: 4}
    - name: III
      enter: {unserved_share: 0.10, failed_critical: 2}
      leave: {unserved_share: 0.05, failed_critical: 1}
      response: {resources_per_period: 6}
    - name: II
      enter: {unserved_share: 0.25, failed_critical: 4}
      leave: {unserved_share: 0.15, failed_critical: 3}
      response: {resources_per_period: 8, horizon: 4}
    - name: I
      enter: {unserved_share: 0.45}
      leave: {unserved_share: 0.30}
      response: {resources_per_period: 10, horizon: 4}
"""


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "extended_shelby"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data" / "infra" / "shelby-extended"
    if not src.is_dir():
        sys.exit(f"source folder {src} not found: give it as the first argument")
    convert(src, out)
