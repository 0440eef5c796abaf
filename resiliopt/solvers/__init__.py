"""Solvers: HiGHS (Pyomo, compiled highspy), SCIP, certificates and cross-checks.

highspy (1.16) prints a banner to file descriptor 1 the first time a ``Highs`` object is made
in a process, whatever ``output_flag`` is set to afterwards. That banner would corrupt the
``--json`` output of every command, so the first object is made here, once, with file
descriptor 1 pointed at /dev/null.
"""

from __future__ import annotations

import os
import sys


def _spend_highs_banner() -> None:
    try:
        import highspy
    except ImportError:  # pragma: no cover - highspy is a dependency
        return
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 (embedded interpreters)
        highspy.Highs()
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


_spend_highs_banner()
