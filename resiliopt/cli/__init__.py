"""The ``resiliopt`` console command: a thin layer over the Python API.

Each feature registers its commands in its own module of this package (``logistics``,
``fahp``, ...), on the shared :data:`app`. Library errors are turned into one message and
an exit code here, and nowhere else: :class:`~resiliopt.errors.InputError` exits with 2,
a failed solve with 1. No traceback is printed for either.
"""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console
from rich.markup import escape

from resiliopt.errors import InputError, ResilioptError

app = typer.Typer(
    name="resiliopt",
    help="Optimization for the resilience of cities and critical infrastructure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# Command modules register themselves on ``app`` when imported.
from resiliopt.cli import logistics  # noqa: E402, F401

for _optional in ("fahp", "simulate", "retrofit"):
    try:
        __import__(f"resiliopt.cli.{_optional}")
    except ModuleNotFoundError as exc:  # a feature not written yet
        if exc.name != f"resiliopt.cli.{_optional}":
            raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (never raises for bad input)."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="resiliopt", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        return 130
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return 2
    except InputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        return InputError.exit_code
    except ResilioptError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        return getattr(exc, "exit_code", 1)
    return int(result) if isinstance(result, int) else 0


def run() -> None:  # console-script entry point
    sys.exit(main())
