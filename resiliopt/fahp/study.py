"""The work of ``resiliopt fahp``, ``assess`` and ``fahp-sensitivity`` as one function each.

Files are named by path or by a bundled name (``cups/sz.yaml``, ``sz``, ``indicators``:
:func:`resiliopt.case.resolve_file`). With ``out``, each study writes its CSV tables, charts
and ``summary.json`` there, all together or not at all (:func:`resiliopt._atomic.atomic_directory`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from resiliopt._atomic import atomic_directory, check_output_dir
from resiliopt._json import dumps, records
from resiliopt._yaml import load
from resiliopt.case import resolve_file
from resiliopt.fahp.assess import Assessment, assess, compare, load_case
from resiliopt.fahp.experts import FahpResult, analyse
from resiliopt.fahp.paper import table4_reproduction, table5_check
from resiliopt.fahp.plots import level_bars, mc_histogram, tornado
from resiliopt.fahp.schemas import ExpertMatrix, MatrixFile
from resiliopt.fahp.sensitivity import MonteCarlo, monte_carlo, one_at_a_time, reversal_probability
from resiliopt.fahp.tree import IndicatorTree, load_tree


# --------------------------------------------------------------------------- one matrix file
@dataclass
class MatrixAnalysis:
    """A matrix file (``kind: matrix``) and the analysis of its matrix or experts."""

    path: Path
    file: MatrixFile
    result: FahpResult

    @property
    def title(self) -> str:
        return self.file.title or self.path.name


def analyse_matrix(m: MatrixFile, path: str | Path) -> FahpResult:
    """Weights, consistent matrix and diagnostics of a validated matrix file."""
    mats = [m.matrix] if m.matrix is not None else m.experts
    names = [
        (x.name if isinstance(x, ExpertMatrix) and x.name else f"expert {e + 1}") for e, x in enumerate(mats)
    ]
    raw = [x.matrix if isinstance(x, ExpertMatrix) else x for x in mats]
    return analyse(
        m.criteria,
        raw,
        names=names,
        a=m.a,
        method=m.combine,
        scale=m.scale,
        tolerance=m.tolerance,
        ci_threshold=m.ci_threshold,
        triad_threshold=m.triad_threshold,
        file=str(path),
    )


def analyse_file(path: str | Path) -> MatrixAnalysis:
    """Read, validate and analyse a matrix file (a path or a bundled name)."""
    p = resolve_file(path)
    m = load(MatrixFile, p)
    return MatrixAnalysis(p, m, analyse_matrix(m, p))


# --------------------------------------------------------------------------- assess
def diagnostics_table(a: Assessment) -> pd.DataFrame:
    """Consistency of every FAHP group: the combined matrix and each expert's, one row each."""
    rows = []
    for pid, g in a.model.groups.items():
        if g.source != "fahp":
            continue
        d = g.fahp.diagnostics
        rows.append(
            {
                "parent": pid,
                "expert": "combined",
                "n": len(g.children),
                "compatibility_index": d.compatibility_index,
                "triad_index_mean": d.triad_index_mean,
                "triad_index_max": d.triad_index_max,
                "deviation_from_combined": 0.0,
                "max_weight_spread": float(g.fahp.weight_spread().max()),
            }
        )
        for e in g.fahp.experts:
            rows.append(
                {
                    "parent": pid,
                    "expert": e.name,
                    "n": len(g.children),
                    "compatibility_index": e.diagnostics.compatibility_index,
                    "triad_index_mean": e.diagnostics.triad_index_mean,
                    "triad_index_max": e.diagnostics.triad_index_max,
                    "deviation_from_combined": e.deviation,
                    "max_weight_spread": np.nan,
                }
            )
    return pd.DataFrame(rows)


@dataclass
class SiteStudy:
    """``assess``: a site's indicator values (and a second site's, compared), with the checks
    against the paper's Tables 4 and 5 and the consistency of every FAHP group."""

    tree: IndicatorTree
    first: Assessment
    second: Assessment | None
    table4: pd.DataFrame
    differences: pd.DataFrame
    table5: pd.DataFrame
    diagnostics: pd.DataFrame
    summary: dict

    def to_dict(self) -> dict:
        """The summary with every table (the ``--json`` document)."""
        a, b = self.first, self.second
        doc = dict(self.summary)
        doc["indicators"] = records(a.table)
        doc["groups"] = {pid: g.fahp.to_dict() for pid, g in a.model.groups.items() if g.source == "fahp"}
        doc["table4_reproduction"] = records(self.table4)
        if b is not None:
            doc["differences"] = records(self.differences)
            doc["table5_check"] = records(self.table5)
        return doc


