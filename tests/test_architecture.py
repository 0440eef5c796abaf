"""The house rules of docs/architecture.md, checked on the source itself.

* the import-linter contracts of pyproject.toml hold: one-way layers, no import circles;
* no module of the package is over 600 lines;
* a function-level import names a module that is slow to import (the start-up time it buys)
  and says so in a comment on its line or the line above;
* every name that docs/api.md imports from resiliopt can be imported.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "resiliopt"
MAX_LINES = 600

#: modules whose import costs measurable start-up time (or that pull such modules in), the only
#: ones a function may import lazily. Measured with ``python -X importtime`` (docs/architecture.md).
SLOW = (
    "pyomo",
    "matplotlib",
    "networkx",
    "dask",
    "distributed",
    "scipy",
    "pyscipopt",
    "pyarrow",
    "jinja2",
    "wntr",
    "matpowercaseframes",
    "pyrosm",
    "osmium",
    "geopandas",
    "shapely",
    "pyproj",
    "highspy",
    "hypothesis",
    "pandas",
)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_hold(capsys):
    """``lint-imports`` (import-linter) with the contracts of pyproject.toml: no import runs up a
    layer and no package has an import circle between its modules."""
    from importlinter.cli import lint_imports

    code = lint_imports(config_filenames=(str(ROOT / "pyproject.toml"),), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert "One-way layers" in out and "No import circles" in out, out
    assert code == 0, out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_size(path: Path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (at most {MAX_LINES})"


def _function_imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    yield sub


def _top(node) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""] if node.level == 0 else ["." + (node.module or "")]
    return [a.name for a in node.names]


def test_function_level_imports_buy_start_up_time():
    """A function imports lazily only a slow module, and says why in a comment."""
    bad = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in _function_imports(path):
            mods = _top(node)
            # the CLI loads a command's library when the command runs: the library loads Pyomo,
            # HiGHS and networkx (1.5-1.9 s measured with python -X importtime), --help none
            cli = path.parent.name == "cli"
            slow = all(m.split(".")[0] in SLOW or (cli and m.startswith("resiliopt.")) for m in mods)
            here = lines[node.lineno - 1]
            above = lines[node.lineno - 2] if node.lineno >= 2 else ""
            commented = "#" in here or above.strip().startswith("#")
            # a group of lazy imports shares the comment of its first line
            k = node.lineno - 2
            while not commented and k >= 0 and re.match(r"\s*(from \S+ )?import ", lines[k]):
                commented = "#" in lines[k] or (k >= 1 and lines[k - 1].strip().startswith("#"))
                k -= 1
            if not (slow and commented):
                why = "not a slow module" if not slow else "no comment saying why"
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {here.strip()} ({why})")
    assert not bad, "function-level imports:\n" + "\n".join(bad)


def _documented_imports() -> list[tuple[str, list[str]]]:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        for node in ast.walk(ast.parse(block)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resiliopt"):
                out.append((node.module, [a.name for a in node.names]))
            elif isinstance(node, ast.Import):
                out += [(a.name, []) for a in node.names if a.name.startswith("resiliopt")]
    return out


def test_documented_api_imports():
    """Every ``from resiliopt... import name`` of docs/api.md works."""
    found = _documented_imports()
    assert len(found) >= 10  # the page documents the API of every pillar
    missing = []
    for module, names in found:
        mod = importlib.import_module(module)
        for n in names:
            if not hasattr(mod, n):
                try:  # a submodule: from resiliopt import community
                    importlib.import_module(f"{module}.{n}")
                except ImportError:
                    missing.append(f"{module}.{n}")
    assert not missing, f"docs/api.md names what the package lacks: {missing}"
