r"""How far the capacity-only served-demand LP is from physics, on net3-activsg200 (not a test).

    pip install -e ".[import]"
    python benchmarks/physics_check.py [--doubles 40] [--seed 0] [--skip-water] [--skip-power]

Water: every single pipe, pump and tank failure of Net3 (and a seeded sample of double
failures), served share of the water demand from resiliopt's LP (``InfraFlow``, objective
``served``, the bundled case) against WNTR's pressure-dependent demand (PDD) simulation over
24 h (WNTRSimulator; minimum pressure 0 m, required pressure 14 m (~20 psi), exponent 0.5;
served share = delivered / expected demand summed over junctions and hourly steps). A failed
pipe or pump is closed for the whole run and the controls that act on it are removed; a failed
tank is cut off (every link at it closed). Also with v_max = 1, 2 m/s (re-imported).

Power: every N-1 branch outage of ACTIVSg200, served share of the load from the LP against a
DC optimal power flow with load shedding (angle form, HiGHS through scipy's ``linprog``):

$$\min \sum_d s_d \ \text{s.t.}\ \sum_{g \in G_i} p_g - \sum_{l = (i,\cdot)} f_l + \sum_{l = (\cdot, i)} f_l
= P_i - s_i,\ f_l = \tfrac{S_{base}}{x_l \tau_l}(\theta_i - \theta_j - \phi_l),\ |f_l| \le \bar f_l,\
0 \le p_g \le P^{max}_g,\ 0 \le s_i \le P_i$$

($\tau$ = tap ratio or 1, $\phi$ = phase shift; MATPOWER's DC model, ``makeBdc``). Checked first
on a 3-bus hand example with a known answer (90 MW served by DC, 150 MW by the transport LP).

Prints the tables of docs/import.md ("Checked against physics"): mean absolute error (MAE)
of the served share and Spearman's rank correlation of the losses (element criticality).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog
from scipy.stats import spearmanr

from resiliopt.formulations.infra_flow import InfraFlow
from resiliopt.infra import load_infra_case
from resiliopt.infra.importers import Imported, couple_cases, import_epanet, write_files
from resiliopt.infra.importers._common import Report

CASE = "net3-activsg200"
REQUIRED_P, MIN_P = 14.0, 0.0


# --------------------------------------------------------------------------- DC OPF
def dc_opf_served(buses, loads, gens, branches, base_mva: float, out: set | frozenset = frozenset()) -> float:
    """Served load (MW) of a DC OPF with load shedding; ``branches``: (id, from, to, x, rating,
    tap, shift_deg); ``loads``/``gens``: {bus: MW}/[(bus, Pmax)]; ``out``: branch ids out."""
    bi = {b: k for k, b in enumerate(buses)}
    br = [b for b in branches if b[0] not in out]
    nb, ng, nl = len(buses), len(gens), len(br)
    ld = np.array([loads.get(b, 0.0) for b in buses])
    # columns: theta (nb), p (ng), shed (nb), f (nl)
    nv = nb + ng + nb + nl
    c = np.zeros(nv)
    c[nb + ng : nb + ng + nb] = 1.0
    rows, cols, vals = [], [], []
    for k, (bus, _) in enumerate(gens):
        rows.append(bi[bus]), cols.append(nb + k), vals.append(1.0)
    for i in range(nb):
        rows.append(i), cols.append(nb + ng + i), vals.append(1.0)
    beq = ld.copy()
    flow_rows = []
    for k, (_, a, b, x, _rate, tap, _shift) in enumerate(br):
        fc = nb + ng + nb + k
        rows += [bi[a], bi[b]]
        cols += [fc, fc]
        vals += [-1.0, 1.0]
        flow_rows.append((k, bi[a], bi[b], base_mva / (x * (tap or 1.0)), fc))
    a_bal = sparse.coo_matrix((vals, (rows, cols)), shape=(nb, nv))
    r2, c2, v2, b2 = [], [], [], []
    for k, ia, ib, bsus, fc in flow_rows:
        r2 += [k, k, k]
        c2 += [fc, ia, ib]
        v2 += [1.0, -bsus, bsus]
        b2.append(-bsus * math.radians(br[k][6]))
    a_fl = sparse.coo_matrix((v2, (r2, c2)), shape=(nl, nv))
    a_eq = sparse.vstack([a_bal, a_fl]).tocsr()
    b_eq = np.concatenate([beq, np.array(b2)])
    bounds = [(None, None)] * nb + [(0.0, g[1]) for g in gens] + [(0.0, v) for v in ld]
    bounds += [(-b[4], b[4]) for b in br]
    bounds[0] = (0.0, 0.0)  # reference angle (other islands float: their angles are free)
    res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"DC OPF: {res.message}")
    return float(ld.sum() - res.fun)


def hand_example() -> tuple[float, float]:
    """3 buses, generator at 1 (200 MW), load 150 MW at 3; lines 1-2, 2-3, 1-3 with x = 0.1,
    1-3 rated 60 MW. DC: the direct line takes 2/3 of the transfer, so 2/3 P <= 60, P = 90.
    Transport: 60 direct + 90 via 2 = 150."""
    br = [("12", "1", "2", 0.1, 1000.0, 0.0, 0.0), ("23", "2", "3", 0.1, 1000.0, 0.0, 0.0),
          ("13", "1", "3", 0.1, 60.0, 0.0, 0.0)]  # fmt: skip
    dc = dc_opf_served(["1", "2", "3"], {"3": 150.0}, [("1", 200.0)], br, 100.0)
    rep = Report(title="hand example")
    nodes = [{"layer": "power", "node": "1", "demand": 200}, {"layer": "power", "node": "2", "demand": 0},
             {"layer": "power", "node": "3", "demand": -150}]  # fmt: skip
    links = [{"layer": "power", "link": b[0], "from": b[1], "to": b[2], "capacity": b[4]} for b in br]
    imp = Imported("hand", "", [{"layer": "power", "commodity": "power", "unit": "MW"}], nodes, links, rep)
    with tempfile.TemporaryDirectory() as tmp:
        write_files(imp, Path(tmp))
        flow = InfraFlow(load_infra_case(Path(tmp)), objective="served")
        flow.objective_under(None)
        lp = 150.0 * float(flow.layer_served_share()[0])
    return dc, lp


# --------------------------------------------------------------------------- power
def _scaled(case, factor: float):
    """The case with every power load x ``factor`` (a stress test; 1 = as imported)."""
    if factor == 1.0:
        return case
    imp = couple_cases([case.path], name="scaled")
    for nd in imp.nodes:
        if nd["layer"] == "power" and nd["demand"] < 0:
            nd["demand"] = nd["demand"] * factor
    tmp = Path(tempfile.mkdtemp())
    write_files(imp, tmp)
    return load_infra_case(tmp)


def power_check(case, factor: float = 1.0) -> pd.DataFrame:
    case = _scaled(case, factor)
    side = pd.read_csv(
        Path(case.path).parent / "power_branches.csv", dtype={"link": str, "from": str, "to": str}
    )
    n = case.nodes[case.nodes["layer"] == "power"]
    buses = list(n.loc[n["node_type"] == "bus", "node"])
    loads = {b: -d for b, d in zip(n["node"], n["demand"], strict=True) if d < 0}
    lk = case.links[(case.links["layer"] == "power") & (case.links["link_type"] == "generator connection")]
    pmax = dict(zip(n["node"], n["demand"], strict=True))
    gens = [(t, pmax[f]) for f, t in zip(lk["from"], lk["to"], strict=True)]
    br = list(
        side[["link", "from", "to", "x_pu", "rating_mw", "tap_ratio", "shift_deg"]].itertuples(
            index=False, name=None
        )
    )
    base = float(side["base_mva"].iloc[0])
    total = sum(loads.values())
    flow = InfraFlow(case, objective="served")
    k_power = list(case.layers["layer"]).index("power")
    rows = [("intact", dc_opf_served(buses, loads, gens, br, base) / total, _lp(flow, [], k_power))]
    for b in br:
        rows.append((b[0], dc_opf_served(buses, loads, gens, br, base, {b[0]}) / total,
                     _lp(flow, [("link", "power", b[0])], k_power)))  # fmt: skip
    return pd.DataFrame(rows, columns=["element", "physics", "lp"])


def _lp(flow: InfraFlow, failed: list, k: int) -> float:
    flow.objective_under(failed)
    return float(flow.layer_served_share()[k])


# --------------------------------------------------------------------------- water
def _net3() -> Path:
    import wntr  # ~1 s to import; only the water check needs it

    return Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"


def pdd_share(inp: Path, failed: list[tuple[str, str]]) -> float:
    """Delivered / expected junction demand over 24 h, WNTR PDD, ``failed``: (kind, EPANET id)."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    wn.options.time.duration = 24 * 3600
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = REQUIRED_P
    wn.options.hydraulic.minimum_pressure = MIN_P
    close = []
    for kind, el in failed:
        close += list(wn.get_links_for_node(el)) if kind == "tank" else [el]
    for name in close:
        for cn in list(wn.control_name_list):
            if any(a.target()[0].name == name for a in wn.get_control(cn).actions()):
                wn.remove_control(cn)
        wn.get_link(name).initial_status = wntr.network.LinkStatus.Closed
    try:
        r = wntr.sim.WNTRSimulator(wn).run_sim()
    except Exception:  # no convergence: report as NaN, counted in the table
        return math.nan
    j = wn.junction_name_list
    exp = wntr.metrics.expected_demand(wn)[j].to_numpy().sum()
    return float(r.node["demand"][j].to_numpy().sum() / exp)


