"""Provenance of a run: the versions of resiliopt, Python, HiGHS and the main libraries."""

from __future__ import annotations

import platform
from importlib import metadata

from resiliopt import __version__
from resiliopt._stdout import quiet_stdout

_PACKAGES = ("pyomo", "highspy", "numpy", "pandas", "networkx", "matplotlib", "pydantic", "jinja2")


def versions() -> dict[str, str]:
    """Versions of resiliopt, Python, HiGHS and the main libraries (for the record of a run)."""
    out = {"resiliopt": __version__, "python": platform.python_version()}
    try:
        import highspy  # imported here: a run that records no versions does not load it

        with quiet_stdout():  # the first Highs of a process prints a banner
            h = highspy.Highs()
        out["highs"] = f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    except Exception:  # noqa: BLE001 - a version string is informative only
        pass
    for p in _PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return out
