"""emergency evaluate: many events, paired by common random numbers (docs/emergency.md,
"Evidence over many events"): CRN, worker-count invariance, resume, the oracle against brute
force, the bootstrap interval, the event file's aftershocks, bad options."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from resiliopt.case.infra import KEY
from resiliopt.cli import main
from resiliopt.emergency import evaluate as ev_mod
from resiliopt.emergency import evaluate_run, load_emergency_config
from resiliopt.emergency.evaluate import evaluate
from resiliopt.emergency.evaluate_events import EventGenerator, EventModel, failure_probability
from resiliopt.emergency.evaluate_stats import bootstrap_ci, compare, rates
from resiliopt.emergency.event import load_event
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.replay import event_aftershocks
from resiliopt.emergency.response import (
    Aftershock,
    durations_modelled,
    element_sites,
    run_loop,
    whole_periods,
)
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case
from resiliopt.infra.damage import draw_damage

TOY = "tests/data/infra_toy/case.yaml"
CFG = {
    "min_dwell": 2,
    "levels": [
        {"name": "normal", "response": {"resources_per_period": 1, "horizon": 3}},
        {
            "name": "IV",
            "enter": {"unserved_share": 0.05},
            "leave": {"unserved_share": 0.02},
            "response": {"resources_per_period": 2},
        },
    ],
}
#: drawn events on the toy's small coordinates (degrees): strong enough to damage it
MODEL = EventModel(m_min=7.0, m_max=8.0, r0_km=100.0)
POLS = ("closed", "open", "population", "oracle")


@pytest.fixture(scope="module")
def toy():
    return load_infra_case(TOY)


def run(toy, out=None, **kw):
    args = {"events": 4, "seed": 3, "policies": POLS, "config": CFG, "model": MODEL, "workers": 1}
    args.update(chunk=2, bootstrap=200, plots=False)
    args.update(kw)
    return evaluate(toy, out=out, **args)


def test_every_policy_meets_the_same_event(toy, monkeypatch):
    """Common random numbers: every policy of an event gets the same damage, the same true
    durations and the same aftershocks; the damage is the one sampler's draw over the
    probabilities of the event's ground motion and fragility."""
    seen = []
    real = evaluate_run.run_loop

    def spy(case, cfg, damage, policy, **kw):
        seen.append((kw["seed"], policy, damage.copy(), kw["durations"].copy(), kw["aftershocks"]))
        return real(case, cfg, damage, policy, **kw)

    monkeypatch.setattr(evaluate_run, "run_loop", spy)
    res = run(toy, aftershock=1.0)
    assert len(seen) == 4 * len(POLS)
    for e in range(4):
        mine = [s for s in seen if s[0] == e]
        assert [s[1] for s in mine] == list(POLS)
        for s in mine[1:]:
            pd.testing.assert_frame_equal(s[2], mine[0][2])
            pd.testing.assert_series_equal(s[3], mine[0][3])
            assert s[4] is mine[0][4] and len(s[4]) == 1
    # the damage of event e, drawn again by hand: ground motion, fragility, the one sampler
    gen = EventGenerator(toy, MODEL, "draw")
    for e in range(4):
        d = gen.draw(3, e)
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence([3, e]).spawn(5)]
        streams[0].random(3)  # magnitude and epicentre were drawn first
        r = np.array([_km(x, y, d.x, d.y) for x, y in gen.xy])
        p = failure_probability(MODEL, d.magnitude, r, streams[1].standard_normal(len(r)))
        again = draw_damage(gen.table.assign(p=p), 3, d.magnitude, e)
        pd.testing.assert_frame_equal(again, d.damage)
        row = res.events.iloc[e]
        assert row["n_damaged"] == len(d.damage) and row["magnitude"] == d.magnitude


def _km(x, y, x0, y0):
    lon1, lat1, lon2, lat2 = map(math.radians, (x, y, x0, y0))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def test_same_tables_at_one_and_two_workers(toy, tmp_path):
    """One process, two processes, a Dask LocalCluster of two: the same tables."""
    a = run(toy, tmp_path / "w1", workers=1)
    b = run(toy, tmp_path / "w2", workers=2)
    c = run(toy, tmp_path / "dask", workers=2, scheduler="local")
    for name in ("events", "runs", "periods", "comparison"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_dtype=False)
        pd.testing.assert_frame_equal(getattr(a, name), getattr(c, name), check_dtype=False)
    assert len(a.runs["event"].unique()) == 4 and a.runs["unserved_area"].gt(0).any()
    for f in ("events.csv", "runs.csv", "comparison.csv", "run.json", "summary.json"):
        assert (tmp_path / "w2" / f).is_file()


