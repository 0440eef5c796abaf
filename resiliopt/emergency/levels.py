r"""Emergency level state machine: multi-threshold trigger, hysteresis, minimum dwell.

Let :math:`L_t` be the level at period :math:`t`, :math:`d_t` the number of periods it has been
held (including :math:`t`) and :math:`D` the minimum dwell (``min_dwell``). With the predicates
:math:`\text{enter}_k` and :math:`\text{below}_k` of :mod:`resiliopt.emergency.config`,

.. math::

   u_t = \max(\{0\} \cup \{k : \text{enter}_k(x_t)\})

   L_t = \begin{cases}
     u_t & u_t > L_{t-1} \quad\text{(escalate at once, whatever the dwell)}\\
     \max(\{0\} \cup \{k < L_{t-1} : \lnot\,\text{below}_k(x_t)\})
         & d_{t-1} \ge D \ \text{and}\ \text{below}_{L_{t-1}}(x_t) \quad\text{(step down)}\\
     L_{t-1} & \text{otherwise (hold)}
   \end{cases}

with :math:`L_{-1} = 0`. Escalation is immediate because a late alarm costs more than an early
one (paper 000: "once monitoring parameters exceed preset thresholds, the system immediately
initiates the corresponding emergency response level"); only lowering a level waits for the
dwell, and it needs every indicator of the level below its exit value, which is at most its
entry value. Between the two values the level holds: this band and the dwell are why a noisy
indicator near a threshold cannot make the level chatter. The step down goes to the most
severe lower level whose own band still holds, so a sharp improvement may skip levels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from resiliopt.emergency.config import EmergencyConfig
from resiliopt.errors import InputError


class LevelMachine:
    """The state machine above, one period at a time (:meth:`step`)."""

    def __init__(self, cfg: EmergencyConfig):
        self.cfg = cfg
        self.level = 0
        self.dwell = 0
        self.needed = _needed(cfg)

    def _enter(self, k: int, x: Mapping[str, float]) -> str | None:
        for i, v in self.cfg.levels[k].enter.items():
            if x[i] >= v:
                return f"{i} = {x[i]:.6g} >= {v:g}"
        return None

    def _below(self, k: int, x: Mapping[str, float]) -> bool:
        return all(x[i] < v for i, v in self.cfg.levels[k].exit_thresholds().items())

    def step(self, x: Mapping[str, float]) -> dict:
        """Advance one period with indicators ``x``; returns level, level_index, dwell, event, reason.

        Every indicator a level names must be in ``x`` (an InputError otherwise, naming the
        level; :func:`~resiliopt.emergency.config.check_levels` refuses such a configuration
        when the case is read)."""
        cfg = self.cfg
        for k, lv in enumerate(cfg.levels):
            for i in [*lv.enter, *lv.leave]:
                if i not in x:
                    raise InputError(
                        f"level {lv.name!r} names indicator {i!r}, which is not measured"
                        f" (measured: {', '.join(sorted(x))})",
                        location=f"emergency.levels[{k}]",
                    )
        up, why = 0, ""
        for k in range(len(cfg.levels) - 1, 0, -1):
            hit = self._enter(k, x)
            if hit:
                up, why = k, hit
                break
        if up > self.level:
            self.level, self.dwell, event, reason = up, 1, "enter", why
        elif self.dwell >= cfg.min_dwell and self.level > 0 and self._below(self.level, x):
            new = max([0] + [k for k in range(1, self.level) if not self._below(k, x)])
            reason = f"all below exit of {cfg.levels[self.level].name}"
            self.level, self.dwell, event = new, 1, "leave"
        else:
            held = self.dwell
            self.dwell += 1
            event = "hold"
            if self.level == 0:
                reason = ""
            elif held < cfg.min_dwell and self._below(self.level, x):
                reason = f"dwell {held} < {cfg.min_dwell}"
            else:
                reason = "above exit"
        return {
            "level": cfg.levels[self.level].name,
            "level_index": self.level,
            "dwell": self.dwell,
            "event": event,
            "reason": reason,
        }


def _needed(cfg: EmergencyConfig) -> list[str]:
    seen: list[str] = []
    for lv in cfg.levels:
        for i in lv.enter:
            if i not in seen:
                seen.append(i)
    return seen


def check_indicators(x: Mapping[str, float], where: str, file: str | None = None) -> dict[str, float]:
    out = {}
    for i, v in x.items():
        v = float(v)
        if not math.isfinite(v) or v < 0:
            raise InputError(
                f"indicator must be a finite number >= 0 (got {v!r})", file=file, location=f"{where}, {i}"
            )
        out[i] = v
    return out


def level_trace(
    cfg: EmergencyConfig, indicators: pd.DataFrame, period: str = "period", file: str | None = None
) -> pd.DataFrame:
    """The emergency level at every period of an indicator trace.

    ``indicators`` has one row per period (column ``period``, increasing) and one column per
    indicator the configuration names. Returns a tidy table: ``period, level, level_index,
    dwell, event, reason``; ``event`` is ``enter``, ``leave`` or ``hold``.
    """
    machine = LevelMachine(cfg)
    missing = [i for i in machine.needed if i not in indicators.columns]
    if missing:
        raise InputError(f"indicator {missing[0]!r} is named by a level but not observed", file=file)
    if period in indicators.columns:
        periods = list(indicators[period])
        if any(b <= a for a, b in zip(periods, periods[1:], strict=False)):
            raise InputError(f"column {period!r} must increase strictly", file=file, location=period)
    else:
        periods = list(range(len(indicators)))
    rows = []
    for t, (_, rec) in zip(periods, indicators.iterrows(), strict=True):
        x = check_indicators({i: rec[i] for i in machine.needed}, f"{period} {t}", file)
        rows.append({period: t, **machine.step(x)})
    return pd.DataFrame(rows)