def assess_sites(
    tree_file: str | Path,
    case_file: str | Path,
    other: str | Path | None = None,
    threshold: float = 3.0,
    out: str | Path | None = None,
    force: bool = False,
) -> SiteStudy:
    """Assess a site (and ``other``, compared: indicators differing by ``threshold`` or more).

    ``out``: write indicators.csv, diagnostics.csv, table4_reproduction.csv (and for two sites
    indicators_other.csv, compare.csv, table5_check.csv), the level charts and summary.json.
    """
    if out is not None:
        check_output_dir(out, "assess", force)
    tree = load_tree(resolve_file(tree_file))
    cpath = resolve_file(case_file)
    a = assess(tree, load_case(cpath), cpath)
    b = None
    if other:
        opath = resolve_file(other)
        b = assess(tree, load_case(opath), opath)
    t4 = table4_reproduction(a)
    cmp = compare(a, b, threshold) if b is not None else pd.DataFrame()
    t5 = table5_check(a, b) if b is not None else pd.DataFrame()
    groups = diagnostics_table(a)
    case = a.model.case
    summary = {
        "site": case.site,
        "label": case.label,
        "provenance": case.provenance,
        "scope": a.model.scope,
        "system_value": a.system_value,
        "scope_value": a.scope_value,
        "published_system_value": case.published.system_value if case.published else None,
        "warnings": a.warnings,
    }
    if b is not None:
        summary["compare"] = {
            "site": b.model.case.site,
            "label": b.model.case.label,
            "system_value": b.system_value,
            "scope_value": b.scope_value,
            "threshold": threshold,
        }
    if out is not None:
        with atomic_directory(out, "assess", force) as tmp:
            a.table.to_csv(tmp / "indicators.csv", index=False)
            if len(groups):
                groups.to_csv(tmp / "diagnostics.csv", index=False)
            if len(t4):
                t4.to_csv(tmp / "table4_reproduction.csv", index=False)
            tables = {case.label: a.table}
            if b is not None:
                b.table.to_csv(tmp / "indicators_other.csv", index=False)
                cmp.to_csv(tmp / "compare.csv", index=False)
                if len(t5):
                    t5.to_csv(tmp / "table5_check.csv", index=False)
                tables[b.model.case.label] = b.table
            level_bars(tables, tmp)
            (tmp / "summary.json").write_text(dumps(summary, indent=2), encoding="utf-8")
    return SiteStudy(tree, a, b, t4, cmp, t5, groups, summary)


# --------------------------------------------------------------------------- sensitivity
@dataclass
class SensitivityStudy:
    """``fahp-sensitivity``: the Monte Carlo of each site and the one-at-a-time weight study."""

    first: Assessment
    monte_carlo: dict[str, MonteCarlo]  # by site label
    one_at_a_time: pd.DataFrame
    summary: dict  # monte_carlo (one summary per site), reversal_probability, one_at_a_time, weight_delta


def sensitivity_study(
    tree_file: str | Path,
    case_file: str | Path,
    other: str | Path | None = None,
    samples: int = 10_000,
    delta: float = 0.1,
    weight_delta: float = 0.1,
    seed: int = 0,
    top: int = 15,
    out: str | Path | None = None,
    force: bool = False,
) -> SensitivityStudy:
    """Monte Carlo on every judgment (+-``delta``; the second site with ``seed + 1``) and the
    one-at-a-time weight sensitivity (+-``weight_delta``) of the first site.

    ``out``: write the samples, the Monte Carlo summary, the one-at-a-time table, the histogram
    and the tornado chart (``top`` rows) and summary.json.
    """
    if out is not None:
        check_output_dir(out, "fahp-sensitivity", force)
    tree = load_tree(resolve_file(tree_file))
    cpath = resolve_file(case_file)
    a = assess(tree, load_case(cpath), cpath)
    ma = monte_carlo(a, samples, delta, seed)
    mcs = {a.model.case.label: ma}
    doc: dict = {"monte_carlo": [ma.summary()]}
    if other:
        opath = resolve_file(other)
        b = assess(tree, load_case(opath), opath)
        mb = monte_carlo(b, samples, delta, seed + 1)
        mcs[b.model.case.label] = mb
        doc["monte_carlo"].append(mb.summary())
        doc["reversal_probability"] = reversal_probability(ma, mb)
    oat = one_at_a_time(a, weight_delta)
    doc["one_at_a_time"] = records(oat)
    doc["weight_delta"] = weight_delta
    if out is not None:
        with atomic_directory(out, "fahp-sensitivity", force) as tmp:
            pd.DataFrame({k: m.samples for k, m in mcs.items()}).to_csv(
                tmp / "monte_carlo_samples.csv", index=False
            )
            pd.DataFrame(doc["monte_carlo"]).to_csv(tmp / "monte_carlo_summary.csv", index=False)
            oat.to_csv(tmp / "one_at_a_time.csv", index=False)
            mc_histogram({k: m.samples for k, m in mcs.items()}, tmp)
            if len(oat):
                tornado(oat, a.scope_value, tmp, top)
            (tmp / "summary.json").write_text(dumps(doc, indent=2), encoding="utf-8")
    return SensitivityStudy(a, mcs, oat, doc)
