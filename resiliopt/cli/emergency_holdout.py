"""CLI: ``resiliopt emergency learn-eval CASE`` (docs/emergency.md, "Learning on held-out
events"): parse, call :func:`resiliopt.emergency.holdout.holdout`, print."""

from __future__ import annotations

from pathlib import Path

import typer

from resiliopt.cli import _emergency_options as eopt
from resiliopt.cli import _options as opt
from resiliopt.cli._options import Number
from resiliopt.cli._output import print_json
from resiliopt.cli.emergency import CASE, JSON, _bar, _table, _wrote, console, emergency_app, note

FACTOR = Number(float, 0.0, 100.0, lo_open=True, what="a factor > 0")
FRAGILITY = Number(float, 0.0, 100.0, lo_open=True, what="a number > 0")


@emergency_app.command("learn-eval")
def learn_eval_cmd(
    case: str = CASE,
    train: int = eopt.EVENTS.option(10, "--train", help="K: training events (drawn from the truth)"),
    test: int = eopt.EVENTS.option(20, "--test", help="M: held-out events (events 0..M-1 of the seed)"),
    seed: int = opt.SEED.option(0, "--seed", help="run seed"),
    truth: Path | None = typer.Option(
        None,
        "--truth",
        help="the case that draws the events (default: CASE); a learned case brings its fragility",
    ),
    duration_factor: float = FACTOR.option(
        1.0, "--duration-factor", help="the truth's repair times are the case's times this factor"
    ),
    fragility_median: float = FRAGILITY.option(
        None, "--fragility-median", help="the truth's fragility median (g)"
    ),
    fragility_beta: float = FRAGILITY.option(None, "--fragility-beta", help="the truth's fragility log-sd"),
    event: Path | None = typer.Option(
        None, "--event", help="event file whose road layer, period length and levels the events use"
    ),
    horizon: int = eopt.HORIZON.option(None, "--horizon", help="every level plans over this many periods"),
    max_periods: int = eopt.PERIODS.option(40, "--max-periods"),
    replan: str = eopt.REPLAN.option("every", "--replan", help="re-plan every period, or on a change"),
    dispersion: float = eopt.DISPERSION.option(
        0.5, "--dispersion", help="log-sd of the true repair durations"
    ),
    prior_dispersion: float = eopt.PRIOR_DISPERSION.option(0.5, "--prior-dispersion"),
    prior_strength: float = eopt.STRENGTH.option(5.0, "--prior-strength"),
    oracle: bool = typer.Option(
        False, "--oracle", help="also replay the oracle (plans with the true durations)"
    ),
    bootstrap: int = eopt.BOOTSTRAP.option(2000, "--bootstrap", help="bootstrap resamples B"),
    workers: int = opt.WORKERS.option(1, "--workers", help="local worker processes"),
    out: str = typer.Option(None, "--out", help="output folder (a stopped run resumes here)"),
    as_json: bool = JSON,
) -> None:
    """Learn durations and fragility from K events drawn from the truth, then replay M held-out
    events with the prior and the learned belief: the gain in unserved area with its bootstrap
    interval (docs/emergency.md)."""
    from resiliopt.emergency.holdout import holdout  # lazy: slow to import (emergency.py's doc)

    try:
        with _bar("learn-eval", not as_json) as progress:
            res = holdout(
                case,
                train,
                test,
                seed,
                truth,
                duration_factor,
                fragility_median,
                fragility_beta,
                event=event,
                model={"dispersion": dispersion, "damage_model": "fragility"},
                horizon=horizon,
                max_periods=max_periods,
                replan=replan,
                prior_dispersion=prior_dispersion,
                prior_strength=prior_strength,
                oracle=oracle,
                bootstrap=bootstrap,
                workers=workers,
                out=out,
                progress=progress,
            )
    except KeyboardInterrupt:
        note.print(f"interrupted; run the same command to resume in {out}" if out else "interrupted")
        raise typer.Exit(130) from None
    if as_json:
        print_json(res.as_dict())
        return
    console.print(_table(res.parameters, f"learned from {train} events", most=100))
    cmp_all = res.comparison[res.comparison["layer"] == "all"]
    cols = ["policy", "mean", "diff_vs_prior", "ci_low", "ci_high", "win_rate", "tie_rate", "loss_rate"]
    title = f"{res.case}: {test} held-out events, unserved area (all layers), paired with the prior belief"
    console.print(_table(cmp_all, title, cols, most=100))
    g = res.gain()
    console.print(
        f"gain of learning (prior minus learned): {g['gain']:+.4g} "
        f"[{g['ci_low']:+.4g}, {g['ci_high']:+.4g}] (95 %), win rate {g['win_rate']:.0%}"
    )
    _wrote(out)
