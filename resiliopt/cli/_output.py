"""Terminal output of the commands: values appear exactly as typed, JSON is strict.

Every console prints with rich markup and emoji codes off, so a user's value such as
``a:b:c`` or ``[red]`` is shown as it was typed (rich would turn ``:b:`` into an emoji).
Style comes from :class:`rich.text.Text` spans (:func:`styled`), never from markup in strings.

The helpers every command shares live here once: consoles, strict JSON on stdout
(:func:`print_json`) and in files (:func:`write_json`), a DataFrame's rows as JSON
(:func:`records`), a DataFrame as a rich table (:func:`df_table`, :func:`frame_table`), tables
written into an output folder (:func:`write_tables`) and progress bars (:func:`progress`,
:func:`first_report_bar`).
"""

from __future__ import annotations

import math
import numbers
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from resiliopt._json import dumps, records
from resiliopt._tables import write_tables

if TYPE_CHECKING:  # (pandas is not imported by the CLI's start: a command's library brings it)
    import pandas as pd

__all__ = [
    "df_table",
    "first_report_bar",
    "fmt",
    "frame_table",
    "plain_console",
    "print_json",
    "progress",
    "records",
    "styled",
    "write_json",
    "write_tables",
]


def plain_console(**kwargs: Any) -> Console:
    """A rich console that never interprets markup or emoji codes in what it prints."""
    kwargs.setdefault("highlight", False)
    return Console(markup=False, emoji=False, **kwargs)


def styled(label: str, style: str, rest: str) -> Text:
    """``label`` in ``style`` followed by ``rest`` verbatim (no markup parsed)."""
    return Text.assemble((label, style), " ", rest)


def print_json(obj: Any, indent: int | None = None) -> None:
    """Print ``obj`` as strict JSON on stdout (NaN and infinities become null)."""
    sys.stdout.write(dumps(obj, indent=indent) + "\n")
    sys.stdout.flush()


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON (UTF-8) to ``path`` (inside an output folder being written)."""
    path = Path(path)
    path.write_text(dumps(obj, indent=indent), encoding="utf-8")
    return path


def fmt(x: Any, digits: int = 4) -> str:
    """A table cell: a float (numpy's too) with ``digits`` decimals; blank for None, pandas' NA
    or a non-finite float; anything else as ``str``."""
    if x is None or type(x).__name__ == "NAType":
        return ""
    if isinstance(x, numbers.Real) and not isinstance(x, numbers.Integral):
        return f"{x:.{digits}f}" if math.isfinite(x) else ""
    return str(x)


def df_table(df: pd.DataFrame, title: str, digits: int = 4) -> Table:
    """A rich table of ``df``: numeric columns right-aligned, cells by :func:`fmt`."""
    t = Table(title=title, title_justify="left")
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "fi" else "left")
    for _, r in df.iterrows():
        t.add_row(*[fmt(v, digits) for v in r])
    return t


def frame_table(
    df: pd.DataFrame,
    title: str,
    cols: list[str] | None = None,
    most: int | None = None,
    *,
    formats: dict[str, str] | None = None,
    align: bool = True,
) -> Table:
    """A rich table of ``df`` (its columns ``cols``, at most ``most`` rows): a float cell by its
    column's format spec in ``formats`` (default ``.4g``), any other cell by ``str``; with
    ``align``, numeric columns right-aligned."""
    formats = formats or {}
    sel = df[cols] if cols else df
    cols = list(sel.columns)
    t = Table(title=title)
    for c, dtype in zip(cols, sel.dtypes, strict=True):
        t.add_column(str(c), justify="right" if align and dtype.kind in "if" else "left")
    for row in (sel if most is None else sel.head(most)).itertuples(index=False):
        t.add_row(
            *[
                format(v, formats.get(c, ".4g")) if isinstance(v, float) else str(v)
                for c, v in zip(cols, row, strict=True)
            ]
        )
    return t


@contextmanager
def first_report_bar(
    label: str, enabled: bool, transient: bool, *columns: Any, console: Console
) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on ``console`` that appears at the first report (after every input check),
    so a refused input shows its one error line alone; yields ``update(done, total)``."""
    prog = Progress(TextColumn(label), *columns, console=console, transient=transient, disable=not enabled)
    task = None

    def update(done: int, total: int) -> None:
        nonlocal task
        if task is None:
            prog.start()
            task = prog.add_task(label, total=total)
        prog.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        prog.stop()


@contextmanager
def progress(
    enabled: bool, console: Console | None = None
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar of scenarios (rate and time left) on ``console`` (stderr by default).

    Yields ``update(name, done, total)`` (one bar per ``name``), or None when not ``enabled``.
    The bar appears at the first update, so what is printed before it stays above it.
    """
    if not enabled:
        yield None
        return
    cols = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} scen/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    p = Progress(*cols, console=console or plain_console(stderr=True), transient=False)
    tasks: dict[str, int] = {}
    start: dict[str, tuple[float, int]] = {}

    def update(name: str, done: int, total: int) -> None:
        if not tasks:
            p.start()
        if name not in tasks:
            tasks[name] = p.add_task(name, total=total, rate="-")
            start[name] = (time.perf_counter(), done)
        t0, d0 = start[name]
        dt = time.perf_counter() - t0
        rate = f"{(done - d0) / dt:.1f}" if dt > 0 and done > d0 else "-"
        p.update(tasks[name], completed=done, rate=rate)

    try:
        yield update
    finally:
        p.stop()
