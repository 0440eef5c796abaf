"""Fuzz suite for the emergency inputs (issue 17): a clean refusal or a checked answer.

Every example takes the toy infra case and the toy event of tests/test_emergency_event.py (levels,
a road layer with a closed bridge, two backup entries, five observations), applies ONE mutation
and runs the emergency commands in-process:

* ``event.yaml``: the mutations of tests/test_fuzz_inputs.py (drop, duplicate, retype, rename, a
  duplicate key, an out-of-range or non-finite number, a broken reference), anywhere in the file:
  its fields, the road layer, the backups, the levels of its ``emergency:`` section;
* ``observations.csv``: a cell, a renamed or repeated column, a repeated or dropped row, an extra
  cell, a blank line (the CSV mutations of tests/test_fuzz_infra.py);
* the ``emergency:`` section of ``case.yaml``: the YAML mutations, inside the section;
* the options of every ``emergency`` command: a bad or a good value for one option.

Each is either

* refused: exit 2, no traceback, a first line ``error: FILE: FIELD-OR-ROW: rule`` naming a file of
  the example (an option: the option by name), and nothing written in ``--out``; or
* accepted: exit 0, ``respond`` passes its plan check (against the input), ``monitor`` and a
  closed-loop ``replay`` finish, ``--out`` holds the tables.

For the case's ``emergency:`` section, ``resiliopt validate CASE`` must agree with the commands
(the same first line when refused). The examples are drawn with a fixed seed (``derandomize``);
``RESILIOPT_FUZZ_EXAMPLES=2000 RESILIOPT_FUZZ_RANDOM=1`` runs a longer random search.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from test_emergency_event import EVENT, LEVELS, OBSERVATIONS, write_event
from test_fuzz_inputs import _typo, assert_refused, dump, fuzz_settings, mutation

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"
TOY_DOC = yaml.safe_load(TOY.read_text(encoding="utf-8"))
FILES = {"event.yaml", "observations.csv", "case.yaml"}


def assert_respond_checked(result: dict) -> None:
    """An exit-0 ``emergency respond --json``: the plan passed its check against the input, the
    MIP is solved (gap reported), repairs within the level's resources, backups as given."""
    assert result["plan_check"] is True, result
    assert all(m["status"] == "optimal" for m in result["mip"]), result["mip"]
    use: dict = {}
    for r in result["repairs"]:
        use[r["period"]] = use.get(r["period"], 0) + 1
    assert not use or max(use.values()) <= result["resources_per_period"] + 1e-9
    assert all(b["supply"] >= 0 for b in result["backups"])


def run_event(
    run_cli, case, ev: Path, out: Path, op: str, needle: str | None, replay: bool = True
) -> tuple[int, str]:
    """respond (with --out), monitor and (``replay``) a closed-loop replay of one mutated
    example; returns monitor's exit code and first line of stderr."""
    if out.exists():
        shutil.rmtree(out)
    code, stdout, err = run_cli("emergency", "respond", case, ev, "--json", "--out", out)
    event(f"{op}: exit {code}")
    if code != 0:
        assert_refused(code, stdout, err, FILES, needle)
        assert not out.exists(), "a refused input left an --out folder behind"
        if "nothing is damaged" in err:  # respond alone needs damage at the first time stamp
            c2, _, e2 = run_cli("emergency", "monitor", case, ev)
            return c2, (e2.splitlines() or [""])[0]
        for cmd in ("monitor", "replay") if replay else ("monitor",):  # the same input, the same refusal
            c2, o2, e2 = run_cli("emergency", cmd, case, ev)
            assert_refused(c2, o2, e2, FILES, needle)
            assert e2.splitlines()[0] == err.splitlines()[0], (cmd, e2, err)
        return code, err.splitlines()[0]
    assert_respond_checked(json.loads(stdout))
    assert (out / "repairs.csv").is_file() and (out / "check.csv").is_file()
    code, stdout, err = run_cli("emergency", "monitor", case, ev, "--json")
    assert code == 0, err
    per = json.loads(stdout)["periods"]
    assert all(0 <= p["unserved_share"] <= 1 for p in per)
    if replay:
        code, stdout, err = run_cli("emergency", "replay", case, ev, "--policies", "closed", "--json")
        assert code == 0, err
        assert all(s["unserved_area"] >= 0 for s in json.loads(stdout)["summary"])
    return 0, ""


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzzemergency")


