"""File descriptor 1 and the strict ``--json`` output: the one home of the stdout guards.

highspy (1.16) prints a banner to file descriptor 1 the first time a ``Highs`` object is made in
a process, whatever ``output_flag`` is set to afterwards; C libraries and child processes write
to the descriptor directly. With ``--json`` stdout must hold the JSON alone, so:

* :func:`spend_highs_banner` makes the first ``Highs`` once with descriptor 1 on /dev/null
  (``resiliopt.solvers`` calls it on import);
* :func:`quiet_stdout` silences descriptor 1 for a block (a solver that prints);
* :func:`stdout_holds_json_only` sends descriptor 1 to stderr while Python's own prints still
  reach the real stdout (the CLI wraps every ``--json`` command in it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def spend_highs_banner() -> None:
    try:
        import highspy  # imported here: only resiliopt.solvers spends the banner
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


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence file descriptor 1 (HiGHS prints its banner there when an instance is made)."""
    fd = 1
    try:
        sys.stdout.flush()
        saved = os.dup(fd)
    except OSError:  # no descriptor 1 (a detached process): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@contextlib.contextmanager
def stdout_holds_json_only():
    """Send whatever is written to file descriptor 1 to stderr, except Python's own prints.

    With ``--json``, stdout must hold the JSON alone; C libraries (the HiGHS banner) and child
    processes (workers) write to the descriptor directly, so it is pointed at stderr while
    ``sys.stdout`` keeps writing to the real stdout.
    """
    try:
        sys.stdout.flush()
        attached = sys.stdout.fileno() == 1
    except (AttributeError, OSError, ValueError):  # e.g. captured by a test: not descriptor 1
        attached = False
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 at all: nothing to protect
        yield
        return
    real_stdout = sys.stdout
    os.dup2(2, 1)
    if attached:
        sys.stdout = open(saved, "w", encoding=real_stdout.encoding, closefd=False)
    try:
        yield
    finally:
        if attached:
            sys.stdout.flush()
            sys.stdout.close()
            sys.stdout = real_stdout
        os.dup2(saved, 1)
        os.close(saved)
