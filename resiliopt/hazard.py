r"""Seismic demand, fragility and damage sampling (paper 004 sections 3.2, 4.1; docs/recovery.md).

Drift demand of a building group or a bridge under a scenario of intensity IM (PGA, g):

.. math::

    \theta = a \, IM^{b} \, \varepsilon, \qquad \ln \varepsilon \sim N(0, \zeta^2)

A damage state follows from the drift thresholds (slight, moderate, severe, collapse); the
unsafe share of a category (its expected value over eps) is the lognormal exceedance

.. math::

    l = 1 - \Phi\!\left(\frac{\ln\theta_{cr} - \ln a - b \ln IM}{\zeta}\right).

One eps is drawn per building group (a category at one node) and per bridge: buildings of a
group share their damage state; groups and bridges are independent (paper 004, 4.1).
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
