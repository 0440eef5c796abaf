"""The command line never shows a traceback: every usage error is exit 2 and one line on stderr.

The commands and their options are read from the typer app, so a new command is covered
without editing this file: its required arguments get the placeholders of ``ARGS`` (or ``x``),
and every int / float option of it gets the bad values below.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.cli import app, main

# Valid positional arguments of the bundled commands (a new command gets "x" for each one).
ARGS = {  # keyed by command name, or the full path of a sub-command ("infra cascade")
    "slice": ["beijing"],
    "audit": ["beijing"],
    "validate": ["beijing"],
    "demo": ["beijing"],
    "simulate": ["beijing"],
    "compare": ["beijing"],
    "retrofit": ["beijing"],
    "fahp": ["matrix_experts"],
    "assess": ["indicators", "sz"],
    "fahp-sensitivity": ["indicators", "sz"],
    "infra validate": ["shelby-indp"],
    "infra served": ["shelby-indp"],
    "infra cascade": ["shelby-indp"],
    "infra criticality": ["shelby-indp"],
    "infra restore": ["shelby-indp"],
    "infra simulate": ["shelby-indp"],
    **{
        f"emergency {c}": ["shelby-extended", "data/infra/shelby-extended/events/synthetic-m7"]
        for c in ("monitor", "diagnose", "respond", "replay", "learn")
    },
    "emergency learn-eval": ["shelby-extended"],
}
BAD_INT = ["abc", "1.5", "1e12", "-1", "1" + "0" * 30, ""]
BAD_FLOAT = ["abc", "nan", "inf", "-inf", "1e400", ""]
MISTYPED = ["--scenarois", "--nope=1", "-Z"]


def _plain(annotation):
    """``int`` from ``int``, ``int | None``, ``Optional[int]``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def commands():
    """(path, click command, {parameter name: python type}) of every command of the app."""
    found = []

    def walk(group, prefix):
        for name, cmd in sorted(group.commands.items()):
            if hasattr(cmd, "commands"):
                walk(cmd, prefix + [name])
                continue
            hints = typing.get_type_hints(inspect.unwrap(cmd.callback))
            found.append((prefix + [name], cmd, {k: _plain(v) for k, v in hints.items()}))

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = commands()
IDS = [" ".join(p) for p, _, _ in COMMANDS]


def known_args(path) -> list[str]:
    """``ARGS`` of a command: keyed by its full path ("infra validate") or, for top-level
    commands, by its name."""
    return ARGS.get(" ".join(path), ARGS.get(path[-1], []) if len(path) == 1 else [])


def base_args(path, cmd, hints, tmp_path) -> list[str]:
    """Arguments that pass the parser: known positionals, placeholders for required options."""
    args = list(path) + known_args(path)
    n_args = sum(1 for p in cmd.params if p.param_type_name == "argument" and p.required)
    args += ["x"] * max(0, n_args - len(known_args(path)))
    for p in cmd.params:
        if p.param_type_name == "option" and p.required:
            kind = hints.get(p.name)
            value = {int: "1", float: "0.5"}.get(kind, str(tmp_path / f"new-{p.name}"))
            args += [p.opts[0], value]
    return args


def out_dir_commands():
    """Commands whose ``--out`` names a folder (an ``--out`` with metavar FILE names a file)."""
    return [
        (p, c, h) for p, c, h in COMMANDS if any("--out" in q.opts and q.metavar != "FILE" for q in c.params)
    ]


def value_options(cmd, hints, kind):
    return [p for p in cmd.params if p.param_type_name == "option" and hints.get(p.name) is kind]


def assert_usage_error(code, out, err, *expected, hint=""):
    assert "Traceback" not in out + err, hint
    assert code == 2, (code, out, err, hint)
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1, (err, hint)
    assert lines[0].startswith("error: "), hint
    for e in expected:
        assert e in lines[0], (e, lines[0], hint)


NUMBER_HINT = "declare number options with resiliopt.cli._options types, e.g. SEED.option(0, '--seed')"
OUT_HINT = (
    "call resiliopt._atomic.check_output_dir(out, COMMAND, force) before reading any input "
    "(and write through atomic_directory / output_directory)"
)


def test_every_command_is_found():
    names = {p[-1] for p, _, _ in COMMANDS} | {" ".join(p) for p, _, _ in COMMANDS}
    assert set(ARGS) <= names  # the table names no command that is gone
    assert {"slice", "audit", "simulate", "retrofit", "fahp-sensitivity"} <= names


@pytest.mark.parametrize("path,cmd,hints", COMMANDS, ids=IDS)
def test_bad_numbers_are_refused(run_cli, tmp_path, path, cmd, hints):
    """Every int and float option refuses nonsense, quoting it, before anything runs."""
    base = base_args(path, cmd, hints, tmp_path)
    for kind, bad in ((int, BAD_INT), (float, BAD_FLOAT)):
        for p in value_options(cmd, hints, kind):
            for value in bad:
                code, out, err = run_cli(*base, p.opts[0], value)
                hint = f"{' '.join(path)} {p.opts[0]} {value!r}: {NUMBER_HINT}"
                assert_usage_error(code, out, err, p.opts[0], repr(value), hint=hint)
    assert list(tmp_path.iterdir()) == []  # nothing was written


