"""Convert the INDP Shelby County data (Gonzalez et al. 2016) to the resiliopt infra case format.

    python scripts/convert_shelby_indp.py [SRC] [OUT]

SRC defaults to ../shared/data/indp_shelby_2015 (MURI_INDP_data.txt, probM6..9.txt, LICENSE,
SOURCE.md, README.txt), OUT to data/infra/shelby-indp. Readings of the format that the source
leaves open are listed in docs/infra.md ("shelby-indp"); the main ones:

* networks k = 1, 2, 3 are the layers water, gas, power; commodity index l always equals k;
* every arc is listed in both directions with identical c, f, u, h, beta and failure
  probability: each pair becomes one two-way link ``i-j`` (i < j) carrying those values;
* gamma(i, j, k, kt) = 1: node i of network k is needed by node j of network kt
  (dependee i, depender j, physical, loss 1);
* alpha (nodes in spaces) is empty in the file (one zero entry): only links lie in spaces.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from resiliopt._tables import write_csv

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {1: "water", 2: "gas", 3: "power"}
DUPLICATES: dict[str, int] = {}
ENTRY = re.compile(r"^\(([^)]*)\)\s*(\S+)\s*$")


def parse_opl(path: Path) -> dict[str, dict[tuple[int, ...], float]]:
    """``name:[`` ... ``(i, j, k) value`` ... ``]`` blocks -> {name: {index tuple: value}}."""
    blocks: dict[str, dict[tuple[int, ...], float]] = {}
    current = None
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        m = re.match(r"^(\w+):\[$", line)
        if m:
            current = blocks.setdefault(m.group(1), {})
            continue
        if line == "]":
            current = None
            continue
        closing = line.endswith("]")
        body = line[:-1].strip() if closing else line
        m = ENTRY.match(body)
        if current is None or not m:
            raise SystemExit(f"{path}:{lineno}: cannot read {line!r}")
        key = tuple(int(x) for x in m.group(1).split(","))
        value = float(m.group(2))
        if key in current:
            # the power arcs are listed twice over; repeats with the same value are one entry
            if current[key] != value:
                raise SystemExit(f"{path}:{lineno}: entry {key} repeated with another value")
            DUPLICATES[path.name] = DUPLICATES.get(path.name, 0) + 1
        current[key] = value
        if closing:
            current = None
    return blocks


def num(v: float) -> str:
    return f"{v:.10g}"


def link_id(i: int, j: int) -> str:
    a, b = sorted((i, j))
    return f"{a}-{b}"


def convert(src: Path, out: Path) -> None:
    d = parse_opl(src / "MURI_INDP_data.txt")
    out.mkdir(parents=True, exist_ok=True)
    assert all(k[1] == k[2] for k in d["b"]) and all(k[2] == k[3] for k in d["c"]), "commodity l != network k"
    assert all(v == 0 for v in d["alpha"].values()), "alpha has entries: nodes in spaces are not converted"
    assert len(d["v"]) == 1 and all(len(k) == 4 and k[3] == 1 for k in d["h"]), "more than one resource"

    # nodes
    rows = []
    for (i, k), flag in sorted(d["n"].items(), key=lambda t: (t[0][1], t[0][0])):
        if not flag:
            continue
        rows.append(
            [
                LAYERS[k],
                i,
                num(d["b"].get((i, k, k), 0.0)),
                num(d["q"][(i, k)]),
                num(d["p"][(i, k, 1)]),
                num(d["Mp"][(i, k, k)]),
                num(d["Mm"][(i, k, k)]),
            ]
        )
    write_csv(
        out / "nodes.csv",
        ["layer", "node", "demand", "repair_cost", "resource_use", "oversupply_penalty", "unmet_penalty"],
        rows,
    )

    # links: one two-way link per pair of opposite arcs with identical data
    rows, seen = [], set()
    for (i, j, k), flag in sorted(d["a"].items(), key=lambda t: (t[0][2], min(t[0][:2]), max(t[0][:2]))):
        if not flag or (min(i, j), max(i, j), k) in seen:
            continue
        seen.add((min(i, j), max(i, j), k))
        for name, key in (("c", (i, j, k, k)), ("f", (i, j, k)), ("u", (i, j, k)), ("h", (i, j, k, 1))):
            rev = (j, i, *key[2:])
            assert d[name][key] == d[name][rev], f"{name}{key} differs from its opposite arc"
        a, b = sorted((i, j))
        rows.append(
            [
                LAYERS[k],
                link_id(i, j),
                a,
                b,
                num(d["u"][(i, j, k)]),
                num(d["c"][(i, j, k, k)]),
                num(d["f"][(i, j, k)]),
                num(d["h"][(i, j, k, 1)]),
            ]
        )
    write_csv(
        out / "links.csv",
        ["layer", "link", "from", "to", "capacity", "flow_cost", "repair_cost", "resource_use"],
        rows,
    )

    # dependencies
    rows = [
        [LAYERS[k], i, LAYERS[kt], j, "physical", "1"]
        for (i, j, k, kt), v in sorted(d["gamma"].items(), key=lambda t: (t[0][2], t[0][3], t[0][1], t[0][0]))
        if v
    ]
    write_csv(
        out / "dependencies.csv",
        ["dependee_layer", "dependee", "depender_layer", "depender", "type", "loss"],
        rows,
    )

    # spaces and the links in them
    write_csv(
        out / "spaces.csv", ["space", "preparation_cost"], [[s, num(g)] for (s,), g in sorted(d["g"].items())]
    )
    pairs = sorted(
        {(LAYERS[k], link_id(i, j), s) for (i, j, k, s), v in d["beta"].items() if v},
        key=lambda t: (t[0], t[1], int(t[2])),
    )
    write_csv(
        out / "element_spaces.csv", ["kind", "layer", "element", "space"], [["link", *p] for p in pairs]
    )

    # failure probabilities
    rows = []
    for mag in (6, 7, 8, 9):
        pr = parse_opl(src / f"probM{mag}.txt")
        for (i, k), p in sorted(pr["probn"].items(), key=lambda t: (t[0][1], t[0][0])):
            rows.append([mag, "node", LAYERS[k], i, num(p)])
        done = set()
        for (i, j, k), p in sorted(
            pr["proba"].items(), key=lambda t: (t[0][2], min(t[0][:2]), max(t[0][:2]))
        ):
            lid = link_id(i, j)
            if (k, lid) in done:
                continue
            assert pr["proba"][(j, i, k)] == p, f"probM{mag}: arc ({i},{j},{k}) and its opposite differ"
            done.add((k, lid))
            rows.append([mag, "link", LAYERS[k], lid, num(p)])
    write_csv(out / "failure_probability.csv", ["magnitude", "kind", "layer", "element", "p"], rows)

    v = d["v"][(1,)]
    (out / "case.yaml").write_text(
        f"""# Generated by scripts/convert_shelby_indp.py from {src.name}; do not edit by hand.
