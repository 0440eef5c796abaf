r"""The events of an evaluation: drawn earthquakes or the case's damage scenarios, with random
repair durations, road closures and aftershocks (docs/emergency.md, "Evidence over many events").

Event :math:`e` of a run with seed :math:`s` depends on :math:`(s, e)` alone: its random
numbers come from ``SeedSequence([s, e])`` (spawned into one stream per purpose: magnitude and
epicentre, ground motion, repair durations, bridges, aftershock), and its damage from the one
sampler's draw (:func:`resiliopt.infra.damage.draw_damage`, draw :math:`e` of seed :math:`s`
at the event's magnitude), never from the worker that runs it.

**Drawn events** (``source="draw"``) take one of two damage models (``damage_model``;
``auto``: ``table`` where the case has failure probabilities, else ``fragility``).

``table``: the case's own failure probabilities: the magnitude is one of the table's
magnitudes in [``m_min``, ``m_max``], drawn with the discrete Gutenberg-Richter weights
:math:`\propto 10^{-b M}`, and the damage is the one sampler's draw
:func:`~resiliopt.infra.damage.sample_damage` (case, :math:`M`, seed :math:`s`, draw :math:`e`)
verbatim; the road closures are the template's.

``fragility`` (the case needs every element's coordinates, longitude and latitude):

* magnitude :math:`M` from a truncated Gutenberg-Richter law with :math:`b` = ``b_value`` on
  [``m_min``, ``m_max``]: :math:`M = m_{min} - \log_{10}(1 - u (1 - 10^{-b (m_{max} - m_{min})})) / b`;
* epicentre uniform over the bounding box of the case's elements;
* ground motion at every element (the bundled event's point-source field, scaled by magnitude):
  :math:`\ln \mathrm{PGA} = \ln a_0 + c_M (M - 7) - \ln((R + R_0)/R_0) + \sigma \varepsilon`,
  :math:`R` the great-circle distance (km), :math:`\varepsilon` independent standard normal;
* failure probability from one lognormal fragility for every element (the case format has no
  fragility): :math:`p = \Phi(\ln(\mathrm{PGA}/\theta)/\beta)`; the damage is the one
  sampler's draw over these probabilities (each element fails iff its uniform is below
  :math:`p`); with ``fragility_from="case"`` the median and :math:`\beta` are those learned
  for the case (:func:`case_fragility`: a learned case draws the events); every element's PGA
  is kept with the event (``EventDraw.pga``: what learning observes);
* road closures: every bridge of the template road layer fails with the fragility at its
  midpoint's ground motion and stays closed until a lognormal period (median
  ``bridge_repair_median``).

**Scenario events** (``source="scenarios"``): event :math:`e` takes the case's damage scenario
number :math:`e \bmod n` (in the case's order); the road closures are the template's.

**Repair durations** (both): one lognormal draw per element, median the case's
``repair_time``, log-sd ``dispersion`` (the loop's :func:`~resiliopt.emergency.response.sample_durations`
model, from the event's stream).

**Aftershock** (probability ``aftershock`` per event) at a period drawn uniformly from
``aftershock_periods``, of kind ``aftershock_kind`` (``auto``: ``quake`` under the fragility
model, ``found`` otherwise). A ``quake`` has magnitude :math:`M - \Delta` (Båth's
law, :math:`\Delta` = ``aftershock_drop``) at an epicentre uniform within ``aftershock_km`` of
the main one, its damage drawn like the main shock's (fresh ground motion, the one sampler at
the aftershock's magnitude); ``found`` is a *failure found late*:
:math:`\max(1, \mathrm{round}(f n))` elements not damaged by the scenario (:math:`f` =
``found_share``, :math:`n` the event's damaged count), uniformly. The new repairs get their
own durations (a second draw).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from resiliopt._yaml import read_yaml
from resiliopt.case.infra import KEY, InfraCase
from resiliopt.emergency.event import DamagedBridge, Roads
from resiliopt.emergency.response import Aftershock, element_sites
from resiliopt.errors import InputError
from resiliopt.infra.damage import draw_damage, sample_damage

SOURCES = ("draw", "scenarios")
DAMAGE_MODELS = ("auto", "table", "fragility")
AFTERSHOCK_KINDS = ("auto", "quake", "found")
EARTH_KM = 6371.0


@dataclass(frozen=True)
class EventModel:
    """The stated distributions of the drawn events (module docstring); the defaults are the
    bundled synthetic event's (``scripts/make_emergency_event.py``: at M 7 its ground motion)."""

    m_min: float = 6.0
    m_max: float = 7.5
    b_value: float = 1.0
    pga0_g: float = 0.9  # a_0: PGA at the epicentre of an M 7 (g)
    c_m: float = 1.0  # ln-PGA per unit of magnitude
    r0_km: float = 10.0
    sigma_ln: float = 0.35
    fragility_median_g: float = 0.6
    fragility_beta: float = 0.5
    dispersion: float = 0.5  # log-sd of the repair durations
    bridge_repair_median: float = 4.0  # periods a damaged bridge stays closed (median)
    aftershock: float = 0.0  # probability of an aftershock (or a failure found late) per event
    aftershock_periods: tuple[int, int] = (1, 5)
    aftershock_drop: float = 1.2
    aftershock_km: float = 10.0
    found_share: float = 0.2
    damage_model: str = "auto"
    aftershock_kind: str = "auto"
    #: ``model``: the fragility above; ``case``: the fragility learned for the case (its
    #: ``learned.yaml``, group ``all``: :func:`case_fragility`), so a learned case draws the events
    fragility_from: str = "model"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["aftershock_periods"] = list(self.aftershock_periods)
        if d["fragility_from"] == "model":  # absent where it is the default: earlier runs resume
            del d["fragility_from"]
        return d