# --------------------------------------------------------------------------- event.yaml
@fuzz_settings(30)
@given(data=st.data())
def test_fuzz_event_yaml(run_cli, fuzz_dir, data):
    doc, op, needle = data.draw(mutation(EVENT), label="mutation")
    ev = fuzz_dir / "ev"
    write_event(ev)
    (ev / "event.yaml").write_text(dump(doc), encoding="utf-8")
    run_event(run_cli, TOY, ev, fuzz_dir / "out", f"event {op}", needle)


# --------------------------------------------------------------------------- observations.csv
CELLS = ["", "lots", "-1", "1e30", "1e308", "nan", "inf", "2.5", "0", "1", "true", "NOWHERE", "A", "G", "ST"]
CELLS += ["node", "link", "up", "down", "degraded", "repairing", "water", "sewer"]
CSV_OPS = [
    "cell",
    "cell",
    "cell",
    "cell",
    "rename",
    "dupcolumn",
    "duprow",
    "droprow",
    "extracell",
    "blankline",
]


@fuzz_settings(30)
@given(data=st.data())
def test_fuzz_observations_csv(run_cli, fuzz_dir, data):
    rows = [line.split(",") for line in OBSERVATIONS.splitlines()]
    # an optional column, so that its cells are mutated too
    rows = [r + [c] for r, c in zip(rows, ["pga", "0.5", "0.4", "0.3", "0.6", ""], strict=True)]
    op = data.draw(st.sampled_from(CSV_OPS), label="op")
    k = data.draw(st.integers(1, len(rows) - 1), label="row")
    j = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    needle = None
    if op == "cell":
        rows[k][j] = data.draw(st.sampled_from([*CELLS, rows[k][j] + " x", rows[k][j].upper()]), label="cell")
    elif op == "rename":
        rows[0][j] = needle = _typo(rows[0][j], data.draw(st.integers(0, 2)))
    elif op == "dupcolumn":
        rows[0][j] = rows[0][(j + 1) % len(rows[0])]
        needle = "duplicate column"
    elif op == "duprow":
        rows.insert(k, list(rows[k]))
        needle = "observed twice"
    elif op == "droprow":
        del rows[k]
    elif op == "extracell":
        rows[k].append("x")
        needle = "cells but the header has"
    else:
        rows.insert(k, [])
        needle = "empty line"
    ev = write_event(fuzz_dir / "obs", observations="\n".join(",".join(r) for r in rows) + "\n")
    run_event(run_cli, TOY, ev, fuzz_dir / "out", f"observations {op}", needle, replay=False)


# --------------------------------------------------------------------------- case.yaml emergency:
@fuzz_settings(25)
@given(data=st.data())
def test_fuzz_case_emergency_section(run_cli, fuzz_dir, data):
    """Mutate the levels in the case (the event has none): validate agrees with the commands."""
    section, op, needle = data.draw(mutation(LEVELS), label="mutation")
    d = fuzz_dir / "case"
    d.mkdir(exist_ok=True)
    case = copy.deepcopy(TOY_DOC)
    case["emergency"] = section
    (d / "case.yaml").write_text(dump(case), encoding="utf-8")
    ev = {k: v for k, v in EVENT.items() if k != "emergency"}
    ev_dir = write_event(fuzz_dir / "case_ev", ev)
    vcode, _, verr = run_cli("validate", d)
    ivcode, _, iverr = run_cli("infra", "validate", d)
    assert ivcode == vcode, (verr, iverr)
    code, first = run_event(run_cli, d, ev_dir, fuzz_dir / "out", f"levels {op}", needle, replay=False)
    assert vcode == code, ("validate and the commands disagree", verr, first)
    if code:
        assert verr.splitlines()[0] == first == iverr.splitlines()[0]


