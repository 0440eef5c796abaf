r"""Learning from an event: element fragility and repair durations.

**Fragility** (maximum likelihood). An element observed at peak ground acceleration
:math:`a_j` is damaged (:math:`z_j = 1`) with the lognormal fragility

.. math:: P(z_j = 1 \mid a_j) = \Phi\!\left(\frac{\ln(a_j/\theta)}{\beta}\right),

median :math:`\theta` (g) and log standard deviation :math:`\beta`. The estimate maximises

.. math:: \ell(\theta,\beta) = \sum_j z_j \ln\Phi(u_j) + (1-z_j)\ln\Phi(-u_j),\quad
          u_j = \ln(a_j/\theta)/\beta,

over :math:`(\ln\theta, \ln\beta)` (scipy, BFGS); standard errors come from the inverse Hessian
of :math:`-\ell` in those coordinates (delta method back to :math:`\theta, \beta`). The maximum
exists only if damaged and undamaged observations overlap in PGA; otherwise the data are
*separable* and the fit is refused.

**Repair durations** (Bayesian). Log repair durations :math:`y = \ln\tau` of one element
class are :math:`N(\mu, \sigma^2)`. The case's repair time is the prior median; with a prior
dispersion :math:`s_0` and a strength :math:`n_0` (pseudo-observations) the prior is
Normal-Inverse-Gamma :math:`\mu \mid \sigma^2 \sim N(\mu_0, \sigma^2/\kappa_0)`,
:math:`\sigma^2 \sim \mathrm{IG}(\alpha_0, \beta_0)` with :math:`\mu_0 = \ln(\text{median})`,
:math:`\kappa_0 = n_0`, :math:`\alpha_0 = n_0/2 + 1`, :math:`\beta_0 = s_0^2(\alpha_0 - 1)` (so
:math:`E[\sigma^2] = s_0^2`). For :math:`n` completed repairs the posterior is conjugate:

.. math::

   \kappa_n = \kappa_0 + n,\quad \mu_n = \frac{\kappa_0\mu_0 + n\bar y}{\kappa_n},\quad
   \alpha_n = \alpha_0 + \tfrac n2,\quad
   \beta_n = \beta_0 + \tfrac12\sum (y_i-\bar y)^2 + \frac{\kappa_0 n(\bar y-\mu_0)^2}{2\kappa_n}.

Repairs not finished when observation ends are right-censored: their likelihood is
:math:`1 - \Phi((\ln c - \mu)/\sigma)`, which breaks conjugacy, so with censored data the
posterior is computed on a grid over :math:`(\mu, \sigma)` (the same prior density). The
updated case takes the posterior median :math:`e^{E[\mu]}` as the repair time and
:math:`\sqrt{E[\sigma^2]}` as the dispersion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from resiliopt.errors import InputError


# --------------------------------------------------------------------------- fragility
@dataclass(frozen=True)
class FragilityFit:
    median: float  #: theta, g
    beta: float  #: log standard deviation
    median_se: float
    beta_se: float
    loglik: float
    n: int
    n_damaged: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _nll(p: np.ndarray, lna: np.ndarray, z: np.ndarray) -> float:
    # imported here (cached after the first call): scipy costs ~0.5 s of every command's start-up
    from scipy import special

    u = (lna - p[0]) / math.exp(p[1])
    return -float(np.sum(z * special.log_ndtr(u) + (1 - z) * special.log_ndtr(-u)))


def fit_fragility(pga: np.ndarray, damaged: np.ndarray, what: str = "elements") -> FragilityFit:
    """Maximum-likelihood lognormal fragility from observed damage against the local PGA (g)."""
    a = np.asarray(pga, dtype=float)
    z = np.asarray(damaged, dtype=float)
    if a.shape != z.shape or a.ndim != 1:
        raise InputError(f"{what}: pga and damage must be two vectors of the same length")
    if a.size < 3 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InputError(f"{what}: need at least 3 observations with a PGA > 0 (got {a.size})")
    nd = int(z.sum())
    if nd == 0 or nd == z.size:
        raise InputError(
            f"{what}: all {z.size} observations are {'damaged' if nd else 'undamaged'}; "
            "a fragility needs both outcomes"
        )
    lna = np.log(a)
    if lna[z == 1].min() >= lna[z == 0].max():
        raise InputError(
            f"{what}: damaged and undamaged observations do not overlap in PGA "
            "(separable data): the maximum-likelihood fragility does not exist"
        )
    # imported here: scipy costs ~0.5 s of every command's start-up
    from scipy import optimize

    start = np.array([0.5 * (lna[z == 1].mean() + lna[z == 0].mean()), math.log(max(lna.std(), 0.1))])
    res = optimize.minimize(_nll, start, args=(lna, z), method="BFGS")
    # BFGS's inverse Hessian is an approximation; use a finite-difference Hessian for the errors
    h = _hessian(lambda p: _nll(p, lna, z), res.x)
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        cov = np.full((2, 2), np.nan)
    theta, beta = math.exp(res.x[0]), math.exp(res.x[1])
    return FragilityFit(
        median=theta,
        beta=beta,
        median_se=theta * math.sqrt(max(cov[0, 0], 0.0)),
        beta_se=beta * math.sqrt(max(cov[1, 1], 0.0)),
        loglik=-float(res.fun),
        n=int(a.size),
        n_damaged=nd,
    )


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = x.size
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            out[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return out


# --------------------------------------------------------------------------- repair durations
@dataclass(frozen=True)
class RepairPrior:
    median: float  #: prior median repair duration, periods
    dispersion: float = 0.5  #: prior E[sigma^2]**0.5 of log durations
    strength: float = 5.0  #: n0, prior pseudo-observations

    def __post_init__(self):
        for name in ("median", "dispersion", "strength"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise InputError(f"repair prior {name} must be a finite number > 0 (got {v!r})")

    @property
    def nig(self) -> tuple[float, float, float, float]:
        a0 = self.strength / 2 + 1
        return math.log(self.median), self.strength, a0, self.dispersion**2 * (a0 - 1)


@dataclass(frozen=True)
class RepairPosterior:
    mu: float  #: E[mu], log periods
    sigma2: float  #: E[sigma^2]
    n_complete: int
    n_censored: int
    method: str  #: "conjugate" or "grid"

    @property
    def median(self) -> float:
        return math.exp(self.mu)

    @property
    def dispersion(self) -> float:
        return math.sqrt(self.sigma2)

    def as_dict(self) -> dict:
        d = self.__dict__.copy()
        d.update(median=self.median, dispersion=self.dispersion)
        return d


def _conjugate(prior: RepairPrior, y: np.ndarray) -> tuple[float, float]:
    m0, k0, a0, b0 = prior.nig
    n = y.size
    if n == 0:
        return m0, b0 / (a0 - 1)
    yb = float(y.mean())
    kn = k0 + n
    mn = (k0 * m0 + n * yb) / kn
    an = a0 + n / 2
    bn = b0 + 0.5 * float(((y - yb) ** 2).sum()) + k0 * n * (yb - m0) ** 2 / (2 * kn)
    return mn, bn / (an - 1)


def _grid(prior: RepairPrior, y: np.ndarray, c: np.ndarray, size: int = 400) -> tuple[float, float]:
    # imported here: scipy costs ~0.5 s of every command's start-up
    from scipy import stats

    m0, k0, a0, b0 = prior.nig
    allv = np.concatenate([y, c, [m0]])
    s_hi = max(3 * math.sqrt(b0 / (a0 - 1)), 3 * float(np.std(allv)) + 0.5)
    mu = np.linspace(allv.min() - s_hi, allv.max() + s_hi, size)
    sig = np.linspace(s_hi / size, s_hi, size)
    M, S = np.meshgrid(mu, sig, indexing="ij")
    s2 = S**2
    # prior: N(mu | m0, s2/k0) * IG(s2 | a0, b0), as a density in (mu, sigma): Jacobian d s2 = 2 sigma d sigma
    lp = stats.norm.logpdf(M, m0, np.sqrt(s2 / k0)) + stats.invgamma.logpdf(s2, a0, scale=b0) + np.log(2 * S)
    for v in y:
        lp += stats.norm.logpdf(v, M, S)
    for v in c:
        lp += stats.norm.logsf(v, M, S)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    return float((w * M).sum()), float((w * s2).sum())


def update_repair_durations(
    prior: RepairPrior, durations: np.ndarray, censored: np.ndarray | None = None
) -> RepairPosterior:
    """Posterior of the lognormal repair durations of one element class.

    ``durations`` are completed repair times (periods, > 0); ``censored`` the elapsed times of
    repairs still unfinished when observation ended (> 0).
    """
    d = np.asarray(durations, dtype=float)
    c = np.asarray([] if censored is None else censored, dtype=float)
    for name, v in (("durations", d), ("censored", c)):
        if v.size and (not np.all(np.isfinite(v)) or np.any(v <= 0)):
            raise InputError(f"repair {name} must be finite numbers > 0")
    y, lc = np.log(d), np.log(c)
    if c.size == 0:
        mu, s2 = _conjugate(prior, y)
        method = "conjugate"
    else:
        mu, s2 = _grid(prior, y, lc)
        method = "grid"
    return RepairPosterior(mu=mu, sigma2=s2, n_complete=int(d.size), n_censored=int(c.size), method=method)


# --------------------------------------------------------------------------- from observations
def damage_observations(obs: pd.DataFrame) -> pd.DataFrame:
    """Each element's damage at the first time stamp of the event, with its PGA.

    Returns ``kind, layer, element, pga, damaged`` for the elements observed at the first time
    stamp with a PGA; ``damaged`` is True for ``down`` and ``degraded``.
    """
    t0 = obs["time"].min()
    first = obs[(obs["time"] == t0) & obs["pga"].notna()]
    out = first[["kind", "layer", "element", "pga"]].copy()
    out["damaged"] = first["status"].ne("up").to_numpy()
    return out.reset_index(drop=True)


def repair_observations(obs: pd.DataFrame) -> pd.DataFrame:
    """Repair durations: ``kind, layer, element, duration, censored, start_observed``.

    An element damaged at the event (first time stamp) is repaired from its first ``repairing``
    observation (``start_observed``) - or, if it has none, from the event (the duration then
    includes the wait for a crew: an upper bound) - to its first later ``up`` observation. An
    element never seen up again is censored at its last observation.
    """
    cols = ["kind", "layer", "element", "duration", "censored", "start_observed"]
    key = ["kind", "layer", "element"]
    t0 = obs["time"].min()
    o = obs[[*key, "time", "status"]].sort_values([*key, "time"], kind="stable")
    first = o.drop_duplicates(key, keep="first").set_index(key)
    first = first[(first["time"] == t0) & (first["status"] != "up")]  # damaged at the event
    if first.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=t) for c, t in zip(cols, [str, str, str, float, bool, bool], strict=True)}
        )
    rep = o[o["status"] == "repairing"].drop_duplicates(key, keep="first").set_index(key)["time"]
    start = rep.reindex(first.index)
    observed = start.notna()
    start = start.fillna(float(t0)).astype(float)
    ups = o[o["status"] == "up"].join(start.rename("start"), on=key, how="inner")
    end = ups[ups["time"] > ups["start"]].drop_duplicates(key, keep="first").set_index(key)["time"]
    last = o.drop_duplicates(key, keep="last").set_index(key)["time"].reindex(first.index).astype(float)
    end = end.reindex(first.index).astype(float)
    done = end.notna()
    keep = done | (last > start)
    out = pd.DataFrame(
        {
            "duration": np.where(done, end - start, last - start),
            "censored": ~done.to_numpy(),
            "start_observed": observed.to_numpy(),
        },
        index=first.index,
    )[keep.to_numpy()]
    return out.reset_index()[cols].astype({"duration": float, "censored": bool, "start_observed": bool})


#: the ranges of the repair-duration prior (``--prior-dispersion``, ``--prior-strength``)
PRIOR_DISPERSION_MAX = 5.0
PRIOR_STRENGTH_MAX = 1e6


def check_prior(dispersion: float, strength: float) -> None:
    """Refuse a prior dispersion outside (0, 5] or a strength outside (0, 1e6] (InputError
    naming the option), before any work; the command line refuses them while it is read."""
    for name, v, hi in (
        ("--prior-dispersion", dispersion, PRIOR_DISPERSION_MAX),
        ("--prior-strength", strength, PRIOR_STRENGTH_MAX),
    ):
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and 0 < v <= hi
        if not ok:
            raise InputError(f"must be a finite number > 0 and <= {hi:g} (got {v!r})", location=name)


def learn_event(
    case, obs: pd.DataFrame, prior_dispersion: float = 0.5, prior_strength: float = 5.0
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Fit fragilities and update repair durations from an event's observations.

    Returns ``(learned, fragility, repairs)``: ``learned`` a plain dict (written as
    learned.yaml), ``fragility`` one row per group (``all`` and each layer with enough data:
    group, n, n_damaged, median, median_se, beta, beta_se, or ``note`` why no fit), and
    ``repairs`` one row per element class (layer, kind) with the prior, the data and the
    posterior; plus, in ``learned["repair_time"]``, the new repair time of each element.
    """
    dmg, rep = damage_observations(obs), repair_observations(obs)
    return learn_tables(case, dmg, rep, prior_dispersion, prior_strength)