@pytest.mark.parametrize("path,cmd,hints", COMMANDS, ids=IDS)
def test_mistyped_options_and_missing_values(run_cli, tmp_path, path, cmd, hints):
    base = base_args(path, cmd, hints, tmp_path)
    for opt in MISTYPED:
        code, out, err = run_cli(*base, opt)
        assert_usage_error(code, out, err, opt.split("=")[0])
    for p in cmd.params:
        if p.param_type_name == "option" and not p.is_flag and not p.hidden:
            code, out, err = run_cli(*base, p.opts[0])  # the value is missing
            assert_usage_error(code, out, err, p.opts[0])
    code, out, err = run_cli(*base, "extra-1", "extra-2", "extra-3")
    assert_usage_error(code, out, err, "extra-")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args,shown",
    [
        (["compare", "beijing", "--variants", ",", "--out", "{tmp}/c"], "','"),
        (["compare", "beijing", "--variants", "none,none", "--out", "{tmp}/c"], "'none'"),
        (["retrofit", "beijing", "--sweep", "0:1e308:1e-300"], "0:1e308:1e-300"),
        (["retrofit", "beijing", "--sweep", "0:1e400:1"], "0:1e400:1"),
        (["retrofit", "beijing", "--sweep", "a:b:c"], "'a:b:c'"),  # no emoji for :b:
        (["retrofit", "beijing", "--sweep", "5:1:1"], "'5:1:1'"),
        (["retrofit", "beijing", "--step", "nan"], "'nan'"),
        (["retrofit", "beijing", "--step", "0"], "'0'"),
        (["retrofit", "beijing", "--budget", "-1"], "'-1'"),
        (["retrofit", "beijing", "--budget", "10", "--method", "bogus"], "bogus"),
        (["simulate", "beijing", "--days", "1e12", "--out", "{tmp}/s"], "'1e12'"),
        (["simulate", "beijing", "--days", "1000000000000", "--out", "{tmp}/s"], "'1000000000000'"),
        (["simulate", "beijing", "--seed", "-5", "--out", "{tmp}/s"], "'-5'"),
        (["slice", "beijing", "--day", "-1"], "'-1'"),
        (["fahp-sensitivity", "indicators", "sz", "--samples", "0"], "'0'"),
        (["fahp-sensitivity", "indicators", "sz", "--delta", "nan"], "'nan'"),
        (["demo", "--scenarios", "0", "--out", "{tmp}/d"], "'0'"),
        (["slice", "[bold red]x:b:y[/]"], "[bold red]x:b:y[/]"),  # markup and emoji shown as typed
    ],
)
def test_issue_cases(run_cli, tmp_path, args, shown):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = run_cli(*args)
    assert_usage_error(code, out, err, shown)
    assert list(tmp_path.iterdir()) == []  # e.g. demo --scenarios 0 writes no audit first


def test_out_is_an_existing_file_for_every_command(run_cli, tmp_path):
    f = tmp_path / "a file"
    f.write_text("mine")
    with_out = out_dir_commands()
    assert len(with_out) >= 7
    for path, cmd, hints in with_out:
        base = base_args(path, cmd, hints, tmp_path / "unused")
        if "--out" in base:  # a required --out got a placeholder: replace it
            i = base.index("--out")
            del base[i : i + 2]
        code, out, err = run_cli(*base, "--out", f)
        assert_usage_error(code, out, err, "--out", repr(str(f)), hint=f"{' '.join(path)}: {OUT_HINT}")
        assert f.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file"]


def test_no_arguments_shows_help(run_cli):
    code, out, err = run_cli()
    assert code == 2 and "Traceback" not in out + err
    assert "Usage" in out + err and "slice" in out + err


def test_help_still_works(run_cli):
    for path, _, _ in COMMANDS:
        code, out, err = run_cli(*path, "--help")
        assert code == 0 and "Usage" in out, (path, err)


def _console_script() -> list[str]:
    script = Path(sys.executable).parent / "resiliopt"
    return [str(script)] if script.exists() else [sys.executable, "-m", "resiliopt.cli"]


@pytest.mark.parametrize(
    "args,shown",
    [
        (["slice", "beijing", "--scenarois"], "--scenarois"),
        (["retrofit", "beijing", "--sweep", "a:b:c"], "a:b:c"),
    ],
)
def test_console_script(tmp_path, args, shown):
    """A real process: exit status 2, one line on stderr, nothing on stdout."""
    env = {**os.environ, "COLUMNS": "60"}  # a narrow terminal must not wrap the line
    p = subprocess.run(_console_script() + args, capture_output=True, text=True, env=env, cwd=tmp_path)
    assert_usage_error(p.returncode, p.stdout, p.stderr, shown)
    assert p.stdout == ""


def test_the_click_typer_runs_on_is_handled():
    """typer.BadParameter is the exception class of whichever click typer uses (its own copy in
    typer >= 0.2x, plain click before); main() must catch that one."""
    import resiliopt.cli as cli

    assert isinstance(typer.BadParameter("x"), cli._USAGE_ERROR)
    assert main(["slice", "beijing", "--scenarois"]) == 2


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.floats().map(repr), st.integers().map(str), st.text(max_size=6)))
def test_a_share_is_exactly_a_finite_number_in_0_1(raw):
    from resiliopt.cli._options import SHARE

    try:
        ok = math.isfinite(float(raw)) and 0 <= float(raw) <= 1
    except ValueError:
        ok = False
    if ok:
        assert SHARE(raw) == float(raw)
    else:
        with pytest.raises(typer.BadParameter, match=re.escape(repr(raw))):
            SHARE(raw)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(min_value=-(10**20), max_value=10**20), st.floats(-1e6, 1e6)))
def test_days_are_whole_numbers_in_range(x):
    from resiliopt.cli._options import DAYS, DAYS_MAX

    raw = str(x)
    if isinstance(x, int) and 1 <= x <= DAYS_MAX:
        assert DAYS(raw) == x
    else:  # out of range, or written as a real number ("3.0" too)
        with pytest.raises(typer.BadParameter, match=re.escape(repr(raw))):
            DAYS(raw)
