"""Write an updated case after learning: the case folder copied, repair times replaced."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from resiliopt._yaml import read_yaml
from resiliopt.case.infra import InfraCase


def write_updated_case(case: InfraCase, repair_time: pd.DataFrame, learned: dict, out: Path) -> Path:
    """Copy the case folder into ``out`` and set ``repair_time`` of the elements in
    ``repair_time`` (kind, layer, element, repair_time); write ``learned.yaml`` beside it.

    CSV tables are rewritten with every other column as it was; inline tables in case.yaml are
    changed in place. Returns the new case.yaml.
    """
    src = case.path if case.path.is_dir() else case.path.parent
    case_yaml = case.path if case.path.is_file() else case.path / "case.yaml"
    shutil.copytree(src, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("events", "__pycache__"))
    raw = read_yaml(case_yaml)
    new = {(r.kind, str(r.layer), str(r.element)): float(r.repair_time) for r in repair_time.itertuples()}
    changed_yaml = False
    for table, kind, idcol in (("nodes", "node", "node"), ("links", "link", "link")):
        ref = raw.get(table)
        if isinstance(ref, str):
            f = out / ref
            df = pd.read_csv(f, dtype=str, keep_default_na=False)
            vals = [new.get((kind, la, el)) for la, el in zip(df["layer"], df[idcol], strict=True)]
            if any(v is not None for v in vals):
                old = df["repair_time"] if "repair_time" in df else pd.Series([""] * len(df))
                df["repair_time"] = [
                    f"{v:.6g}" if v is not None else o for v, o in zip(vals, old, strict=True)
                ]
                df.to_csv(f, index=False)
        elif isinstance(ref, list):
            for row in ref:
                v = new.get((kind, str(row.get("layer")), str(row.get(idcol))))
                if v is not None:
                    row["repair_time"] = round(v, 6)
                    changed_yaml = True
    if changed_yaml:
        (out / case_yaml.name).write_text(yaml.safe_dump(raw, sort_keys=False))
    (out / "learned.yaml").write_text(yaml.safe_dump(learned, sort_keys=False))
    return out / case_yaml.name
