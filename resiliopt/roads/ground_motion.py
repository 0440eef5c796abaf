r"""A scenario earthquake's peak ground acceleration: Boore and Atkinson (2008).

D. M. Boore and G. M. Atkinson, *Ground-motion prediction equations for the average
horizontal component of PGA, PGV, and 5%-damped PSA at spectral periods between 0.01 s and
10.0 s*, Earthquake Spectra 24(1), 99-138 (2008), doi:10.1193/1.2830434 ("BA08", one of the
NGA-West1 relations; erratum of 27 August 2008 applied: :math:`R_{ref} = 1` km for every
period). For PGA, in g, with moment magnitude :math:`M`, Joyner-Boore distance
:math:`R_{JB}` (km) and the time-averaged shear-wave velocity of the top 30 m
:math:`V_{S30}` (m/s):

.. math::

    \ln Y = F_M(M) + F_D(R_{JB}, M) + F_S(V_{S30}, R_{JB}, M) + \varepsilon\,\sigma_T

* magnitude: :math:`F_M = e_1 U + e_2 SS + e_3 NS + e_4 RS + e_5 (M - M_h) + e_6 (M - M_h)^2`
  for :math:`M \le M_h`, else :math:`\ldots + e_7 (M - M_h)` (``U``, ``SS``, ``NS``, ``RS``:
  1 for the mechanism, unspecified / strike-slip / normal / reverse);
* distance: :math:`F_D = [c_1 + c_2 (M - M_{ref})] \ln(R / R_{ref}) + c_3 (R - R_{ref})`,
  :math:`R = \sqrt{R_{JB}^2 + h^2}`;
* site: :math:`F_S = b_{lin} \ln(V_{S30} / V_{ref}) + F_{NL}`, the nonlinear term driven by
  the PGA on rock ``pga4nl`` (:math:`F_M + F_D`, equations 8a-8c and 13a-13d); both are 0 at
  :math:`V_{S30} = V_{ref} = 760` m/s.

PGA coefficients (BA08 Tables 3, 6, 7, 8; checked against OpenQuake's implementation):
"""

from __future__ import annotations

import math

#: BA08 PGA coefficients; units: ln g for e1..e4, km for h, m/s for the velocities
BA08_PGA = {
    "e1": -0.53804,  # unspecified mechanism
    "e2": -0.50350,  # strike-slip
    "e3": -0.75472,  # normal
    "e4": -0.50970,  # reverse
    "e5": 0.28805,
    "e6": -0.10164,
    "e7": 0.0,
    "Mh": 6.75,
    "c1": -0.66050,
    "c2": 0.11970,
    "c3": -0.01151,
    "h": 1.35,
    "Mref": 4.5,
    "Rref": 1.0,
    "blin": -0.36,
    "b1": -0.64,
    "b2": -0.14,
    "Vref": 760.0,
    "V1": 180.0,
    "V2": 300.0,
    "a1": 0.03,
    "a2": 0.09,
    "pga_low": 0.06,
    # standard deviations of ln PGA: within-event sigma, between-event tau (mechanism
    # unspecified / specified) and total
    "sigma": 0.502,
    "tau_U": 0.265,
    "tau_M": 0.260,
    "sigma_TU": 0.566,
    "sigma_TM": 0.564,
}
MECHANISMS = ("unspecified", "strike-slip", "normal", "reverse")

__doc__ += "\n" + "\n".join(f"* ``{k}`` = {v}" for k, v in BA08_PGA.items()) + "\n"

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def _magnitude_term(m: float, mechanism: str) -> float:
    c = BA08_PGA
    if mechanism not in MECHANISMS:
        raise ValueError(f"mechanism must be one of {MECHANISMS}")
    base = c[("e1", "e2", "e3", "e4")[MECHANISMS.index(mechanism)]]
    dm = m - c["Mh"]
    return base + (c["e5"] * dm + c["e6"] * dm * dm if m <= c["Mh"] else c["e7"] * dm)


def _distance_term(m: float, rjb: float) -> float:
    c = BA08_PGA
    r = math.sqrt(rjb * rjb + c["h"] ** 2)
    return (c["c1"] + c["c2"] * (m - c["Mref"])) * math.log(r / c["Rref"]) + c["c3"] * (r - c["Rref"])


def _nonlinear_slope(vs30: float) -> float:
    c = BA08_PGA
    if vs30 <= c["V1"]:
        return c["b1"]
    if vs30 <= c["V2"]:
        return (c["b1"] - c["b2"]) * math.log(vs30 / c["V2"]) / math.log(c["V1"] / c["V2"]) + c["b2"]
    if vs30 < c["Vref"]:
        return c["b2"] * math.log(vs30 / c["Vref"]) / math.log(c["V2"] / c["Vref"])
    return 0.0


def _site_term(vs30: float, pga4nl: float) -> float:
    c = BA08_PGA
    bnl = _nonlinear_slope(vs30)
    a1, a2, low = c["a1"], c["a2"], c["pga_low"]
    if pga4nl <= a1:
        fnl = bnl * math.log(low / 0.1)
    elif pga4nl <= a2:
        dx = math.log(a2 / a1)
        dy = bnl * math.log(a2 / low)
        cc = (3.0 * dy - bnl * dx) / dx**2
        dd = -(2.0 * dy - bnl * dx) / dx**3
        t = math.log(pga4nl / a1)
        fnl = bnl * math.log(low / 0.1) + cc * t * t + dd * t**3
    else:
        fnl = bnl * math.log(pga4nl / 0.1)
    return c["blin"] * math.log(vs30 / c["Vref"]) + fnl


def ba08_pga(magnitude: float, rjb_km: float, vs30: float = 760.0, mechanism: str = "unspecified") -> float:
    r"""Median PGA (g) of BA08 at Joyner-Boore distance ``rjb_km`` (km) for moment magnitude
    ``magnitude`` on a site of :math:`V_{S30}` = ``vs30`` m/s."""
    rock = _magnitude_term(magnitude, mechanism) + _distance_term(magnitude, rjb_km)
    return math.exp(rock + _site_term(vs30, math.exp(rock)))


def ba08_sigmas(mechanism: str = "unspecified") -> tuple[float, float]:
    """(tau, phi): between- and within-event standard deviations of ln PGA (BA08 Table 8)."""
    c = BA08_PGA
    return (c["tau_U"] if mechanism == "unspecified" else c["tau_M"]), c["sigma"]


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius), km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