def learn_events(
    case, observations: list[pd.DataFrame], prior_dispersion: float = 0.5, prior_strength: float = 5.0
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """:func:`learn_event` on the observations of several events, pooled.

    Each event's damage and repair observations are read on their own (the first time stamp
    of *that* event is its event time), then pooled: one fragility fit over every element of
    every event (the elements' damage is independent given their PGA, whatever the event) and
    one conjugate (or grid) update per element class over every event's repairs (the
    durations are independent draws of the class's lognormal). Pooling assumes the events
    share the parameters (one fragility, one duration law per class)."""
    if not observations:
        raise InputError("learning needs the observations of at least one event", location="--train")
    dmg = pd.concat([damage_observations(o) for o in observations], ignore_index=True)
    rep = pd.concat([repair_observations(o) for o in observations], ignore_index=True)
    learned, frag, times = learn_tables(case, dmg, rep, prior_dispersion, prior_strength)
    learned["events"] = len(observations)
    return learned, frag, times


def learn_tables(
    case, dmg: pd.DataFrame, rep: pd.DataFrame, prior_dispersion: float = 0.5, prior_strength: float = 5.0
) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """:func:`learn_event` from the damage (:func:`damage_observations`) and repair
    (:func:`repair_observations`) tables of one event or of several pooled."""
    check_prior(prior_dispersion, prior_strength)
    frag_rows = []
    groups = [("all", dmg)] + [(la, g) for la, g in dmg.groupby("layer", sort=True)]
    for name, g in groups:
        try:
            f = fit_fragility(g["pga"].to_numpy(), g["damaged"].to_numpy(), what=f"fragility of {name}")
            frag_rows.append({"group": name, **f.as_dict(), "note": ""})
        except InputError as exc:
            frag_rows.append(
                {"group": name, "n": len(g), "n_damaged": int(g["damaged"].sum()), "note": exc.message}
            )
    fragility = pd.DataFrame(frag_rows)
    rep = rep.astype({"censored": bool, "start_observed": bool})
    if rep["start_observed"].any():  # durations from the observed start of work only
        rep = rep[rep["start_observed"]]
    sites = []
    for kind, tab, idcol in (("node", case.nodes, "node"), ("link", case.links, "link")):
        sites.append(
            pd.DataFrame(
                {
                    "kind": kind,
                    "layer": tab["layer"].astype(str),
                    "element": tab[idcol].astype(str),
                    "repair_time": tab["repair_time"],
                }
            )
        )
    sites = pd.concat(sites, ignore_index=True)
    rep_rows, new_times = [], []
    for (layer, kind), g in sites.groupby(["layer", "kind"], sort=True):
        prior_med = float(g["repair_time"].median())
        r = rep[(rep["layer"] == layer) & (rep["kind"] == kind)]
        if prior_med <= 0 or r.empty:
            continue
        prior = RepairPrior(prior_med, prior_dispersion, prior_strength)
        post = update_repair_durations(
            prior, r.loc[~r["censored"], "duration"].to_numpy(), r.loc[r["censored"], "duration"].to_numpy()
        )
        rep_rows.append(
            {
                "layer": layer,
                "kind": kind,
                "prior_median": prior_med,
                "prior_dispersion": prior_dispersion,
                "prior_strength": prior_strength,
                **post.as_dict(),
            }
        )
        scale = post.median / prior_med  # every element of the class scaled alike
        new_times.append(
            g.assign(repair_time=g["repair_time"] * scale)[["kind", "layer", "element", "repair_time"]]
        )
    repairs = pd.DataFrame(rep_rows)
    times = (
        pd.concat(new_times, ignore_index=True)
        if new_times
        else pd.DataFrame(columns=["kind", "layer", "element", "repair_time"])
    )
    learned = {
        "kind": "learned",
        "fragility": [
            {k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
            for r in fragility.to_dict("records")
        ],
        "repair_durations": repairs.to_dict("records"),
        "note": "repair_time of each class scaled to its posterior median (docs/emergency.md, Learn)",
    }
    return learned, fragility, times