# --------------------------------------------------------------------------- options
#: every option of every emergency command that takes a value other than a path
OPTIONS = {
    "monitor": {},
    "diagnose": {"--time": ["0", "1"], "--top": ["1", "3"]},
    "respond": {"--time": ["0", "1"], "--solver": ["highs", "scip"]},
    "replay": {
        "--policies": ["closed", "population,criticality"],
        "--seeds": ["1", "2"],
        "--seed": ["0", "7"],
        "--max-periods": ["1", "5"],
        "--dispersion": ["0", "0.3"],
    },
    "learn": {"--prior-dispersion": ["0.5", "1"], "--prior-strength": ["1", "50"]},
}
BAD = [
    "nan",
    "inf",
    "-inf",
    "-1",
    "1e400",
    "2.5",
    "abc",
    "",
    "1e12",
    "0",
    "0.0",
    "closed,closed",
    "best",
    "7 ",
]


def _value_options():
    """``(command, option, annotation, parser)`` of every option of every emergency command that
    takes a value (``parser``: the checked type it is declared with, or None)."""
    import inspect
    import typing

    import typer

    from resiliopt.cli.emergency import emergency_app

    group = typer.main.get_group(emergency_app)
    for name, cmd in sorted(group.commands.items()):
        fn = inspect.unwrap(cmd.callback)
        hints, sig = typing.get_type_hints(fn), inspect.signature(fn).parameters
        for p in cmd.params:
            if p.param_type_name == "option" and not p.is_flag:
                info = sig[p.name].default
                yield name, p.opts[0], hints.get(p.name), getattr(info, "parser", None)


def test_every_emergency_option_goes_through_a_checked_type():
    """Every number option of an emergency command (also one added later) is parsed by a shared
    checked type (resiliopt/cli/_options.py) that refuses nan, inf, overflow and text; every
    compound one (policies, solver) by a checked parser."""
    import typer

    from resiliopt.cli._options import Number, NumberList

    seen = set()
    for name, opt, kind, parser in _value_options():
        seen.add((name, opt))
        if kind in (int, float, int | None, float | None):
            assert isinstance(parser, Number | NumberList), f"emergency {name} {opt}: an unchecked number"
            for bad in ("nan", "inf", "-inf", "1e400", "abc", ""):
                with pytest.raises(typer.BadParameter):
                    parser(bad)
        elif opt != "--out" and kind not in (Path, Path | None):  # a folder or file: checked by the library
            assert parser is not None, f"emergency {name} {opt}: an unchecked value"
    # what the fuzz below draws from exists (a renamed option is not silently skipped)
    listed = {(c, o) for c, opts in OPTIONS.items() for o in opts}
    assert listed <= seen, listed - seen


@fuzz_settings(40)
@given(data=st.data())
def test_fuzz_emergency_options(run_cli, fuzz_dir, data):
    cmd = data.draw(st.sampled_from([c for c in OPTIONS if OPTIONS[c]]), label="command")
    opt = data.draw(st.sampled_from(sorted(OPTIONS[cmd])), label="option")
    value = data.draw(st.sampled_from([*BAD, *OPTIONS[cmd][opt]]), label="value")
    ev = write_event(fuzz_dir / "opt_ev")
    out = fuzz_dir / "opt_out"
    if out.exists():
        shutil.rmtree(out)
    code, stdout, err = run_cli("emergency", cmd, TOY, ev, opt, value, "--json", "--out", out)
    event(f"{cmd} {opt}: exit {code}")
    assert "Traceback" not in err
    if code == 0:
        res = json.loads(stdout)
        if cmd == "respond":
            assert_respond_checked(res)
        assert out.is_dir() and any(out.iterdir())
    else:
        assert code == 2, err
        assert not out.exists(), "a refused option left an --out folder behind"
        first = err.strip().splitlines()[0]
        # refused while the command line is read (the option by name), or by the library
        # against the input (the event file and the option: e.g. no observation at --time)
        assert f"'{opt}'" in first or (opt in first and "event.yaml" in first), first
        assert value in BAD or opt == "--time", (value, first)
