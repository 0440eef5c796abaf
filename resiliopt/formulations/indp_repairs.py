r"""Repairs that take several periods: the repair rows of the (td-)INDP (docs/indp.md,
"Repairs that take several periods").

Every damaged element :math:`i` (node or link) has a repair duration
:math:`\tau_i \in \{1, 2, \dots\}` in periods. The repair variable of the paper,
:math:`\tilde w_{it}` (:math:`\tilde y_{\ell t}` for a link), is read as the *start* of the
repair: :math:`\tilde w_{it} = 1` when the repair of :math:`i` starts in period :math:`t`.
The repair then occupies periods :math:`t, \dots, t + \tau_i - 1` and the element serves from
the end of period :math:`t + \tau_i - 1` on (flows are end-of-period flows, as in the paper:
with :math:`\tau_i = 1` an element repaired in period :math:`t` serves in period :math:`t`).
In the words "works from :math:`t + \tau_i`": from the start of period :math:`t + \tau_i`.

With the window of the periods in which a repair started in :math:`t'` is under way at
:math:`t`,

.. math::

    W_i(t) = \{\, t' \in \mathcal T : t - \tau_i + 1 \le t' \le t \,\},

the rows are

.. math::

    & w_{it} \le 1 - \bar d_i + \textstyle\sum_{t' \le t - \tau_i + 1} \tilde w_{it'}
        && \forall i, t \quad (\text{node\_state; link\_state with } y, \tilde y)     \\
    & \textstyle\sum_{t \in \mathcal T} \tilde w_{it} \le \bar d_i
        && \forall i \quad (\text{node\_repair\_once, link\_repair\_once})             \\
    & \tilde w_{it} = 0 \quad \text{for } t > T - \tau_i + 1
        && \forall i \quad (\text{bound: every started repair ends within the horizon}) \\
    & \textstyle\sum_i p_i \sum_{t' \in W_i(t)} \tilde w_{it'}
        + \sum_\ell h_\ell \sum_{t' \in W_\ell(t)} \tilde y_{\ell t'} \le v_{rt}
        && \forall r, t \quad (\text{resources})                                        \\
    & \textstyle\sum_{t' \in W_i(t)} \tilde w_{it'} \le z_{st}\ (\alpha_{is} = 1),\quad
      \sum_{t' \in W_\ell(t)} \tilde y_{\ell t'} \le z_{st}\ (\beta_{\ell s} = 1)
        && \forall t \quad (\text{space\_node, space\_link})

* **Resources per period.** A repair under way holds its resource use :math:`p_i` (per
  period) in every period of its window: the row of period :math:`t` counts every repair
  started in :math:`W_i(t)`, not only those started in :math:`t`.
* **Repair cost** :math:`q_i` is paid once, in the objective term of the start period (the
  objective has no discounting, so only the per-period cost tables see the choice).
* **Space preparation** :math:`g_s` is paid in every period in which a repair of an element of
  space :math:`s` is under way (the space is occupied while the work goes on; with
  :math:`\tau = 1` this is the paper's "per period used").
* **Repairs that cannot finish within the horizon** are not started: the start variables of
  periods :math:`t > T - \tau_i + 1` have upper bound 0, so an element with
  :math:`\tau_i > T` stays damaged in the plan (reported as unrepaired). A rolling planner
  needs a horizon of at least the longest duration it wants to start.
* **Durations** come from the case's ``repair_time`` (periods, the expected duration; the
  emergency ``learn`` updates it): :math:`\tau_i = \max(1, \lceil \text{repair\_time}_i
  \rceil)`, the rounding of the emergency loop's duration rule; ``INDPOptions(durations=
  "one")`` sets every :math:`\tau_i = 1`.

With :math:`\tau_i = 1` for every element the windows are :math:`W_i(t) = \{t\}`, no bound is
set and every row is the paper's row, term for term: the model is today's INDP.

Durations are part of the model's structure (which variables enter which row), not mutable
parameters: a new duration needs a new model (:func:`~resiliopt.formulations.indp.build_indp`).
"""

from __future__ import annotations

import math

import pandas as pd
import pyomo.environ as pyo

#: a repair_time this close above an integer counts as that integer (10.000000001 -> 10)
ROUND_TOL = 1e-9


