"""The ``resiliopt`` console command: a thin layer over the Python API.

Each feature registers its commands in its own module of this package (``logistics``,
``fahp``, ...), on the shared :data:`app`. Library errors are turned into one message and
an exit code here, and nowhere else: :class:`~resiliopt.errors.InputError` exits with 2,
a failed solve with 1. A usage error (an unknown option, a value that is not allowed) exits
with 2 after one line on stderr. No traceback is printed for any of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys

import click
import typer

try:  # typer >= 0.2x vendors its own copy of click (``typer._click``)
    from typer import _click as _vendored_click
except ImportError:  # older typer: plain click
    _vendored_click = None

from resiliopt._stdout import stdout_holds_json_only
from resiliopt.cli._output import plain_console, styled
from resiliopt.errors import InputError, ResilioptError

app = typer.Typer(
    name="resiliopt",
    help="Optimization for the resilience of cities and critical infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = plain_console(stderr=True, soft_wrap=True)

# Every command module registers its commands on ``app`` when imported (each imports ``app``
# from here, so they come after it). The order is the order of ``resiliopt --help``.
# isort: off
from resiliopt.cli import logistics  # noqa: E402, F401  slice, audit, validate, schema, demo
from resiliopt.cli import fahp  # noqa: E402, F401  fahp, assess, fahp-sensitivity
from resiliopt.cli import simulate  # noqa: E402, F401  simulate, compare
from resiliopt.cli import retrofit  # noqa: E402, F401  retrofit
from resiliopt.cli import infra  # noqa: E402, F401  infra ...
from resiliopt.cli import infra_restore  # noqa: E402, F401  infra restore, infra simulate
from resiliopt.cli import infra_import  # noqa: E402, F401  infra import ...
from resiliopt.cli import report  # noqa: E402, F401  report
from resiliopt.cli import emergency  # noqa: E402, F401  emergency ...
from resiliopt.cli import emergency_holdout  # noqa: E402, F401  emergency learn-eval
from resiliopt.cli import importers  # noqa: E402, F401  import osm (docs/import.md)

# isort: on


_CLICKS = [click] if _vendored_click is None else [_vendored_click, click]  # the click typer runs on
_EXIT = tuple({getattr(m.exceptions, "Exit", typer.Exit) for m in _CLICKS} | {typer.Exit})
_ABORT = tuple({getattr(m.exceptions, "Abort", typer.Abort) for m in _CLICKS} | {typer.Abort})
_CLICK_ERROR = tuple({m.exceptions.ClickException for m in _CLICKS})
_USAGE_ERROR = tuple({m.exceptions.UsageError for m in _CLICKS})


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _typed_value(exc: Exception, args: list[str]) -> str | None:
    """What the user typed for the option a BadParameter is about (None if not found)."""
    opts = getattr(getattr(exc, "param", None), "opts", None) or []
    for i, a in enumerate(args):
        for o in opts:
            if a == o and i + 1 < len(args):
                return args[i + 1]
            if a.startswith(o + "="):
                return a[len(o) + 1 :]
    return None


def _show_click_error(exc: Exception, args: list[str]) -> int:
    """One line on stderr for a usage error (the usage text itself only on request)."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # `resiliopt` alone: the help, as click does
        err_console.print(exc.format_message(), end="")
        return 2
    msg = _one_line(exc.format_message())
    typed = _typed_value(exc, args)
    if typed is not None and repr(typed) not in msg:  # say what was typed (typer's own messages)
        msg += f" (got {typed!r})"
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, _USAGE_ERROR) and ctx is not None:
        msg += f" (see '{ctx.command_path} --help')"
    err_console.print(styled("error:", "bold red", msg))
    return int(getattr(exc, "exit_code", 2) or 2) if isinstance(exc, _USAGE_ERROR) else 2


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for bad input)."""
    command = typer.main.get_command(app)
    args = list(sys.argv[1:] if argv is None else argv)
    guard = stdout_holds_json_only() if "--json" in args else contextlib.nullcontext()
    try:
        with guard:
            result = command.main(args=args, prog_name="resiliopt", standalone_mode=False)
    except _EXIT as exc:
        return int(exc.exit_code)
    except _ABORT:
        err_console.print("Aborted.")
        return 130
    except _CLICK_ERROR as exc:
        return _show_click_error(exc, args)
    except InputError as exc:
        err_console.print(styled("error:", "bold red", str(exc)))
        return InputError.exit_code
    except ResilioptError as exc:
        err_console.print(styled("error:", "bold red", str(exc)))
        return getattr(exc, "exit_code", 1)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # output piped into `head`: stop quietly
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1
        if exc.filename is None:
            raise
        # a path given on the command line that cannot be read or written
        err_console.print(styled("error:", "bold red", _one_line(f"{exc.filename}: {exc.strerror}")))
        return 2
    return int(result) if isinstance(result, int) else 0


def run() -> None:  # console-script entry point
    sys.exit(main())
