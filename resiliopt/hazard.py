r"""Seismic demand, fragility and damage sampling (paper 004 sections 3.2, 4.1; docs/recovery.md).

Drift demand of a building group or a bridge under a scenario of intensity IM (PGA, g):

.. math::

    \theta = a \, IM^{b} \, \varepsilon, \qquad \ln \varepsilon \sim N(0, \zeta^2)

A damage state follows from the drift thresholds (slight, moderate, severe, collapse); the
unsafe share of a category (its expected value over eps) is the lognormal exceedance

.. math::

    l = 1 - \Phi\!\left(\frac{\ln\theta_{cr} - \ln a - b \ln IM}{\zeta}\right).

One eps is drawn per building group (a category at one node) and per bridge: buildings of a
group share their damage state. By default (the paper, 4.1) groups and bridges are
independent given the scenario PGA. Two options make damage correlated (docs/recovery.md):

*Spatially correlated ground motion.* The intensity at site (road node) :math:`v` is

.. math::

    \ln IM_v = \ln IM + \tau\,\eta + \phi\,\epsilon_v, \qquad \eta \sim N(0, 1), \quad
    \epsilon \sim N(0, R), \quad R_{uv} = \exp(-3\,h_{uv} / r)

with :math:`\eta` the between-event term (one per scenario), :math:`\epsilon_v` the
within-event residuals correlated by the distance :math:`h_{uv}` (km) between sites, and the
exponential model of Jayaram and Baker (2009) with range :math:`r` (km; the correlation is
0.05 at :math:`h = r`).

*Correlation of damage within a building category.* A group's fragility residual is split
into a term shared by all groups of its category and its own term,

.. math::

    \ln\varepsilon_j = \zeta\left(\sqrt{\rho_c}\, z_{c(j)} + \sqrt{1-\rho_c}\, z_j\right),

so that :math:`\ln\varepsilon_j \sim N(0, \zeta^2)` still, and two groups of one category
have correlation :math:`\rho_c` (given the site intensities).
"""

from __future__ import annotations

import math

import numpy as np

_SQRT2 = math.sqrt(2.0)
_erf = np.frompyfunc(math.erf, 1, 1)


def norm_cdf(x: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF (vectorised, exact to double precision)."""
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + np.asarray(_erf(x / _SQRT2), dtype=float))


def norm_pdf(x: np.ndarray | float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def median_drift(a, pga, b):
    """Median drift a IM^b (rad)."""
    return np.asarray(a, dtype=float) * np.power(pga, b)


def exceedance(a, pga, b, zeta, theta):
    """P(theta_demand > theta) for theta = a IM^b eps, ln eps ~ N(0, zeta^2)."""
    z = (np.log(theta) - np.log(np.asarray(a, dtype=float)) - b * np.log(pga)) / zeta
    return 1.0 - norm_cdf(z)


def damage_state(drift: np.ndarray, thresholds: list[float] | np.ndarray) -> np.ndarray:
    """0 none, 1 slight, 2 moderate, 3 severe, 4 collapse (a drift equal to a bound is above it)."""
    return np.searchsorted(np.asarray(thresholds, dtype=float), drift, side="right").astype(np.int8)


def sample_drift(rng: np.random.Generator, a: np.ndarray, pga: float, b: float, zeta) -> np.ndarray:
    """One drift per entry of ``a``: a IM^b exp(zeta N(0,1))."""
    a = np.asarray(a, dtype=float)
    return median_drift(a, pga, b) * np.exp(np.asarray(zeta) * rng.standard_normal(a.shape))


def distance_correlation(x: np.ndarray, y: np.ndarray, range_km: float) -> np.ndarray:
    """Exponential correlation exp(-3 h / range) of sites at coordinates (x, y) km (Jayaram & Baker 2009)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    h = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    return np.exp(-3.0 * h / float(range_km))


def correlation_factor(corr: np.ndarray) -> np.ndarray:
    """A matrix L with L L^T = corr (Cholesky; eigen-decomposition if corr is only semidefinite)."""
    try:
        return np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(corr)
        return v * np.sqrt(np.clip(w, 0.0, None))


def site_log_residuals(rng: np.random.Generator, factor: np.ndarray, tau: float, phi: float) -> np.ndarray:
    """delta_v = tau eta + phi (L z)_v: the change of ln IM at every site for one scenario.

    Draws nothing for a term whose standard deviation is 0 (so a case without correlated
    ground motion keeps its random stream).
    """
    n = factor.shape[0]
    out = np.zeros(n)
    if tau > 0:
        out += tau * rng.standard_normal()
    if phi > 0:
        out += phi * (factor @ rng.standard_normal(n))
    return out


def split_residual(z_own: np.ndarray, z_common: np.ndarray, rho: float) -> np.ndarray:
    """sqrt(rho) z_common + sqrt(1 - rho) z_own: unit variance, correlation rho between members."""
    return math.sqrt(rho) * np.asarray(z_common) + math.sqrt(1.0 - rho) * np.asarray(z_own)