def _lp_failed(kind: str, el: str) -> tuple[str, str, str]:
    return {
        "pipe": ("link", "water", el),
        "pump": ("node", "water", f"pump_{el}"),
        "tank": ("node", "water", el),
    }[kind]


def water_elements(case) -> list[tuple[str, str]]:
    lk = case.links[case.links["layer"] == "water"]
    pipes = [("pipe", x) for x in lk.loc[lk["link_type"].str.startswith("pipe"), "link"]]
    pumps = [("pump", x) for x in lk.loc[lk["link_type"] == "pump", "link"]]
    nd = case.nodes[case.nodes["layer"] == "water"]
    tanks = [("tank", x) for x in nd.loc[nd["node_type"] == "tank", "node"]]
    return pipes + pumps + tanks


def water_check(case, doubles: int, seed: int) -> tuple[pd.DataFrame, dict[float, InfraFlow]]:
    inp = _net3()
    els = water_elements(case)
    rng = np.random.default_rng(seed)
    pairs = set()
    while len(pairs) < doubles:
        a, b = rng.choice(len(els), 2, replace=False)
        pairs.add((min(a, b), max(a, b)))
    sets = [[]] + [[e] for e in els] + [[els[a], els[b]] for a, b in sorted(pairs)]
    flows = {3.0: InfraFlow(case, objective="served")}
    for v in (1.0, 2.0):
        imp = couple_cases([case.path], name="v")  # re-import the water layer at v_max = v
        w = import_epanet(inp, max_velocity=v)
        cap = {lk["link"]: lk["capacity"] for lk in w.links}
        for lk in imp.links:
            if lk["layer"] == "water" and lk["link"] in cap:
                lk["capacity"] = cap[lk["link"]]
        with tempfile.TemporaryDirectory() as tmp:
            write_files(imp, Path(tmp))
            flows[v] = InfraFlow(load_infra_case(Path(tmp)), objective="served")
    k = list(case.layers["layer"]).index("water")
    rows = []
    t0 = time.process_time()
    for s in sets:
        name = "intact" if not s else "+".join(f"{kd} {e}" for kd, e in s)
        lp = {v: _lp(f, [_lp_failed(*e) for e in s], k) for v, f in flows.items()}
        rows.append(
            {
                "set": name,
                "size": len(s),
                "physics": pdd_share(inp, s),
                **{f"lp_v{v:g}": x for v, x in lp.items()},
            }
        )
    print(f"water: {len(sets)} PDD simulations, {time.process_time() - t0:.0f} s CPU")
    return pd.DataFrame(rows), flows


