"""Errors raised by the library.

Library code raises; only the CLI turns an error into a message and an exit code.
:class:`InputError` names the file, the location inside it and what is wrong, so the
message alone is enough to fix the input.
"""

from __future__ import annotations

from pathlib import Path


class ResilioptError(Exception):
    """Base class of every error resiliopt raises on purpose."""


class InputError(ResilioptError):
    """Bad input: a file, a field or cell inside it, and the rule that is broken.

    Parameters
    ----------
    message:
        What is wrong, in one sentence.
    file:
        The file the input came from, if any.
    location:
        Where inside the file, e.g. ``links[12].capacity`` or ``matrix[row 'A', col 'B']``.
    """

    exit_code = 2

    def __init__(self, message: str, file: str | Path | None = None, location: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.location = location
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.file, self.location) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class SolveError(ResilioptError):
    """A model could not be solved to optimality (infeasible, unbounded, solver failure)."""

    exit_code = 1

    def __init__(self, message: str, status: str = "error"):
        self.status = status
        super().__init__(message)