def test_resume_after_an_interrupt_gives_the_same_tables(toy, tmp_path, monkeypatch):
    whole = run(toy, tmp_path / "whole")
    out = tmp_path / "cut"

    def stop(done, total):
        if done >= 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(toy, out, progress=stop)
    parts = sorted(p.name for p in (out / "parts").glob("runs-*.parquet"))
    assert parts == ["runs-0000000-0000002.parquet"]  # the first chunk was kept
    assert not list((out / "parts").glob(".*.tmp"))
    first = (out / "parts" / parts[0]).stat().st_mtime_ns
    calls = []
    real = ev_mod.run_chunk
    monkeypatch.setattr(ev_mod, "run_chunk", lambda spec, evs: calls.append(len(evs)) or real(spec, evs))
    again = run(toy, out)
    assert calls == [2]  # only the second chunk ran
    assert (out / "parts" / parts[0]).stat().st_mtime_ns == first
    for name in ("events", "runs", "periods", "comparison"):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(again, name), check_dtype=False)
    with pytest.raises(InputError, match="other arguments"):
        run(toy, out, seed=4)


# --------------------------------------------------------------------------- the oracle
ORACLE_DAMAGE = pd.DataFrame(
    [("link", "water", "ST"), ("link", "water", "SU"), ("link", "water", "TU")], columns=KEY
)


def _brute_force_area(toy, monitor, damage, tau) -> float:
    """The least unserved area of any order of the repairs, one at a time (v = 1; a schedule
    that idles is never better), each repair taking whole_periods(tau) periods."""
    keys = [tuple(k) for k in damage[KEY].to_numpy()]
    seen: dict[frozenset, float] = {}

    def unserved(failed: list[tuple]) -> float:
        if frozenset(failed) not in seen:
            x = monitor.indicators(pd.DataFrame(failed, columns=KEY))[0]
            seen[frozenset(failed)] = x["unserved_share"]
        return seen[frozenset(failed)]

    best = math.inf
    for order in itertools.permutations(keys):
        ends, t = {}, 0
        for k in order:
            t += whole_periods(tau[k])
            ends[k] = t
        area = 0.0
        for p in range(t + 1):
            area += unserved([k for k in keys if ends[k] > p])
        best = min(best, area)
    return best


def test_oracle_finds_the_brute_force_optimum_and_is_no_worse_than_closed(toy):
    """Damage in one layer (water links: no dependency reaches power, so unit and share
    weights agree), one repair at a time, a horizon that
    covers the whole restoration: the td-INDP with the true durations plans the optimal order,
    so the oracle's unserved area is the least of all orders; the closed loop (planning every
    repair as one period) can only match it or lose."""
    assert durations_modelled(), "the td-INDP plans with repair durations (docs/indp.md)"
    cfg = load_emergency_config(
        {"levels": [{"name": "normal", "response": {"resources_per_period": 1, "horizon": 9}}]}
    )
    monitor = Monitor(toy)
    sites = element_sites(toy)
    worse = 0
    for tau_st, tau_su, tau_tu in [(3, 1, 2), (1, 3, 2), (2.5, 0.7, 1.2), (1, 1, 3)]:
        tau = pd.Series(0.0, index=sites.index)
        tau[("link", "water", "ST")], tau[("link", "water", "SU")] = tau_st, tau_su
        tau[("link", "water", "TU")] = tau_tu
        best = _brute_force_area(toy, monitor, ORACLE_DAMAGE, tau)
        oracle = run_loop(toy, cfg, ORACLE_DAMAGE, "oracle", durations=tau, monitor=monitor).summary
        closed = run_loop(toy, cfg, ORACLE_DAMAGE, "closed", durations=tau, monitor=monitor).summary
        assert oracle["unserved_area"] == pytest.approx(best, abs=1e-9)
        assert oracle["unserved_area"] <= closed["unserved_area"] + 1e-9
        worse += closed["unserved_area"] > oracle["unserved_area"] + 1e-9
    assert worse >= 1  # knowing the durations matters on at least one of them


# --------------------------------------------------------------------------- statistics
def test_bootstrap_interval_holds_the_mean_and_has_its_coverage():
    rng = np.random.default_rng(11)
    d = rng.normal(0.3, 1.0, 50)
    lo, hi = bootstrap_ci(d, 2000, seed=5)
    assert lo < d.mean() < hi
    assert (lo, hi) == bootstrap_ci(d, 2000, seed=5)  # fixed seed, same interval
    # coverage of the true mean over 400 synthetic paired samples: 95 % within Monte Carlo error
    # (sd 1.1 points; the percentile interval of a mean of 60 normal values covers about 94 %)
    hits = 0
    for _ in range(400):
        x = rng.normal(0.3, 1.0, 60)
        lo, hi = bootstrap_ci(x, 1000, seed=int(rng.integers(1 << 30)))
        hits += lo <= 0.3 <= hi
    assert 0.91 <= hits / 400 <= 0.98


