"""The building blocks of a report page (docs/report.md): sections of text, key-value tables,
tidy tables, embedded images, links and inline SVG, and the readers of a run folder's files.

:mod:`resiliopt.reports.html` (the logistics pages, the kind of run, the page itself) and
:mod:`resiliopt.reports.ops` (the operations pages of the infrastructure and emergency runs)
build their pages from these; ``templates/report.html.j2`` renders them.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
from pathlib import Path

import pandas as pd

from resiliopt.errors import InputError

MAX_ROWS = 60  # longer tables are cut, with a note and the CSV named


def fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.10g}"
    return str(x)


def table_html(df: pd.DataFrame, max_rows: int = MAX_ROWS) -> str:
    """A tidy table as HTML (escaped), at most ``max_rows`` rows."""
    if df is None or df.empty:
        return '<p class="none">(none)</p>'
    html = df.head(max_rows).to_html(
        index=False, border=0, classes="tidy", float_format=lambda v: f"{v:.6g}", na_rep="-", escape=True
    )
    html = f'<div class="scroll">{html}</div>'
    if len(df) > max_rows:
        html += f'<p class="note">first {max_rows} of {len(df)} rows</p>'
    return html


def kv_html(d: dict) -> str:
    rows = pd.DataFrame({"item": list(d), "value": [fmt(v) for v in d.values()]})
    return table_html(rows, max_rows=10_000)


def image_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", path) from None


def read_csv(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path) if path.exists() else None


class Section:
    """One section of the page: text, key-value tables, tables, images, links, inline SVG."""

    def __init__(self, sid: str, title: str, intro: str = ""):
        self.id, self.title, self.intro = sid, title, intro
        self.blocks: list[dict] = []

    def text(self, s: str) -> Section:
        self.blocks.append({"kind": "text", "text": s})
        return self

    def kv(self, d: dict, caption: str = "") -> Section:
        self.blocks.append({"kind": "html", "caption": caption, "html": kv_html(d), "source": ""})
        return self

    def table(self, df: pd.DataFrame | None, caption: str = "", source: str = "") -> Section:
        if df is not None:
            self.blocks.append({"kind": "html", "caption": caption, "html": table_html(df), "source": source})
        return self

    def image(self, path: Path, caption: str) -> Section:
        if path.exists():
            self.blocks.append(
                {"kind": "image", "caption": caption, "uri": image_uri(path), "file": path.name}
            )
        return self

    def links(self, items: list[tuple[str, str]]) -> Section:
        self.blocks.append({"kind": "links", "links": items})
        return self

    def raw(self, html: str, caption: str = "") -> Section:
        """Markup made by resiliopt (inline SVG, controls) whose every value is escaped."""
        self.blocks.append({"kind": "html", "caption": caption, "html": html, "source": ""})
        return self


SHOWN_AS: list[Path] = []  # the folder's final name while it is written in a temporary one


def shown_name(run_dir: Path) -> str:
    return (SHOWN_AS[-1] if SHOWN_AS else run_dir).name


def params_section(params: dict, vers: dict, run_dir: Path) -> Section:
    s = Section("parameters", "Parameters and versions")
    s.kv(params or {"(not recorded)": "-"}, "parameters of the run")
    s.kv(vers, "versions")
    where = SHOWN_AS[-1] if SHOWN_AS else run_dir
    s.kv({"run directory": str(Path(where).resolve()), "report written": now()}, "where and when")
    return s


def now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