def periods_of(repair_time: float) -> int:
    r"""Repair duration in whole periods: :math:`\max(1, \lceil \text{repair\_time} \rceil)`."""
    x = float(repair_time)
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"repair_time must be finite and >= 0 (got {repair_time})")
    return max(1, math.ceil(x - ROUND_TOL))


def repair_periods(table: pd.DataFrame, keys: list, mode: str) -> dict:
    """``{key: tau}`` for the rows of ``table`` (indexed by ``keys``), from its ``repair_time``
    column (``mode="case"``; a table without the column: 1) or 1 (``mode="one"``)."""
    if mode == "one" or "repair_time" not in table.columns:
        return dict.fromkeys(keys, 1)
    col = table["repair_time"]
    return {k: periods_of(col.at[k]) for k in keys}


def window(t: int, tau: int) -> range:
    r"""Start periods :math:`t'` whose repair is under way in period :math:`t`: :math:`W(t)`."""
    return range(max(1, t - tau + 1), t + 1)


def add_repair_rows(m, d, p: dict, h: dict) -> None:
    """Add the state, repair-once and resource rows (module docstring) to model ``m``
    built from :class:`~resiliopt.formulations.indp.INDPData` ``d``; ``p``, ``h`` the resource
    use of nodes and links. Sets the upper bound 0 on starts that could not end in time."""
    tau_n = {k: d.repair_periods.get(("node", *k), 1) for k in d.nodes}
    tau_l = {k: d.repair_periods.get(("link", *k), 1) for k in d.links}
    T = len(m.T)
    for k in d.nodes:
        for t in range(max(1, T - tau_n[k] + 2), T + 1):
            m.wr[k, t].setub(0)
    for k in d.links:
        for t in range(max(1, T - tau_l[k] + 2), T + 1):
            m.yr[k, t].setub(0)
    m.node_state = pyo.Constraint(
        m.N,
        m.T,
        rule=lambda m, la, nd, t: (
            m.w[la, nd, t] - sum(m.wr[la, nd, s] for s in m.T if s <= t - tau_n[la, nd] + 1)
            <= 1 - m.dmg_node[la, nd]
        ),
    )
    m.link_state = pyo.Constraint(
        m.L,
        m.T,
        rule=lambda m, la, li, t: (
            m.y[la, li, t] - sum(m.yr[la, li, s] for s in m.T if s <= t - tau_l[la, li] + 1)
            <= 1 - m.dmg_link[la, li]
        ),
    )
    m.node_repair_once = pyo.Constraint(
        m.N, rule=lambda m, la, nd: sum(m.wr[la, nd, t] for t in m.T) <= m.dmg_node[la, nd]
    )
    m.link_repair_once = pyo.Constraint(
        m.L, rule=lambda m, la, li: sum(m.yr[la, li, t] for t in m.T) <= m.dmg_link[la, li]
    )
    m.resources = pyo.Constraint(
        m.R,
        m.T,
        rule=lambda m, r, t: (
            sum(p[k] * m.wr[k, s] for k in d.nodes if p[k] for s in window(t, tau_n[k]))
            + sum(h[k] * m.yr[k, s] for k in d.links if h[k] for s in window(t, tau_l[k]))
            <= m.v[r, t]
        ),
    )


def add_space_rows(m, d) -> None:
    """Add the space rows: a space is prepared in every period a repair in it is under way."""
    tau_n = {k: d.repair_periods.get(("node", *k), 1) for k in d.nodes}
    tau_l = {k: d.repair_periods.get(("link", *k), 1) for k in d.links}
    m.NS = pyo.Set(initialize=[(*k, s) for k, s in d.node_spaces], dimen=3, ordered=True)
    m.LS = pyo.Set(initialize=[(*k, s) for k, s in d.link_spaces], dimen=3, ordered=True)
    m.space_node = pyo.Constraint(
        m.NS,
        m.T,
        rule=lambda m, la, nd, sp, t: sum(m.wr[la, nd, s] for s in window(t, tau_n[la, nd])) <= m.z[sp, t],
    )
    m.space_link = pyo.Constraint(
        m.LS,
        m.T,
        rule=lambda m, la, li, sp, t: sum(m.yr[la, li, s] for s in window(t, tau_l[la, li])) <= m.z[sp, t],
    )
