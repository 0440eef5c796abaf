"""Output safety: strict JSON, ordinary permissions, and ``--out`` never loses the user's files."""

from __future__ import annotations

import json
import os
import stat

import pytest
from test_cli_errors import (
    COMMANDS,
    OUT_HINT,
    assert_usage_error,
    base_args,
    out_dir_commands,
)

from resiliopt._atomic import MANIFEST, atomic_directory, check_output_dir, write_text_atomic
from resiliopt._json import dumps
from resiliopt.errors import InputError

# A short valid run of every command with --json (a new command must add one here).
EVENT = "data/infra/shelby-extended/events/synthetic-m7"
JSON_RUNS = {
    "slice": [["beijing"], ["beijing", "--day", "5", "--seed", "3"]],
    "compare": [
        "beijing --variants none --scenarios 1 --days 2 --workers 1 --no-progress --out {tmp}/c".split()
    ],
    "retrofit": [
        ["beijing", "--budget", "10"],
        ["beijing", "--sweep", "0:10:10", "--step", "0.5"],  # (--paper-table: same printer, 12 s)
    ],
    "fahp": [["matrix_experts"]],
    "assess": [["indicators", "sz"], ["indicators", "illustrative_a", "--compare", "illustrative_b"]],
    "fahp-sensitivity": [["indicators", "sz", "--samples", "20"]],
    "infra validate": [["shelby-indp"]],
    "infra served": [["shelby-extended", "--damage", "set0/sce1"], ["shelby-indp", "--magnitude", "7"]],
    "infra cascade": [["shelby-extended", "--damage", "set0/sce1"]],
    "infra criticality": [["shelby-indp", "--k", "1", "--candidates", "nodes", "--top", "3"]],
    "infra restore": [["shelby-indp", "--magnitude", "6", "--reading", "published"]],
    "infra simulate": [
        "shelby-indp --simulations 2 --workers 1 --reading published --no-plots --out {tmp}/s".split()
    ],
    **{
        f"emergency {c}": [["shelby-extended", EVENT, *more]]
        for c, more in (
            ("monitor", []),
            ("diagnose", ["--time", "3"]),
            ("respond", ["--time", "3"]),
            ("replay", ["--policies", "population", "--max-periods", "2"]),
            ("learn", []),
        )
    },
    "emergency evaluate": [
        "shelby-extended --events 2 --policies closed,open --max-periods 2 --bootstrap 100 "
        "--workers 1 --out {tmp}/ev".split()
    ],
    "emergency learn-eval": [
        "shelby-extended --train 2 --test 1 --seed 5 --max-periods 2 --bootstrap 100 --out {tmp}/le".split()
    ],
}


