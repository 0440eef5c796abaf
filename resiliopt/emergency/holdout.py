r"""Learning on held-out events: does the next response get better for what was learned?
(docs/emergency.md, "Learning on held-out events").

Two inputs, kept apart:

* the **truth** draws the events (:class:`~resiliopt.emergency.evaluate_events.EventGenerator`):
  its repair times are the medians of the true lognormal durations, its fragility gives the
  damage. By default the truth is the prior case with every repair time multiplied by
  ``duration_factor`` :math:`f` and the fragility of the event model, optionally replaced
  (``fragility_median``, ``fragility_beta``); ``truth`` names another case instead (a learned
  case, the output of ``emergency learn``: its repair times and, where its ``learned.yaml``
  holds one, its learned fragility), to which :math:`f` applies too;
* the **belief** is the case the planner plans with (its ``repair_time``: the td-INDP's
  durations and the loop's believed end of a repair): the *prior* (the case as given) or the
  *learned* case.

The study, for seed :math:`s`:

1. **Training**: events :math:`10^6 + k`, :math:`k = 0..K-1`, of seed :math:`s` are drawn from
   the truth (streams disjoint from the held-out events'). Each is observed as an event log
   (:func:`training_observations`): at time 0 every element with its PGA (fragility model)
   and its status (``repairing`` if damaged, else ``up``), and every damaged element ``up``
   again at time :math:`\tau_e`, its true duration (the crew reports when it is done; time in
   periods, not rounded to whole periods, so no censoring and no rounding bias). Aftershocks
   are not observed.
2. **Learning** (:func:`~resiliopt.emergency.learn.learn_events`): the :math:`K` logs pooled:
   one maximum-likelihood fragility over every element of every event, one Bayesian update
   per element class (layer, kind) over every repair; the learned case is the prior with the
   repair times of each class scaled by posterior median / prior median (as ``learn``).
3. **Held-out events**: events :math:`0..M-1` of seed :math:`s` (the events
   ``emergency evaluate --seed s`` draws from the same truth), each replayed by the closed
   loop once with the prior belief and once with the learned belief (and, with ``oracle``,
   by the oracle), common random numbers: the same damage, true durations and closures.
4. **Comparison** (:func:`~resiliopt.emergency.evaluate_stats.compare`, reference the prior
   arm): :math:`d_e = U_{\text{learned},e} - U_{\text{prior},e}` (negative: learning helps),
   :math:`\bar d` with its 95 % percentile bootstrap interval, win / tie / loss rates; the
   *gain* is :math:`-\bar d`.

The learned fragility does not enter the response: the loop observes the damage, and no
planner reads a fragility. It feeds the event generator: the learned case written under
``OUT/learned-case`` draws events with ``EventModel(fragility_from="case")`` (``truth=`` here).

Resume: with ``out``, every finished (arm, event) is written at once as a Parquet file under
``OUT/parts/``; the same call again skips them, other arguments or inputs are refused.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import signal
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt import __version__
from resiliopt._atomic import check_output_dir, output_directory, write_text_atomic
from resiliopt.case.infra import KEY, InfraCase, load_infra_case
from resiliopt.emergency.config import EmergencyConfig, load_emergency_config
from resiliopt.emergency.evaluate import input_hashes, with_horizon
from resiliopt.emergency.evaluate_events import EventDraw, EventGenerator, EventModel, case_fragility
from resiliopt.emergency.evaluate_run import RunSpec, run_event
from resiliopt.emergency.evaluate_stats import compare
from resiliopt.emergency.event import event_config, load_event
from resiliopt.emergency.learn import check_prior, learn_events
from resiliopt.emergency.monitor import Monitor
from resiliopt.emergency.operations import records
from resiliopt.emergency.planner import with_repair_times
from resiliopt.emergency.response import REPLAN, element_sites
from resiliopt.emergency.update import write_updated_case
from resiliopt.errors import InputError
from resiliopt.infra.experiment import case_token

COMMAND = "emergency learn-eval"
TRAIN0 = 1_000_000  #: training event k is event TRAIN0 + k of the seed
PARTS = "parts"
PARAMS_FILE = "run.json"


@dataclass
class HoldoutResult:
    case: str
    params: dict
    #: the K training events (one row each, as ``evaluate``'s events table)
    train: pd.DataFrame
    #: one row per learned parameter: what, group, prior, truth, learned, se, n
    parameters: pd.DataFrame
    learned: dict
    #: the M held-out events
    events: pd.DataFrame
    #: one row per (event, arm, layer): unserved_area, ... (``policy`` is the arm)
    runs: pd.DataFrame
    #: one row per (arm, layer): mean, diff_vs_prior, ci_low, ci_high, win/tie/loss rates
    comparison: pd.DataFrame
    out: Path | None = None

    def gain(self, layer: str = "all") -> dict:
        """Prior minus learned unserved area (positive: learning helps) with its 95 % interval."""
        r = self.comparison[(self.comparison["policy"] == "learned") & (self.comparison["layer"] == layer)]
        r = r.iloc[0]
        return {
            "gain": -float(r["diff_vs_prior"]),
            "ci_low": -float(r["ci_high"]),
            "ci_high": -float(r["ci_low"]),
            "win_rate": float(r["win_rate"]),
            "tie_rate": float(r["tie_rate"]),
            "loss_rate": float(r["loss_rate"]),
            "prior_mean": float(
                self.comparison.query("policy == 'prior' and layer == @layer")["mean"].iloc[0]
            ),
            "learned_mean": float(r["mean"]),
        }

    def as_dict(self) -> dict:
        return {
            "case": self.case,
            "parameters": self.params,
            "gain": self.gain(),
            "learned_parameters": records(self.parameters),
            "comparison": records(self.comparison),
            "out": str(self.out) if self.out is not None else None,
        }


def _whole(name: str, v, lo: int) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or v < lo:
        raise InputError(f"must be a whole number >= {lo} (got {v!r})", location=name)


def _positive(name: str, v) -> None:
    if v is not None and not (
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
    ):
        raise InputError(f"must be a finite number > 0 (got {v!r})", location=name)


def training_observations(ev: EventDraw, sites: pd.DataFrame) -> pd.DataFrame:
    """The event log of a training event (module docstring, step 1): ``time, kind, layer,
    element, status, pga``."""
    keys = [tuple(map(str, k)) for k in sites.index]
    pga = ev.pga if ev.pga is not None else pd.Series(dtype=float)
    p = {tuple(map(str, k)): float(v) for k, v in pga.items()}
    hit = set(map(tuple, ev.damage[KEY].astype(str).to_numpy()))
    tau = {tuple(map(str, k)): float(v) for k, v in ev.durations.items()}
    rows = []
    for k in keys:
        rows.append((0.0, *k, "repairing" if k in hit else "up", p.get(k, np.nan)))
        if k in hit and tau.get(k, 0.0) > 0:
            rows.append((tau[k], *k, "up", np.nan))
    return pd.DataFrame(rows, columns=["time", *KEY, "status", "pga"])


def _parameters(prior: EventModel, truth: InfraCase, model: EventModel, learned: dict, frag) -> pd.DataFrame:
    """Prior, truth and learned value of every learned parameter (the prior fragility: the
    event model's as given; the truth's: the one the events were drawn with)."""
    rows = []
    for r in frag.to_dict("records"):
        if r.get("group") != "all":
            continue
        for what, prior_v, truth_v in (
            ("fragility median (g)", prior.fragility_median_g, model.fragility_median_g),
            ("fragility beta", prior.fragility_beta, model.fragility_beta),
        ):
            key = "median" if "median" in what else "beta"
            rows.append(
                {
                    "what": what,
                    "group": "all",
                    "prior": prior_v,
                    "truth": truth_v,
                    "learned": r.get(key, np.nan),
                    "se": r.get(f"{key}_se", np.nan),
                    "n": r.get("n"),
                    "note": r.get("note", ""),
                }
            )
    ts = element_sites(truth)["repair_time"]
    for r in learned["repair_durations"]:
        tmed = float(ts.xs((r["kind"], r["layer"]), level=["kind", "layer"]).median())
        rows.append(
            {
                "what": "repair median (periods)",
                "group": f"{r['layer']} {r['kind']}",
                "prior": r["prior_median"],
                "truth": tmed,
                "learned": r["median"],
                "se": np.nan,
                "n": r["n_complete"] + r["n_censored"],
                "note": "",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- workers
_SPEC: dict = {}


def _init(spec: RunSpec) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SPEC["spec"] = spec


def _job(ev: EventDraw):
    return ev.event, run_event(_SPEC["spec"], ev)[0]


def _arm_runs(spec: RunSpec, events: list[EventDraw], workers: int):
    """Yield ``(event, runs rows)`` of one arm as events finish."""
    if not events:
        return
    if workers == 1:
        _SPEC["spec"] = spec
        for ev in events:
            yield _job(ev)
        return
    pool = mp.get_context("spawn").Pool(min(workers, len(events)), initializer=_init, initargs=(spec,))
    try:
        yield from pool.imap_unordered(_job, events)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _part(out: Path, arm: str, e: int) -> Path:
    return out / PARTS / f"runs-{arm}-{e:07d}.parquet"


def holdout(
    case: str | Path | InfraCase,
    train: int = 10,
    test: int = 20,
    seed: int = 0,
    truth: str | Path | InfraCase | None = None,
    duration_factor: float = 1.0,
    fragility_median: float | None = None,
    fragility_beta: float | None = None,
    event: str | Path | None = None,
    config: EmergencyConfig | dict | None = None,
    model: EventModel | dict | None = None,
    horizon: int | None = None,
    max_periods: int = 40,
    replan: str = "every",
    prior_dispersion: float = 0.5,
    prior_strength: float = 5.0,
    oracle: bool = False,
    bootstrap: int = 2000,
    workers: int = 1,
    out: str | Path | None = None,
    progress=None,
) -> HoldoutResult:
    """Learn from ``train`` events drawn from the truth, then replay ``test`` held-out events
    with the prior and the learned belief (module docstring). ``case`` is the prior belief;
    ``truth``, ``duration_factor``, ``fragility_median``, ``fragility_beta`` make the truth;
    ``event``, ``config``, ``model``, ``horizon``, ``max_periods``, ``replan`` as in
    :func:`~resiliopt.emergency.evaluate.evaluate`."""
    _whole("--train", train, 1)
    _whole("--test", test, 1)
    _whole("--seed", seed, 0)
    _whole("--bootstrap", bootstrap, 100)
    _whole("--max-periods", max_periods, 1)
    _whole("--workers", workers, 1)
    for name, v in (
        ("--duration-factor", duration_factor),
        ("--fragility-median", fragility_median),
        ("--fragility-beta", fragility_beta),
    ):
        _positive(name, v)
    if horizon is not None and (not isinstance(horizon, int) or not 1 <= horizon <= 100):
        raise InputError(f"must be a whole number in 1..100 (got {horizon!r})", location="--horizon")
    if replan not in REPLAN:
        raise InputError(f"must be one of {', '.join(REPLAN)} (got {replan!r})", location="--replan")
    check_prior(prior_dispersion, prior_strength)
    model = EventModel(**model) if isinstance(model, dict) else (model or EventModel())
    model0 = model
    if out is not None:
        check_output_dir(Path(out), COMMAND)
    prior = case if isinstance(case, InfraCase) else load_infra_case(case)
    base = prior if truth is None else truth if isinstance(truth, InfraCase) else load_infra_case(truth)
    sites = element_sites(prior)
    if not element_sites(base).index.equals(sites.index):
        raise InputError(f"{base.name} does not have the elements of {prior.name}", location="--truth")
    rt = element_sites(base)["repair_time"]
    truth_case = with_repair_times(base, {tuple(k): float(v) * duration_factor for k, v in rt.items()})
    if truth is not None and case_fragility(base) is not None:
        model = replace(model, fragility_from="case")
    if fragility_median is not None or fragility_beta is not None:
        model = replace(
            model,
            fragility_from="model",
            fragility_median_g=fragility_median or model.fragility_median_g,
            fragility_beta=fragility_beta or model.fragility_beta,
        )
    ev = load_event(event, prior) if event is not None else None
    cfg = config if isinstance(config, EmergencyConfig) else None
    if cfg is None:
        cfg = load_emergency_config(config) if config is not None else event_config(prior, ev)
    cfg = with_horizon(cfg, horizon)
    roads = ev.spec.roads if ev is not None else None
    generator = EventGenerator(truth_case, model, "draw", roads)
    truth_model = generator.model  # the fragility actually drawn with
    # 1-2: training events, observed and learned from (pooled)
    train_events = [generator.draw(seed, TRAIN0 + k) for k in range(train)]
    logs = [training_observations(e, sites) for e in train_events]
    learned, frag, times = learn_events(prior, logs, prior_dispersion, prior_strength)
    learned_case = with_repair_times(
        prior, {(r.kind, r.layer, r.element): float(r.repair_time) for r in times.itertuples()}
    )
    parameters = _parameters(model0, truth_case, truth_model, learned, frag)
    # 3: held-out events, every arm on the same draws
    tests = [generator.draw(seed, e) for e in range(test)]
    ranking = Monitor(prior).ranking
    period_hours = ev.spec.period_hours if ev is not None else 24.0
    tmpl = ev.spec if ev is not None else None

    def spec(c: InfraCase, policy: str) -> RunSpec:
        return RunSpec(c, cfg, roads, period_hours, (policy,), max_periods, replan, ranking, None, tmpl)

    arms = {"prior": spec(prior, "closed"), "learned": spec(learned_case, "closed")}
    if oracle:
        arms["oracle"] = spec(prior, "oracle")
    params = {
        "case": prior.name,
        "train": train,
        "test": test,
        "seed": seed,
        "truth": case_token(truth) if truth is not None else None,
        "truth_inputs": input_hashes(base, None) if isinstance(truth, str | Path) else None,
        "duration_factor": duration_factor,
        "event_model": truth_model.as_dict(),
        "event": str(ev.path) if ev is not None else None,
        "horizon": horizon,
        "max_periods": max_periods,
        "replan": replan,
        "prior_dispersion": prior_dispersion,
        "prior_strength": prior_strength,
        "arms": list(arms),
        "levels": cfg.model_dump(mode="json"),
        "resiliopt": __version__,
        "inputs": input_hashes(prior, ev.path if ev is not None else None)
        if isinstance(case, str | Path)
        else {"case": case_token(prior)},
    }
    if out is None:
        runs = _run_arms(arms, tests, workers, None, progress)
        return _result(prior, params, train_events, parameters, learned, tests, runs, roads, bootstrap, seed)
    out = Path(out)
    pfile = out / PARAMS_FILE
    if pfile.exists():
        try:
            old = json.loads(pfile.read_text())
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read the run's parameters: {exc}", pfile) from None
        old = old if isinstance(old, dict) else {}
        differ = [k for k in params if k != "test" and old.get(k) != params[k]]
        if differ:
            raise InputError(
                f"this folder holds a run with other arguments or inputs ({', '.join(differ)}); "
                "use another --out",
                pfile,
            )
    with output_directory(out, COMMAND):
        (out / PARTS).mkdir(parents=True, exist_ok=True)
        write_text_atomic(pfile, json.dumps(params, indent=1))
        runs = _run_arms(arms, tests, workers, out, progress)
        res = _result(prior, params, train_events, parameters, learned, tests, runs, roads, bootstrap, seed)
        res.out = out
        _write(res, prior, times, learned)
    return res


def _run_arms(arms: dict, tests: list[EventDraw], workers: int, out: Path | None, progress) -> pd.DataFrame:
    total, done = len(arms) * len(tests), 0
    frames = []
    for arm, spec in arms.items():
        todo = []
        for ev in tests:
            if out is not None and _part(out, arm, ev.event).exists():
                frames.append(pd.read_parquet(_part(out, arm, ev.event)))
                done += 1
            else:
                todo.append(ev)
        if progress:
            progress(done, total)
        for e, rows in _arm_runs(spec, todo, workers):
            df = pd.DataFrame(rows).assign(policy=arm)
            if out is not None:
                path = _part(out, arm, e)
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                df.to_parquet(tmp, index=False)
                os.replace(tmp, path)
            frames.append(df)
            done += 1
            if progress:
                progress(done, total)
    runs = pd.concat(frames, ignore_index=True)
    order = {a: i for i, a in enumerate(arms)}
    return runs.sort_values(
        ["event", "policy", "layer"], key=lambda s: s.map(order) if s.name == "policy" else s, kind="stable"
    ).reset_index(drop=True)


def _result(prior, params, train_events, parameters, learned, tests, runs, roads, bootstrap, seed):
    cmp = compare(runs, "prior", bootstrap, seed).rename(columns={"diff_vs_closed": "diff_vs_prior"})
    return HoldoutResult(
        prior.name,
        params,
        pd.DataFrame([e.row(roads) for e in train_events]),
        parameters,
        learned,
        pd.DataFrame([e.row(roads) for e in tests]),
        runs,
        cmp,
    )


def _write(res: HoldoutResult, prior: InfraCase, times: pd.DataFrame, learned: dict) -> None:
    out = res.out
    for name, df in (
        ("train_events", res.train),
        ("events", res.events),
        ("runs", res.runs),
        ("comparison", res.comparison),
        ("parameters", res.parameters),
    ):
        tmp = out / f".{name}.csv.tmp"
        df.to_csv(tmp, index=False)
        os.replace(tmp, out / f"{name}.csv")
    if prior.path is not None and prior.path.exists():
        write_updated_case(prior, times, learned, out / "learned-case")
    write_text_atomic(out / "summary.json", json.dumps(res.as_dict(), indent=1, allow_nan=False, default=str))