@dataclass
class EventDraw:
    """One event: everything every policy sees the same (common random numbers)."""

    event: int
    source: str  # draw | scenarios
    damage_model: str  # table | fragility | scenarios
    scenario: str
    magnitude: float
    x: float
    y: float
    damage: pd.DataFrame  # kind, layer, element
    durations: pd.Series  # true repair durations (periods) of every element
    closures: tuple[tuple[str, float], ...] | None  # (bridge link, open again at period); None: template's
    aftershocks: tuple[Aftershock, ...] = field(default_factory=tuple)
    #: the main shock's PGA (g) at every element (kind, layer, element); fragility model only
    pga: pd.Series | None = None

    def roads(self, template: Roads | None) -> Roads | None:
        """The template road layer with this event's closed bridges."""
        if template is None or self.closures is None:
            return template
        closed = [DamagedBridge(link=b, repaired_period=p) for b, p in self.closures]
        return template.model_copy(update={"damaged_bridges": closed})

    def row(self, template: Roads | None) -> dict:
        """The event's row of the ``events`` table."""
        dmg = self.damage
        a = self.aftershocks[0] if self.aftershocks else None
        roads = self.roads(template)
        return {
            "event": self.event,
            "source": self.source,
            "damage_model": self.damage_model,
            "scenario": self.scenario,
            "magnitude": self.magnitude,
            "epicentre_x": self.x,
            "epicentre_y": self.y,
            "n_damaged": len(dmg),
            "n_damaged_nodes": int((dmg["kind"] == "node").sum()),
            "n_damaged_links": int((dmg["kind"] == "link").sum()),
            "mean_duration": float(self.durations.reindex(pd.MultiIndex.from_frame(dmg)).mean())
            if len(dmg)
            else 0.0,
            "closed_bridges": len(roads.damaged_bridges) if roads is not None else 0,
            "aftershock_time": float(a.time) if a is not None else np.nan,
            "aftershock_what": a.what if a is not None else "",
            "aftershock_damaged": len(a.damage) if a is not None else 0,
        }


def _km(x, y, x0, y0) -> np.ndarray:
    """Great-circle distance (km) of lon/lat points from (x0, y0)."""
    lon1, lat1, lon2, lat2 = map(np.radians, (np.asarray(x, float), np.asarray(y, float), x0, y0))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def ln_ground_motion(model: EventModel, magnitude: float, r_km: np.ndarray, eps: np.ndarray) -> np.ndarray:
    r""":math:`\ln \mathrm{PGA}` (g) at distance ``r_km`` with standard normal ``eps`` (module docstring)."""
    return (
        math.log(model.pga0_g)
        + model.c_m * (magnitude - 7.0)
        - np.log((r_km + model.r0_km) / model.r0_km)
        + model.sigma_ln * eps
    )


def failure_probability(model: EventModel, magnitude: float, r_km: np.ndarray, eps: np.ndarray) -> np.ndarray:
    r"""Ground motion at distance ``r_km`` with standard normal ``eps``, then the fragility:
    :math:`p = \Phi((\ln \mathrm{PGA} - \ln\theta)/\beta)`."""
    return fragility_probability(model, ln_ground_motion(model, magnitude, r_km, eps))


def fragility_probability(model: EventModel, ln_pga: np.ndarray) -> np.ndarray:
    r""":math:`\Phi((\ln \mathrm{PGA} - \ln\theta)/\beta)` with the model's fragility."""
    z = (ln_pga - math.log(model.fragility_median_g)) / model.fragility_beta
    return np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in np.ravel(z)]).reshape(np.shape(z))


def gutenberg_richter(model: EventModel, u: float) -> float:
    """Magnitude of uniform ``u`` by the inverse truncated Gutenberg-Richter distribution."""
    b, lo, hi = model.b_value, model.m_min, model.m_max
    if hi <= lo:
        return float(lo)
    return float(lo - math.log10(1.0 - u * (1.0 - 10.0 ** (-b * (hi - lo)))) / b)


