"""Correlated ground motion and damage, the paper's bridge retrofit, supply rates, reachability."""

import math

import networkx as nx
import numpy as np
import pytest
import yaml

from resiliopt import hazard
from resiliopt.case import load_case
from resiliopt.errors import InputError
from resiliopt.schemas import Case
from resiliopt.simulation.engine import compiled_for, run_scenario
from resiliopt.simulation.montecarlo import variant_cost
from resiliopt.simulation.scenario import RecoveryState, case_model, sample_scenario


def _case_copy(tmp_path, **changes):
    """The bundled case with changes to case.yaml (dotted keys)."""
    import shutil

    src = load_case("beijing").path
    src = src.parent if src.is_file() else src
    dst = tmp_path / "case"
    shutil.copytree(src, dst)
    doc = yaml.safe_load((dst / "case.yaml").read_text())
    for key, value in changes.items():
        d = doc
        *head, last = key.split("__")
        for k in head:
            d = d.setdefault(k, {})
        d[last] = value
    (dst / "case.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return load_case(dst)


def test_defaults_are_the_papers_independent_draws():
    h = Case.model_fields["hazard"].default
    assert h.ground_motion.tau == 0 and h.ground_motion.phi == 0 and h.category_correlation == 0
    cm = case_model(load_case("beijing"))
    bl = cm.case.buildings
    for i in range(5):
        sc = sample_scenario(cm, 3, i)
        # the old sampling: one normal per group, then one per bridge, nothing else
        rng = np.random.default_rng(np.random.SeedSequence([3, i]))
        g = hazard.damage_state(
            hazard.sample_drift(rng, cm.g_a, 0.25, bl.b, bl.zeta), bl.thresholds.as_list()
        )
        b = hazard.sample_drift(rng, cm.bridge_a, 0.25, cm.bridge_b, cm.bridge_zeta)
        b = hazard.damage_state(b, cm.case.bridges.thresholds.as_list())
        assert np.array_equal(sc.group_state, g) and np.array_equal(sc.bridge_state, b)


def test_site_residuals_have_the_exponential_correlation():
    rng = np.random.default_rng(0)
    x = np.array([0.0, 5.0, 20.0, 60.0])
    y = np.zeros(4)
    r = 40.7
    corr = hazard.distance_correlation(x, y, r)
    assert corr[0, 1] == pytest.approx(math.exp(-3 * 5 / r)) and corr[0, 0] == 1.0
    factor = hazard.correlation_factor(corr)
    tau, phi = 0.3, 0.5
    d = np.array([hazard.site_log_residuals(rng, factor, tau, phi) for _ in range(20000)])
    emp = np.cov(d.T)
    expect = tau**2 + phi**2 * corr  # between-event term common to all sites
    assert np.allclose(emp, expect, atol=0.012)


def test_marginal_unsafe_share_with_ground_motion(tmp_path):
    """P(unsafe) = lognormal exceedance with dispersion sqrt(zeta^2 + b^2 (tau^2 + phi^2))."""
    cd = _case_copy(
        tmp_path,
        hazard__ground_motion={"tau": 0.3, "phi": 0.4, "range_km": 10.0},
        hazard__category_correlation=0.6,
    )
    cm = case_model(cd)
    bl = cd.buildings
    n = 1500
    unsafe = np.array([sample_scenario(cm, 7, i).group_state >= 2 for i in range(n)])
    sig = math.sqrt(bl.zeta**2 + bl.b**2 * (0.3**2 + 0.4**2))
    for c in range(len(bl.categories)):
        cols = cm.g_cat == c
        p = float(hazard.exceedance(bl.categories[c].a, 0.25, bl.b, sig, bl.theta_cr))
        share = unsafe[:, cols].mean()
        # scenarios are independent; groups within one are correlated: loose but meaningful bound
        assert share == pytest.approx(p, abs=0.04), bl.categories[c].id


def test_damage_is_correlated_within_a_category_and_in_space(tmp_path):
    n = 1500
    cm0 = case_model(load_case("beijing"))
    cmc = case_model(_case_copy(tmp_path, hazard__category_correlation=0.7))
    # two groups of category 0 at different nodes, and a group of another category at the first node
    g = np.flatnonzero(cm0.g_cat == 0)[:2]
    other = np.flatnonzero((cm0.g_cat == 1) & (cm0.g_site == cm0.g_site[g[0]]))[0]

    def states(cm):
        return np.array([sample_scenario(cm, 1, i).group_state for i in range(n)]) >= 2

    s0, sc = states(cm0), states(cmc)
    corr = lambda s, a, b: np.corrcoef(s[:, a], s[:, b])[0, 1]  # noqa: E731
    assert abs(corr(s0, g[0], g[1])) < 0.1
    assert corr(sc, g[0], g[1]) > 0.3
    assert abs(corr(sc, g[0], other)) < 0.1  # other category, no ground-motion correlation


def test_paper_bridge_retrofit_variant():
    cd = load_case("beijing")
    cm = case_model(cd, "bridges_paper")
    assert len(cm.bridge_ids) == 36 and np.all(cm.bridge_a == cd.bridges.grades["retrofit"].a)
    assert variant_cost(cd, "bridges_paper")["bridges"] == pytest.approx(7.2)
    assert variant_cost(cd, "bridges")["bridges"] == pytest.approx(23 * 0.2)
    # stronger bridges: fewer damaged, same scenarios (common random numbers)
    lo = case_model(cd, "bridges")
    d_paper = sum((sample_scenario(cm, 0, i).bridge_state > 0).sum() for i in range(200))
    d_higher = sum((sample_scenario(lo, 0, i).bridge_state > 0).sum() for i in range(200))
    assert d_paper < d_higher


def test_unknown_bridge_grade_is_refused(tmp_path):
    cd = _case_copy(tmp_path, variants__x={"upgrade_bridges": "all", "bridge_grade": "titanium"})
    with pytest.raises(InputError) as e:
        case_model(cd, "x")
    assert "variants.x.bridge_grade" in str(e.value) and "titanium" in str(e.value)


def _reachable_nx(st, cap):
    cm = st.cm
    g = nx.DiGraph()
    for (u, v), c in zip(cm.arcs[["from", "to"]].itertuples(index=False, name=None), cap, strict=True):
        if c > 0:
            g.add_edge(u, v)
    src = cm.case.network.entry.id
    seen = nx.descendants(g, src) if src in g else set()
    return np.array([n in seen for n in cm.g_node])


def test_unit_rate_and_unreachable_demand():
    cm = case_model(load_case("beijing"))
    lp = compiled_for(cm)
    found = 0
    for i in range(40):
        sc = sample_scenario(cm, 0, i)
        st = RecoveryState(cm, sc)
        cap, d = st.arc_capacity(), st.demand()
        reach = st.reachable(cap)
        assert np.array_equal(reach, _reachable_nx(st, cap))
        cols, summ, _ = run_scenario(cm, 0, i, 3, lp)
        assert cols["unreachable_demand"][0] == pytest.approx(d[~reach].sum())
        assert cols["supply_rate_units"][0] == pytest.approx(cols["delivered"][0] / cols["demand"][0])
        total = cols["delivered"] + cols["unreachable_demand"] + cols["unmet_reachable"]
        assert np.allclose(total, cols["demand"])
        found += (~reach & (d > 0)).any()
    assert found > 0  # some scenario has demand behind closed bridges


def test_bundled_bridges_are_repaired_hazus():
    cd = load_case("beijing")
    assert cd.case.recovery.bridge_repair_days == {
        "slight": 0.6,
        "moderate": 2.5,
        "severe": 75,
        "collapse": 230,
    }
    cm = case_model(cd)
    lp = compiled_for(cm)
    i = next(i for i in range(100) if (sample_scenario(cm, 0, i).bridge_state == 4).any())
    cols, _, st = run_scenario(cm, 0, i, 240, lp)
    assert (st.bridge_state == 0).all()
    late = cols["day"] >= 230
    assert (cols["unreachable_demand"][late] == 0).all()