def _stats(phys: np.ndarray, lp: np.ndarray) -> tuple[float, float, int]:
    ok = ~np.isnan(phys)
    mae = float(np.mean(np.abs(phys[ok] - lp[ok])))
    rho = float(spearmanr(1 - phys[ok], 1 - lp[ok]).statistic)
    return mae, rho, int((~ok).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--doubles", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-water", action="store_true")
    ap.add_argument("--skip-power", action="store_true")
    ap.add_argument("--load-factors", default="1,1.5,2", help="power loads x these (stress tests)")
    ap.add_argument("--csv", type=Path, help="write the per-element tables here (a folder)")
    a = ap.parse_args()
    dc, lp = hand_example()
    assert abs(dc - 90.0) < 1e-6 and abs(lp - 150.0) < 1e-6, (dc, lp)
    print(f"hand example (3 buses): DC OPF serves {dc:.6g} MW (expected 90), transport LP {lp:.6g} MW (150)")
    case = load_infra_case(CASE)
    if not a.skip_power:
        print(
            "| ACTIVSg200, N-1 branches | outages | intact share DC / LP | outages with loss DC / LP "
            "| MAE | Spearman |"
        )
        print("|---|---|---|---|---|---|")
        tops = []
        for factor in (float(x) for x in a.load_factors.split(",")):
            t0 = time.process_time()
            p = power_check(case, factor)
            s = p[p["element"] != "intact"]
            mae, rho, _ = _stats(s["physics"].to_numpy(), s["lp"].to_numpy())
            lossy_dc, lossy_lp = int((s["physics"] < 1 - 1e-9).sum()), int((s["lp"] < 1 - 1e-9).sum())
            print(
                f"| loads x {factor:g} | {len(s)} | {p['physics'].iloc[0]:.4f} / {p['lp'].iloc[0]:.4f} "
                f"| {lossy_dc} / {lossy_lp} | {mae:.4f} | {rho:.3f} |  ({time.process_time() - t0:.1f} s CPU)"
            )
            top = s.assign(d=1 - s["physics"], l=1 - s["lp"]).sort_values("d", ascending=False).head(6)
            tops.append(
                f"x{factor:g}: "
                + ", ".join(f"{r.element} {r.d:.3f} (LP {r.l:.3f})" for r in top.itertuples())
            )
            if a.csv:
                a.csv.mkdir(parents=True, exist_ok=True)
                p.to_csv(a.csv / f"power_n1_x{factor:g}.csv", index=False)
        print("top DC losses per load factor:", *tops, sep="\n  ")
    if not a.skip_water:
        w, _ = water_check(case, a.doubles, a.seed)
        print(f"water: intact PDD share {w['physics'].iloc[0]:.4f}")
        print("| water (Net3) | v_max m/s | sets | MAE | Spearman | PDD failed to converge |")
        print("|---|---|---|---|---|---|")
        for size, label in ((1, "single failures"), (2, "double failures (sample)")):
            s = w[w["size"] == size]
            for v in (1.0, 2.0, 3.0):
                mae, rho, nn = _stats(s["physics"].to_numpy(), s[f"lp_v{v:g}"].to_numpy())
                print(f"| {label} | {v:g} | {len(s)} | {mae:.4f} | {rho:.3f} | {nn} |")
        s1 = w[w["size"] == 1].assign(d=lambda d: 1 - d["physics"], l=lambda d: 1 - d["lp_v3"])
        top = s1.sort_values("d", ascending=False).head(10)
        print("top PDD losses:", ", ".join(f"{r.set} {r.d:.3f} (LP {r.l:.3f})" for r in top.itertuples()))
        top = s1.sort_values("l", ascending=False).head(10)
        print("top LP losses:", ", ".join(f"{r.set} {r.l:.3f} (PDD {r.d:.3f})" for r in top.itertuples()))
        if a.csv:
            a.csv.mkdir(parents=True, exist_ok=True)
            w.to_csv(a.csv / "water.csv", index=False)


if __name__ == "__main__":
    main()