def strict_loads(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_dumps_is_strict():
    import numpy as np

    doc = {"a": float("nan"), "b": [np.float64("inf"), np.int64(3)], "c": np.array([1.0, np.nan])}
    assert strict_loads(dumps(doc)) == {"a": None, "b": [None, 3], "c": [1.0, None]}


def _json_commands():
    return [(p, c) for p, c, _ in COMMANDS if any("--json" in q.opts for q in c.params)]


def test_every_json_command_has_a_run():
    # keyed by the full path of a sub-command ("infra cascade"), by the name of a top-level one
    missing = [" ".join(p) for p, _ in _json_commands() if " ".join(p) not in JSON_RUNS]
    assert not missing, f"add a short --json run of {missing} to JSON_RUNS"


@pytest.mark.parametrize("command", sorted(JSON_RUNS))
def test_json_output_is_strict(run_cli, tmp_path, command):
    seen_null = False
    for args in JSON_RUNS[command]:
        args = [a.replace("{tmp}", str(tmp_path)) for a in args]
        code, out, err = run_cli(*command.split(), *args, "--json")
        assert code == 0, err
        strict_loads(out)
        seen_null |= "null" in out
    if command == "compare":  # 2 days never reach the threshold: NaN days became null
        assert seen_null


def test_json_stdout_holds_only_json(capfd, monkeypatch):
    """C libraries (the HiGHS banner) and workers write to descriptor 1: with --json it is stderr."""
    import resiliopt.logistics as lg
    from resiliopt.cli import main

    real = lg.solve_slice

    def noisy(*args, **kwargs):
        os.write(1, b"noise from C\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(lg, "solve_slice", noisy)
    assert main(["slice", "beijing", "--json"]) == 0
    out, err = capfd.readouterr()
    assert strict_loads(out)["status"] == "optimal"
    assert "noise from C" in err
    assert main(["slice", "beijing"]) == 0  # without --json, stdout is left alone
    assert "noise from C" in capfd.readouterr().out


# --- --out --------------------------------------------------------------------------------

# Fast valid runs that write a folder at --out (exercise the replacement rules).
OUT_RUNS = {
    "schema": [],
    "retrofit": ["beijing", "--budget", "5"],
    "audit": ["slice_small"],
}


def _with_out():
    return out_dir_commands()


def _out_args(path, cmd, hints, tmp_path, out):
    base = base_args(path, cmd, hints, tmp_path / "unused")
    if "--out" in base:
        i = base.index("--out")
        del base[i : i + 2]
    return base + ["--out", str(out)]


def _users_folder(tmp_path):
    d = tmp_path / "mine"
    (d / "sub").mkdir(parents=True)
    (d / "notes.txt").write_text("my notes")
    (d / "sub" / "data.csv").write_text("a,b\n")
    return d


def _snapshot(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize("path,cmd,hints", _with_out(), ids=[" ".join(p) for p, _, _ in _with_out()])
def test_a_folder_of_the_users_is_refused(run_cli, tmp_path, path, cmd, hints):
    d = _users_folder(tmp_path)
    before = _snapshot(d)
    code, out, err = run_cli(*_out_args(path, cmd, hints, tmp_path, d))
    assert_usage_error(code, out, err, "--out", "notes.txt", hint=f"{' '.join(path)}: {OUT_HINT}")
    assert _snapshot(d) == before and not (d / MANIFEST).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def _fix(args, data_dir):
    return [str(data_dir / "slice_small.yaml") if a == "slice_small" else a for a in args]


def test_rerun_replaces_only_resiliopts_files(run_cli, tmp_path, data_dir):
    out = tmp_path / "r"
    assert run_cli("retrofit", "beijing", "--sweep", "0:5:5", "--step", "0.5", "--out", out)[0] == 0
    man = json.loads((out / MANIFEST).read_text())
    assert man["command"] == "retrofit" and {"sweep.csv", "sweep.png"} <= set(man["files"])
    (out / "notes.txt").write_text("mine")
    (out / "extra").mkdir()
    (out / "extra" / "x.txt").write_text("mine too")
    assert run_cli("retrofit", "beijing", "--budget", "5", "--out", out)[0] == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert {"plan.csv", "plan.json", "z_start.csv", "notes.txt", "extra/x.txt"} <= names
    assert not {"sweep.csv", "sweep.png", "sweep.svg"} & names  # the old output's files are gone
    assert (out / "notes.txt").read_text() == "mine" and (out / "extra" / "x.txt").read_text() == "mine too"
    assert set(json.loads((out / MANIFEST).read_text())["files"]) == {"plan.csv", "plan.json", "z_start.csv"}


@pytest.mark.parametrize("command", sorted(OUT_RUNS))
def test_other_commands_output_needs_force(run_cli, tmp_path, data_dir, command):
    out = tmp_path / "o"
    other = "schema" if command != "schema" else "retrofit"
    assert run_cli(other, *_fix(OUT_RUNS[other], data_dir), "--out", out)[0] == 0
    (out / "notes.txt").write_text("mine")
    old = set(json.loads((out / MANIFEST).read_text())["files"])
    code, o, err = run_cli(command, *_fix(OUT_RUNS[command], data_dir), "--out", out)
    assert_usage_error(code, o, err, f"resiliopt {other}")
    code, o, err = run_cli(command, *_fix(OUT_RUNS[command], data_dir), "--out", out, "--force")
    assert code == 0, err
    new = set(json.loads((out / MANIFEST).read_text())["files"])
    assert json.loads((out / MANIFEST).read_text())["command"] == command
    assert {p.name for p in out.iterdir()} == new | {"notes.txt", MANIFEST} and not old & new
    assert (out / "notes.txt").read_text() == "mine"


def test_force_never_replaces_a_file_of_the_users(run_cli, tmp_path):
    d = _users_folder(tmp_path)
    (d / "case.schema.json").write_text("my own schema")
    code, out, err = run_cli("schema", "--out", d, "--force")
    assert_usage_error(code, out, err, "case.schema.json")
    assert (d / "case.schema.json").read_text() == "my own schema" and not (d / MANIFEST).exists()
    (d / "case.schema.json").unlink()
    before = _snapshot(d)
    assert run_cli("schema", "--out", d, "--force")[0] == 0  # writes next to the user's files
    after = _snapshot(d)
    assert all(after[k] == v for k, v in before.items()) and "case.schema.json" in after


def test_a_changed_output_file_needs_force(run_cli, tmp_path):
    out = tmp_path / "s"
    assert run_cli("schema", "--out", out)[0] == 0
    (out / "case.schema.json").write_text("edited by hand")
    code, o, err = run_cli("schema", "--out", out)
    assert_usage_error(code, o, err, "case.schema.json", "changed")
    assert (out / "case.schema.json").read_text() == "edited by hand"
    assert run_cli("schema", "--out", out, "--force")[0] == 0
    assert json.loads((out / "case.schema.json").read_text())


def test_a_forged_manifest_deletes_nothing(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = tmp_path / "o"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"command": "schema", "files": {"../victim.txt": None}}))
    with pytest.raises(InputError, match="manifest"):
        check_output_dir(out, "schema", force=True)
    assert victim.read_text() == "keep"


def test_interrupted_rewrite_keeps_the_old_output(tmp_path):
    out = tmp_path / "o"
    with atomic_directory(out, "schema") as tmp:
        (tmp / "a.txt").write_text("first")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt), atomic_directory(out, "schema") as tmp:
        (tmp / "a.txt").write_text("second")
        raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "first" and (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folder left


def test_simulate_refuses_a_users_folder_and_resumes_its_own(run_cli, tmp_path):
    d = _users_folder(tmp_path)
    code, out, err = run_cli("simulate", "beijing", "--scenarios", "1", "--days", "1", "--out", d)
    assert_usage_error(code, out, err, "notes.txt")
    s = tmp_path / "sim"
    args = "simulate beijing --scenarios 1 --days 1 --workers 1 --no-progress --no-plots --out".split() + [s]
    assert run_cli(*args)[0] == 0
    man = json.loads((s / MANIFEST).read_text())
    assert man["command"] == "simulate" and {"run.json", "summary.json"} <= set(man["files"])
    (s / "notes.txt").write_text("mine")
    assert run_cli(*args)[0] == 0  # its own folder: resumed, the notes kept
    assert (s / "notes.txt").read_text() == "mine"


# --- permissions ----------------------------------------------------------------------------


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _modes(root):
    return {p: stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}


def test_outputs_have_ordinary_permissions(run_cli, tmp_path, data_dir, umask):
    file_mode, dir_mode = 0o666 & ~umask, 0o777 & ~umask
    out = tmp_path / "audit"
    assert run_cli("audit", data_dir / "slice_small.yaml", "--out", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode  # was 0700 (mkdtemp)
    existing = tmp_path / "schema"
    existing.mkdir()
    assert run_cli("schema", "--out", existing)[0] == 0  # into an existing folder
    for root in (out, existing):
        for p, mode in _modes(root).items():
            assert mode == (dir_mode if p.is_dir() else file_mode), (p, oct(mode))
    f = write_text_atomic(tmp_path / "deep" / "summary.json", "{}")  # was 0600 (mkstemp)
    assert stat.S_IMODE(f.stat().st_mode) == file_mode
    assert stat.S_IMODE(f.parent.stat().st_mode) == dir_mode


def test_simulate_outputs_are_not_private(run_cli, tmp_path):
    old = os.umask(0o022)
    try:
        s = tmp_path / "s"
        args = ["--scenarios", "1", "--days", "1", "--workers", "1", "--no-progress", "--no-plots"]
        assert run_cli("simulate", "beijing", *args, "--out", s)[0] == 0
    finally:
        os.umask(old)
    modes = _modes(s)
    assert modes[s / "summary.json"] == 0o644 and modes[s / "run.json"] == 0o644
    assert stat.S_IMODE(s.stat().st_mode) == 0o755
    assert set(modes.values()) <= {0o644, 0o755}


def test_a_refused_run_writes_nothing(run_cli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    short = ["--scenarios", "1", "--days", "1", "--workers", "1", "--no-progress"]
    code, out, err = run_cli("simulate", "beijing", "--variant", "nope", *short, "--out", empty)
    assert_usage_error(code, out, err, "nope")
    code, out, err = run_cli("compare", "beijing", "--variants", "none,nope", *short, "--out", tmp_path / "c")
    assert_usage_error(code, out, err, "nope")
    assert list(empty.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["empty"]