kind: infra_case
name: shelby-indp
description: >-
  Shelby County (TN) interdependent water, gas and power networks of the INDP paper
  (Gonzalez, Duenas-Osorio, Sanchez-Silva, Medaglia 2016), with the failure probabilities of
  every node and link for earthquakes of magnitude 6 to 9.
source: SOURCE.md
currency: USD (as in the source; not stated)
layers:
  - {{layer: water, commodity: water, unit: source units (not stated)}}
  - {{layer: gas, commodity: gas, unit: source units (not stated)}}
  - {{layer: power, commodity: electric power, unit: source units (not stated)}}
resources:
  - {{resource: repair, per_period: {num(v)}}}
nodes: nodes.csv
links: links.csv
dependencies: dependencies.csv
spaces: spaces.csv
element_spaces: element_spaces.csv
failure_probability: failure_probability.csv
"""
    )
    for f in ("LICENSE", "SOURCE.md", "README.txt"):
        shutil.copyfile(src / f, out / f)
    (out / "README.md").write_text(
        """# shelby-indp

Generated by `scripts/convert_shelby_indp.py` from the INDP Shelby County data set
(`MURI_INDP_data.txt`, `probM6..9.txt`); see `SOURCE.md` (origin), `README.txt` (the authors'
description of the source format) and `LICENSE` (MIT, htalebiyan/Dec2py). Node ids are the
source's 1-based numbers per network; link `i-j` (i < j) stands for the two opposite arcs
(i, j) and (j, i) of the source. Every reading of the source format is in docs/infra.md.
"""
    )


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "indp_shelby_2015"
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data" / "infra" / "shelby-indp"
    if not src.is_dir():
        sys.exit(f"source folder {src} not found: give it as the first argument")
    convert(src, out)
    print(f"wrote {out}; repeated identical entries collapsed: {DUPLICATES}")
