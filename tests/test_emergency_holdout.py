"""emergency learn-eval: learning from K events drawn from a truth, the learned and the prior
belief on held-out events (docs/emergency.md, "Learning on held-out events")."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from test_emergency_evaluate import CFG, MODEL, TOY  # the toy, its two levels and its drawn events

from resiliopt.case.infra import KEY
from resiliopt.cli import main
from resiliopt.emergency import evaluate_run
from resiliopt.emergency import holdout as ho
from resiliopt.emergency.evaluate_events import EventGenerator, EventModel, case_fragility
from resiliopt.emergency.holdout import TRAIN0, holdout, training_observations
from resiliopt.emergency.learn import learn_events
from resiliopt.emergency.planner import with_repair_times
from resiliopt.emergency.response import element_sites
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case


@pytest.fixture(scope="module")
def shelby():
    return load_infra_case("shelby-extended")


@pytest.fixture(scope="module")
def toy():
    return load_infra_case(TOY)


def _errors(case, k: int, factor: float, theta: float, beta: float) -> tuple[float, float, float]:
    """Learn from K events of a truth (repair times x factor, fragility theta, beta); return the
    largest |log error| of the class repair medians and the |log errors| of theta and beta."""
    sites = element_sites(case)
    truth = with_repair_times(case, {tuple(i): float(v) * factor for i, v in sites["repair_time"].items()})
    model = EventModel(damage_model="fragility", fragility_median_g=theta, fragility_beta=beta)
    gen = EventGenerator(truth, model)
    logs = [training_observations(gen.draw(7, TRAIN0 + e), sites) for e in range(k)]
    learned, frag, _ = learn_events(case, logs)
    rep = max(abs(math.log(r["median"] / factor)) for r in learned["repair_durations"])
    f = frag[frag["group"] == "all"].iloc[0]
    if not isinstance(f.get("median"), float) or not math.isfinite(f["median"]):
        return rep, math.inf, math.inf  # no fit (too few events): as far from the truth as can be
    return rep, abs(math.log(f["median"] / theta)), abs(math.log(f["beta"] / beta))


@pytest.mark.parametrize(("factor", "theta", "beta"), [(2.5, 0.5, 0.5), (0.6, 0.8, 0.35), (4.0, 0.45, 0.7)])
def test_learned_parameters_approach_the_truth_as_k_grows(shelby, factor, theta, beta):
    few = _errors(shelby, 2, factor, theta, beta)
    many = _errors(shelby, 40, factor, theta, beta)
    assert many[0] < few[0]  # repair medians: shrinkage to the prior (1 period) wears off
    assert many[0] < 0.25  # every class within 28 % of the truth after 40 events (shrunk to the prior)
    assert many[1] < 0.12 and many[2] < 0.25  # fragility median within 13 %, beta within 28 %
    assert many[1] <= few[1] or few[1] < 0.05


def test_training_log_is_what_the_event_drew(shelby):
    gen = EventGenerator(shelby, EventModel(damage_model="fragility"))
    ev = gen.draw(5, TRAIN0)
    log = training_observations(ev, element_sites(shelby))
    first = log[log["time"] == 0]
    assert len(first) == len(element_sites(shelby))  # every element, with its PGA
    assert first["pga"].gt(0).all()
    hit = set(map(tuple, ev.damage[KEY].astype(str).to_numpy()))
    got = set(map(tuple, first.loc[first["status"] == "repairing", KEY].to_numpy()))
    assert got == hit
    ends = log[log["time"] > 0]
    for r in ends.itertuples():
        assert r.time == pytest.approx(float(ev.durations[(r.kind, r.layer, r.element)]))


def test_truth_equal_to_the_prior_leaves_the_response_unchanged(toy):
    # repair times 1.5: what is learned from draws of the same truth stays within (1, 2], so
    # the planner's whole-period durations are the prior's and the two arms are the same runs
    prior = with_repair_times(toy, {tuple(i): 1.5 for i in element_sites(toy).index})
    r = holdout(prior, train=8, test=4, seed=2, config=CFG, model=MODEL, bootstrap=200)
    reps = r.parameters[r.parameters["what"].str.startswith("repair")]
    assert len(reps) and reps["learned"].between(1.0 + 1e-6, 2.0).all()
    assert (reps["truth"] == 1.5).all()
    g = r.gain()
    assert g["gain"] == 0 and g["ci_low"] == 0 and g["ci_high"] == 0 and g["tie_rate"] == 1
    wide = r.runs.pivot_table(index=["event", "layer"], columns="policy", values="unserved_area")
    assert np.array_equal(wide["prior"].to_numpy(), wide["learned"].to_numpy())


def test_arms_meet_the_same_events_and_the_learned_arm_plans_with_the_learned_times(toy, monkeypatch):
    seen = []
    real = evaluate_run.run_event

    def spy(spec, ev):
        seen.append((spec.case.nodes["repair_time"].tolist(), ev.event, ev.durations.to_dict()))
        return real(spec, ev)

    monkeypatch.setattr(ho, "run_event", spy)
    r = holdout(toy, train=6, test=3, seed=1, duration_factor=2.5, config=CFG, model=MODEL, bootstrap=200)
    prior = [s for s in seen if s[0] == toy.nodes["repair_time"].tolist()]
    learned = [s for s in seen if s[0] != toy.nodes["repair_time"].tolist()]
    assert len(prior) == len(learned) == 3
    for a, b in zip(prior, learned, strict=True):
        assert a[1] == b[1] and a[2] == b[2]  # common random numbers: the same true durations
    rep = r.parameters[r.parameters["what"].str.startswith("repair")]
    assert (rep["truth"] == 2.5).all() and (rep["prior"] == 1.0).all()
    assert (rep["learned"] > 1.0).all()  # pulled from the prior 1 towards the truth 2.5
    assert set(r.runs["policy"]) == {"prior", "learned"}
    assert set(r.comparison["policy"]) == {"prior", "learned"}


def test_learned_case_draws_the_events(toy, tmp_path):
    out = tmp_path / "h"
    holdout(toy, train=10, test=1, seed=3, config=CFG, model=MODEL, bootstrap=200, out=out)
    learned = load_infra_case(out / "learned-case")
    fit = case_fragility(learned)
    assert fit is not None
    frag = pd.read_csv(out / "parameters.csv")
    row = frag[frag["what"] == "fragility median (g)"].iloc[0]
    assert fit[0] == pytest.approx(row["learned"], rel=1e-5)
    gen = EventGenerator(learned, EventModel(m_min=7.0, m_max=8.0, r0_km=100.0, fragility_from="case"))
    assert (gen.model.fragility_median_g, gen.model.fragility_beta) == fit
    same = EventGenerator(
        learned,
        EventModel(m_min=7.0, m_max=8.0, r0_km=100.0, fragility_median_g=fit[0], fragility_beta=fit[1]),
    )
    for e in range(5):
        assert gen.draw(4, e).damage.equals(same.draw(4, e).damage)
    # as the truth of a study: the learned fragility is the truth's
    r = holdout(
        toy, train=2, test=1, seed=3, truth=out / "learned-case", config=CFG, model=MODEL, bootstrap=200
    )
    assert r.params["event_model"]["fragility_median_g"] == pytest.approx(fit[0])
    with pytest.raises(InputError, match="no learned fragility"):
        EventGenerator(toy, EventModel(fragility_from="case"))


def test_resume_reads_the_finished_events(toy, tmp_path, monkeypatch):
    out = tmp_path / "h"
    args = {"train": 4, "test": 2, "seed": 1, "duration_factor": 2.5, "config": CFG, "model": MODEL}
    first = holdout(toy, bootstrap=200, out=out, **args)
    assert len(list((out / "parts").glob("runs-*.parquet"))) == 4

    def boom(spec, ev):
        raise AssertionError("a finished event was run again")

    monkeypatch.setattr(ho, "run_event", boom)
    again = holdout(toy, bootstrap=200, out=out, **args)
    pd.testing.assert_frame_equal(first.comparison, again.comparison)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["gain"]["gain"] == pytest.approx(first.gain()["gain"])
    with pytest.raises(InputError, match="other arguments"):
        holdout(toy, bootstrap=200, out=out, **{**args, "duration_factor": 3.0})


@pytest.mark.parametrize(("k", "m", "where"), [(0, 3, "--train"), (2, 0, "--test")])
def test_bad_k_or_m_is_refused(toy, k, m, where):
    with pytest.raises(InputError) as e:
        holdout(toy, train=k, test=m, config=CFG, model=MODEL)
    assert e.value.location == where


def test_cli_short_run(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(
        [
            "emergency", "learn-eval", "shelby-extended", "--train", "3", "--test", "1", "--seed", "5",
            "--duration-factor", "2.5", "--bootstrap", "100", "--out", str(out), "--json",
        ]
    )  # fmt: skip
    assert code == 0
    res = json.loads(capsys.readouterr().out)
    assert res["parameters"]["train"] == 3 and res["parameters"]["test"] == 1
    assert set(res["gain"]) >= {"gain", "ci_low", "ci_high", "win_rate"}
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["policy"]) == {"prior", "learned"} and set(runs["event"]) == {0}
    assert (out / "learned-case" / "learned.yaml").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["--train", "0"],
        ["--test", "0"],
        ["--train", "-1"],
        ["--duration-factor", "0"],
        ["--truth", "no/such"],
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, capsys, args):
    out = tmp_path / "out"
    code = main(["emergency", "learn-eval", "shelby-extended", *args, "--out", str(out)])
    assert code == 2
    assert not out.exists()
    err = capsys.readouterr().err.strip()
    assert err and "Traceback" not in err and len(err.splitlines()) == 1
