"""Terminal output of the commands: values appear exactly as typed, JSON is strict.

Every console prints with rich markup and emoji codes off, so a user's value such as
``a:b:c`` or ``[red]`` is shown as it was typed (rich would turn ``:b:`` into an emoji).
Style comes from :class:`rich.text.Text` spans (:func:`styled`), never from markup in strings.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.text import Text

from resiliopt._json import dumps


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