def test_comparison_table_by_hand():
    runs = pd.DataFrame(
        [
            (e, p, "all", a)
            for e, (c, o) in enumerate([(2.0, 1.0), (2.0, 2.0), (1.0, 3.0), (4.0, 3.5)])
            for p, a in (("closed", c), ("open", o))
        ],
        columns=["event", "policy", "layer", "unserved_area"],
    )
    c = compare(runs, b=500, seed=1).set_index("policy")
    assert c.at["open", "diff_vs_closed"] == pytest.approx((-1 + 0 + 2 - 0.5) / 4)
    assert (c.at["open", "win_rate"], c.at["open", "tie_rate"], c.at["open", "loss_rate"]) == (
        0.5,
        0.25,
        0.25,
    )
    assert c.at["open", "ci_low"] <= c.at["open", "diff_vs_closed"] <= c.at["open", "ci_high"]
    assert c.at["closed", "diff_vs_closed"] == 0 and c.at["closed", "tie_rate"] == 1
    assert rates(np.array([-1.0, 0.0, 1e-12, 2.0])) == (0.25, 0.5, 0.25)


# --------------------------------------------------------------------------- aftershocks
def test_aftershock_arrives_at_its_period(toy):
    cfg = load_emergency_config(CFG)
    dmg = pd.DataFrame([("node", "power", "A")], columns=KEY)
    late = Aftershock(2.0, pd.DataFrame([("link", "water", "ST")], columns=KEY), what="found")
    tau = pd.Series(1.0, index=element_sites(toy).index)
    for policy in ("closed", "open", "population"):
        r = run_loop(toy, cfg, dmg, policy, durations=tau, aftershocks=[late])
        per = r.periods.set_index("period")
        assert per.at[2, "arrived"] == 1 and per["arrived"].sum() == 1
        rep = r.dispatch[r.dispatch["action"] == "repair"].set_index("element")
        assert rep.at["ST", "start"] >= 2  # not known before it appears
        assert per.loc[2:, "unserved_share.water"].iloc[0] > 0


def _event(tmp_path: Path, aftershocks) -> Path:
    src = Path("data/infra/shelby-extended/events/synthetic-m7")
    spec = yaml.safe_load((src / "event.yaml").read_text())
    spec["aftershocks"] = aftershocks
    d = tmp_path / f"ev{len(list(tmp_path.glob('ev*')))}"
    d.mkdir(parents=True)
    (d / "observations.csv").write_text((src / "observations.csv").read_text())
    (d / "event.yaml").write_text(yaml.safe_dump(spec))
    return d


def test_event_file_aftershocks_are_checked(tmp_path):
    case = load_infra_case("shelby-extended")
    good = load_event(_event(tmp_path, [{"time": 3, "elements": ["node:power:18", "link:water:3"]}]))
    a = event_aftershocks(case, good, seed=0, dispersion=0.5)
    assert a[0].time == 3 and sorted(a[0].damage["element"]) == ["18", "3"]
    for bad, where in [
        ([{"time": 3, "elements": ["node:power:nope"]}], "aftershocks[0].elements[0]"),
        ([{"time": 3, "elements": ["power:18"]}], "aftershocks[0].elements[0]"),
        ([{"time": 3, "magnitude": 6.0}], "aftershocks[0].magnitude"),  # no failure probabilities
    ]:
        ev = load_event(_event(tmp_path, bad))
        with pytest.raises(InputError) as exc:
            event_aftershocks(case, ev, seed=0, dispersion=0.5)
        assert exc.value.location == where and Path(exc.value.file) == ev.path
    for bad, where in [
        ([{"time": -1, "elements": ["node:power:18"]}], "aftershocks"),
        ([{"time": 1}], "aftershocks"),
        ([{"time": 1, "elements": ["node:power:18"], "magnitude": 6}], "aftershocks"),
        ([{"time": 1, "elements": [], "what": "found"}], "aftershocks"),
    ]:
        with pytest.raises(InputError) as exc:
            load_event(_event(tmp_path, bad))
        assert where in str(exc.value.location) and exc.value.file is not None


# --------------------------------------------------------------------------- the command
@pytest.mark.parametrize(
    "args",
    [
        ["--events", "0"],
        ["--events", "2.5"],
        ["--aftershocks", "1.5"],
        ["--aftershocks", "nan"],
        ["--policies", "open,population"],
        ["--policies", "closed,bogus"],
        ["--source", "somewhere"],
        ["--horizon", "0"],
        ["--bootstrap", "10"],
        ["--workers", "0"],
        ["--event", "no/such/event.yaml"],
        ["--dispersion", "-1"],
        ["--scheduler", "two words"],
        ["--replan", "sometimes"],
    ],
)
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, args):
    out = tmp_path / "out"
    code = main(["emergency", "evaluate", "shelby-extended", "--events", "2", *args, "--out", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err
