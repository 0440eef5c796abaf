r"""Certifying the optima the Monte Carlo reuses (docs/recovery.md, "Reused optima are certified").

The event engine (:mod:`resiliopt.simulation.engine`) calls HiGHS only at events; every other
slice *reuses* the optimum of the last solve, on the argument that its LP data did not change.
Two rules make that argument: the comparison of a slice's data with the last solved data at an
event (``_solve_day``), and the event logic that fills the rows between events at once
(``_jump``, the bridge repair days, the user closures). A wrong rule gives wrong tables that
no certificate saw (a planted one gave an F_C gain of 0.0013168 against the true 0.0013203 on
day 60). This module checks the reused optima against the data of the slice they are reused
for, computed the way the stepwise reference computes it (:class:`RecoveryState`:
``demand``, ``arc_capacity``, ``gains``), independently of the engine's rules and caches:

* **every reused event** (the data compared equal to the last solved data): the data are
  recomputed from the state (not the engine's cached capacities and gains) and the last
  solution is certified against them (:meth:`CompiledSlice.recheck`, the input certificate,
  about 100 µs);
* **the last slice of every jump** (rows filled at once): every event is a lasting change (a
  group finished, a demand below full speed, a bridge reopened), so a jump that runs past
  one has different data on its last slice;
* **a seeded sample of the other slices of a jump**, each with probability ``share``
  (:data:`REUSE_SAMPLE`), drawn from a stream of its own (``SeedSequence([seed, scenario,
  TAG])``): it catches a change that comes and goes inside a jump (a closure of a few days).

The data of slice :math:`k + j` of a jump that starts at slice :math:`k` with deliveries
:math:`y`: the work left after :math:`j` slices, :math:`w - y - \dots - y` (the same
subtractions in the same order as one slice at a time); a group whose work falls to
:math:`10^{-9} W` is repaired (it leaves the unsafe set; its demand is 0); bridges whose
repair day (``recovery.bridge_repair_days`` by damage state) is at most the slice's day are
open; the day sets the user closures. A reused optimum passes when the input certificate of
the last solution, with these capacities, demands, gains, TR and day, passes: it is then
optimal for that slice whatever the rule said. A failure raises
:class:`~resiliopt.errors.SolveError` naming the scenario and the day (the run fails, exit 1).

Nothing here changes the state, HiGHS or the damage draws: the tables are bit-identical with
the check on or off. A slice with an extension (the matrix certificate applies, which reads
the model as last updated) is not rechecked; ``unchecked`` counts such slices.
"""

from __future__ import annotations

import numpy as np

from resiliopt.errors import SolveError
from resiliopt.formulations.slice_compiled import CompiledSlice
from resiliopt.schemas import DAMAGE_STATES
from resiliopt.simulation.scenario import RecoveryState

#: share of the slices inside a jump (besides its last) certified, drawn at random per scenario
REUSE_SAMPLE = 0.05
#: the third word of the sample's seed sequence (``b"reuse"``): a stream apart from the damage draws
TAG = 0x7265757365


class ReuseAudit:
    """The reuse checks of one scenario (module docstring).

    ``share``: probability with which each slice inside a jump (besides the last) is checked;
    1.0 checks every reused slice. ``checks`` / ``unchecked`` count the certificates run and
    the reused slices that could not be certified (an extension).
    """

    def __init__(
        self, st: RecoveryState, lp: CompiledSlice, seed: int, index: int, share: float = REUSE_SAMPLE
    ):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be in [0, 1], got {share}")
        self.st, self.lp, self.index, self.share = st, lp, index, share
        self.rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index), TAG]))
        repair = st.cm.case.case.recovery.bridge_repair_days or {}
        # day a bridge in each damage state is open again (state 0: open; inf: never)
        self.open_day = np.array(
            [-np.inf] + [float(repair.get(s, np.inf)) for s in DAMAGE_STATES[1:]], dtype=float
        )
        finite = np.isfinite(st.work_total)
        self.finite = finite
        self.tiny = 1e-9 * np.where(finite, st.work_total, 1.0)
        self.checks = 0
        self.unchecked = 0
        # gains are a function of the unsafe set, capacities of the bridge states: each kept for
        # the last set it was computed for (keyed by this audit's own recomputed state)
        self._gain_key: np.ndarray | None = None
        self._cap_key: np.ndarray | None = None
        self._gain = self._cap = np.empty(0)

    def _gains(self, unsafe: np.ndarray) -> np.ndarray:
        if self._gain_key is None or not np.array_equal(unsafe, self._gain_key):
            self._gain_key, self._gain = unsafe.copy(), self.st.gains(self.st.sector_loss(unsafe))
        return self._gain

    def _capacity(self, bridges: np.ndarray) -> np.ndarray:
        if self._cap_key is None or not np.array_equal(bridges, self._cap_key):
            self._cap_key, self._cap = bridges.copy(), self.st.arc_capacity(bridges)
        return self._cap

    def event(self, solved_day: int) -> None:
        """The engine reused the optimum of ``solved_day`` at an event: certify it against the
        slice's data recomputed from the state."""
        st = self.st
        cap, gain = self._capacity(st.bridge_state), self._gains(st.unsafe)
        self._certify(cap, st.demand(), gain, st.day, solved_day)

    def jump(self, y: np.ndarray, m: int, solved_day: int) -> None:
        """The engine fills slices ``st.day + j dt``, ``j = 1..m-1``, with the optimum of
        ``solved_day`` (deliveries ``y``): certify the last of them and a sample of the others."""
        if m < 2:
            return
        picks = [m - 1]
        if m > 2 and self.share > 0:
            inner = np.flatnonzero(self.rng.random(m - 2) < self.share) + 1
            picks = [*inner.tolist(), m - 1]
        st = self.st
        act = np.flatnonzero(y > 0)
        seq = np.empty((m, act.size))  # row j: the work left after j slices, as one slice at a time
        seq[0] = st.work_left[act]
        seq[1:] = -y[act]
        np.cumsum(seq, axis=0, out=seq)
        dt = st.cm.slice_days
        for j in picks:
            work = st.work_left.copy()
            work[act] = seq[j]
            done = st.unsafe & self.finite & (work <= self.tiny)
            work = np.where(done, 0.0, work)
            day = st.day + j * dt
            bridges = np.where(self.open_day[st.bridge_state] <= day, 0, st.bridge_state)
            gain = self._gains(st.unsafe & ~done)
            self._certify(self._capacity(bridges), st.demand(work), gain, day, solved_day)

    def _certify(self, cap, demand, gain, day: int, solved_day: int) -> None:
        cert = self.lp.recheck(cap, demand, gain, self.st.total_resources(), day)
        if cert is None:
            self.unchecked += 1
            return
        self.checks += 1
        if not cert.passed:
            raise SolveError(
                f"scenario {self.index}, day {day}: the optimum of day {solved_day} was reused for this "
                f"slice and fails the input certificate on this slice's data ({cert.summary()}): the "
                "engine's reuse rule is wrong",
                status="unverified",
            )