def case_fragility(case: InfraCase) -> tuple[float, float] | None:
    """The fragility (median g, beta) learned for ``case``: group ``all`` of the ``learned.yaml``
    beside its case.yaml (written by ``emergency learn`` and ``emergency learn-eval``), or None."""
    folder = case.path if case.path.is_dir() else case.path.parent
    f = folder / "learned.yaml"
    if not f.is_file():
        return None
    raw = read_yaml(f)
    rows = raw.get("fragility") if isinstance(raw, dict) else None
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("group") == "all":
            med, beta = row.get("median"), row.get("beta")
            ok = all(isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in (med, beta))
            return (float(med), float(beta)) if ok else None
    return None


class EventGenerator:
    """Draws the events of one case (module docstring); ``draw(seed, e)`` is event ``e``."""

    def __init__(self, case: InfraCase, model: EventModel, source: str = "draw", roads: Roads | None = None):
        if source not in SOURCES:
            raise InputError(
                f"source must be one of {', '.join(SOURCES)} (got {source!r})", location="--source"
            )
        if model.fragility_from not in ("model", "case"):
            raise InputError(
                f"fragility_from must be model or case (got {model.fragility_from!r})", location="--truth"
            )
        if model.fragility_from == "case":
            fit = case_fragility(case)
            if fit is None:
                raise InputError(
                    f"{case.name} has no learned fragility (learned.yaml, group all) to draw events with",
                    location="--truth",
                )
            model = replace(model, fragility_median_g=fit[0], fragility_beta=fit[1])
        self.case, self.model, self.source, self.template = case, model, source, roads
        for name, value, allowed in (
            ("--damage-model", model.damage_model, DAMAGE_MODELS),
            ("--aftershock-kind", model.aftershock_kind, AFTERSHOCK_KINDS),
        ):
            if value not in allowed:
                raise InputError(f"must be one of {', '.join(allowed)} (got {value!r})", location=name)
        fp = case.failure_probability
        has_table = fp is not None and len(fp) > 0
        self.damage_model = model.damage_model
        if self.damage_model == "auto":
            self.damage_model = "table" if has_table else "fragility"
        if source == "scenarios":
            self.damage_model = "scenarios"
        if self.damage_model == "table":
            if not has_table:
                raise InputError(f"{case.name} has no failure_probability table", location="--damage-model")
            mags = sorted(float(m) for m in fp["magnitude"].unique() if model.m_min <= m <= model.m_max)
            if not mags:
                have = ", ".join(f"{m:g}" for m in sorted(fp["magnitude"].unique()))
                raise InputError(
                    f"no magnitude of the failure table in [{model.m_min:g}, {model.m_max:g}] (have {have})",
                    location="--source",
                )
            w = np.array([10.0 ** (-model.b_value * m) for m in mags])
            self.magnitudes, self.cdf = mags, np.cumsum(w / w.sum())
        kind = model.aftershock_kind
        self.aftershock_kind = (
            ("quake" if self.damage_model == "fragility" else "found") if kind == "auto" else kind
        )
        if self.aftershock_kind == "quake" and self.damage_model != "fragility":
            raise InputError(
                "an aftershock quake needs the fragility damage model (ground motion); use found",
                location="--aftershock-kind",
            )
        self.sites = element_sites(case)
        self.table = self.sites.reset_index()[KEY].assign(
            layer=lambda d: d["layer"].astype(str), element=lambda d: d["element"].astype(str)
        )
        order = self.table.sort_values(KEY, kind="stable").index.to_numpy()
        self.table = self.table.loc[order].reset_index(drop=True)  # the sampler's row order
        self.xy = self.sites[["x", "y"]].to_numpy(float)[order]
        if self.damage_model == "fragility" and not np.isfinite(self.xy).all():
            k = int(np.flatnonzero(~np.isfinite(self.xy).all(axis=1))[0])
            el = self.table.iloc[k]
            raise InputError(
                f"drawn events need every element's coordinates: {el.kind} {el.element!r} of layer "
                f"{el.layer!r} has none (use --source scenarios)",
                location="--source",
            )
        if source == "scenarios":
            self.scenarios = list(case.damage_scenarios)
            if not self.scenarios:
                raise InputError(
                    f"{case.name} has no damage scenarios (use --source draw)", location="--source"
                )
        self.bridges = []
        if roads is not None:
            pos = {n.id: (n.x, n.y) for n in roads.nodes}
            self.bridges = [
                (lk.id, (pos[lk.from_][0] + pos[lk.to][0]) / 2, (pos[lk.from_][1] + pos[lk.to][1]) / 2)
                for lk in roads.links
                if lk.bridge
            ]
        lo, hi = np.nanmin(self.xy, axis=0), np.nanmax(self.xy, axis=0)
        self.box = (lo, hi)

    def _durations(self, rng: np.random.Generator) -> pd.Series:
        med = self.sites["repair_time"].to_numpy(float)
        z = rng.standard_normal(len(med))
        return pd.Series(
            np.where(med > 0, med * np.exp(self.model.dispersion * z), 0.0), index=self.sites.index
        )

    def _quake(self, seed: int, event: int, magnitude: float, x0: float, y0: float, rng):
        """The damage (the one sampler's draw) and the PGA (g) at every element."""
        r = _km(self.xy[:, 0], self.xy[:, 1], x0, y0)
        ln_pga = ln_ground_motion(self.model, magnitude, r, rng.standard_normal(len(r)))
        p = fragility_probability(self.model, ln_pga)
        pga = pd.Series(np.exp(ln_pga), index=pd.MultiIndex.from_frame(self.table))
        return draw_damage(self.table.assign(p=p), seed, magnitude, event), pga

    def draw(self, seed: int, event: int) -> EventDraw:
        m = self.model
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, event]).spawn(5)]
        where, motion, durs, bridges, after = streams
        pga = None
        if self.damage_model == "table":
            u = float(where.random())
            k = min(int(np.searchsorted(self.cdf, u, side="right")), len(self.magnitudes) - 1)
            mag, x0, y0 = self.magnitudes[k], np.nan, np.nan
            dmg = sample_damage(self.case, mag, seed, event)  # the one sampler, verbatim
            closures, scenario = None, ""
        elif self.damage_model == "fragility":
            mag = round(gutenberg_richter(m, float(where.random())), 2)
            lo, hi = self.box
            x0, y0 = (float(v) for v in lo + where.random(2) * (hi - lo))
            dmg, pga = self._quake(seed, event, mag, x0, y0, motion)
            closures = self._closures(mag, x0, y0, bridges)
            scenario = ""
        else:
            scenario = self.scenarios[event % len(self.scenarios)]
            mag, x0, y0 = np.nan, np.nan, np.nan
            dmg = self.case.damage_scenario(scenario)[KEY].astype(str).reset_index(drop=True)
            closures = None
        tau = self._durations(durs)
        shocks: tuple[Aftershock, ...] = ()
        if m.aftershock > 0 and after.random() < m.aftershock:
            shocks = (self._aftershock(seed, event, dmg, mag, x0, y0, after),)
        return EventDraw(
            event, self.source, self.damage_model, scenario, mag, x0, y0, dmg, tau, closures, shocks, pga
        )

    def _closures(self, mag: float, x0: float, y0: float, rng) -> tuple[tuple[str, float], ...]:
        if not self.bridges:
            return ()
        bx = np.array([b[1] for b in self.bridges])
        by = np.array([b[2] for b in self.bridges])
        p = failure_probability(self.model, mag, _km(bx, by, x0, y0), rng.standard_normal(len(bx)))
        u = rng.random(len(bx))
        days = self.model.bridge_repair_median * np.exp(self.model.dispersion * rng.standard_normal(len(bx)))
        return tuple(
            (b[0], float(max(1, math.ceil(d))))
            for b, hit, d in zip(self.bridges, u < p, days, strict=True)
            if hit
        )

    def _aftershock(self, seed, event, dmg, mag, x0, y0, rng) -> Aftershock:
        m = self.model
        lo, hi = m.aftershock_periods
        t = int(rng.integers(lo, hi + 1))
        tau = self._durations(rng)
        if self.aftershock_kind == "quake":
            ma = round(mag - m.aftershock_drop, 2)
            ang, rad = rng.random() * 2 * math.pi, m.aftershock_km * math.sqrt(rng.random())
            xa = x0 + rad * math.cos(ang) / (EARTH_KM * math.pi / 180 * math.cos(math.radians(y0)))
            ya = y0 + rad * math.sin(ang) / (EARTH_KM * math.pi / 180)
            new = self._quake(seed, event, ma, xa, ya, rng)[0]
            return Aftershock(float(t), new, tau, "aftershock")
        hit = set(map(tuple, dmg[KEY].to_numpy()))
        free = [k for k in map(tuple, self.table.to_numpy()) if k not in hit]
        n = min(len(free), max(1, round(m.found_share * len(dmg))))
        pick = sorted(rng.choice(len(free), size=n, replace=False).tolist())
        return Aftershock(float(t), pd.DataFrame([free[i] for i in pick], columns=KEY), tau, "found")


def draw_events(generator: EventGenerator, seed: int, events: range | list[int]) -> list[EventDraw]:
    """Events ``events`` of seed ``seed`` (each one from ``SeedSequence([seed, e])``)."""
    return [generator.draw(seed, e) for e in events]
