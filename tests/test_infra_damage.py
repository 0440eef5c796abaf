"""One damage sampler and one damage-file reader for every ``infra`` command (issue 16/17).

* the same case, ``--magnitude`` and ``--seed`` give the same damaged elements in ``infra
  served``, ``cascade``, ``restore`` and the first simulation of ``infra simulate`` (no other
  command draws damage from a magnitude: ``criticality`` takes none, the emergency commands take
  it from the event's observations; a test below keeps that list honest);
* the draw is the documented stream ``SeedSequence([seed, M, i])`` over the sorted table;
* every bad damage file is refused alike by every command, naming the file, the row as it
  stands in the file, the column and the value.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from resiliopt.cli import app, main
from resiliopt.errors import InputError
from resiliopt.infra import experiment, load_infra_case
from resiliopt.infra.damage import (
    draw_damage,
    failed_from_options,
    failure_table,
    read_damage_file,
    sample_damage,
)

ROOT = Path(__file__).resolve().parents[1]
TOY = str(Path(__file__).parent / "data" / "infra_toy" / "case.yaml")


def _json(capsys, argv) -> dict:
    code = main(argv)
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out)


def _set(rows) -> set[tuple[str, str, str]]:
    return {tuple(map(str, r)) for r in rows}


def test_one_sampler_in_every_command(capsys, tmp_path, monkeypatch):
    """shelby-indp M7 seed 3: 25 vs 33 elements (6 in common) before; one set now."""
    case = load_infra_case("shelby-indp")
    ref = _set(sample_damage(case, 7, 3).itertuples(index=False))
    assert len(ref) == 33  # the Monte Carlo's stream (simulation 0), unchanged by the merge

    draw = ["--magnitude", "7", "--seed", "3"]
    served = _json(capsys, ["infra", "served", "shelby-indp", *draw, "--json"])
    assert served["failed"] == len(ref) and _set(served["failed_elements"]) == ref
    cascade = _json(capsys, ["infra", "cascade", "shelby-indp", *draw, "--json"])
    assert _set(cascade["failed_elements"]) == ref and cascade["initially_failed"] == len(ref)
    restore = _json(
        capsys,
        ["infra", "restore", "shelby-indp", *draw, "--method", "td", "--periods", "1", "--json"],
    )
    assert _set(restore["damaged_elements"]) == ref
    assert restore["damaged"]["nodes"] + restore["damaged"]["links"] == len(ref)

    # infra simulate: spy on the draw of the Monte Carlo itself (one worker: in this process)
    drawn = []

    def spy(*args, **kw):
        d = draw_damage(*args, **kw)
        drawn.append(d)
        return d

    monkeypatch.setattr(experiment, "draw_damage", spy)
    argv = ["infra", "simulate", "shelby-indp", "--magnitudes", "7", "--seed", "3", "--simulations", "1"]
    out = tmp_path / "mc"
    _json(capsys, [*argv, "--v", "3", "--workers", "1", "--no-plots", "--out", str(out), "--json"])
    assert len(drawn) == 1 and _set(drawn[0].itertuples(index=False)) == ref
    rec = pd.read_parquet(out / "records.parquet")
    first = rec[rec["iteration"] == 1].iloc[0]
    assert first["damaged_nodes"] == restore["damaged"]["nodes"]
    assert first["damaged_links"] == restore["damaged"]["links"]

    # the library functions the commands call agree too, and --simulation i is simulation i
    failed, what = failed_from_options(case, magnitude=7.0, seed=3)
    assert _set(failed.itertuples(index=False)) == ref and "magnitude 7, seed 3" in what
    other = sample_damage(case, 7, 3, simulation=4)
    served4 = _json(capsys, ["infra", "served", "shelby-indp", *draw, "--simulation", "4", "--json"])
    assert _set(served4["failed_elements"]) == _set(other.itertuples(index=False)) != ref


def test_only_these_commands_draw_damage_from_a_magnitude():
    """Every command with a magnitude option is in the comparison above."""
    cmd = typer.main.get_command(app)

    def walk(group, path=()):
        for name, sub in group.commands.items():
            if hasattr(sub, "commands"):
                yield from walk(sub, (*path, name))
            else:
                yield " ".join((*path, name)), {o for p in sub.params for o in p.opts}

    drawing = {name for name, opts in walk(cmd) if opts & {"--magnitude", "--magnitudes"}}
    # `import osm --magnitude` writes the scenario earthquake of a logistics case: no damage draw
    assert drawing - {"import osm"} == {"infra served", "infra cascade", "infra restore", "infra simulate"}


def test_the_draw_is_the_documented_stream():
    """SeedSequence([s, M, i]) over the failure table of M sorted by (kind, layer, element)."""
    case = load_infra_case("shelby-indp")
    fp = case.failure_probability
    t = fp[fp["magnitude"] == 6].astype({"layer": str, "element": str})
    t = t.sort_values(["kind", "layer", "element"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(failure_table(case, 6), t)
    for seed, i in ((0, 0), (2016, 7), (3, 999)):
        u = np.random.default_rng(np.random.SeedSequence([seed, 6, i])).random(len(t))
        want = t.loc[u < t["p"].to_numpy(), ["kind", "layer", "element"]].reset_index(drop=True)
        pd.testing.assert_frame_equal(sample_damage(case, 6, seed, i), want)
        pd.testing.assert_frame_equal(sample_damage(case, 6.0, seed, i), want)  # 6.0 is 6
    # the table's file order does not matter: a shuffled table draws the same set
    shuffled = fp.sample(frac=1.0, random_state=1)
    case2 = dataclasses.replace(case, failure_probability=shuffled)
    pd.testing.assert_frame_equal(sample_damage(case2, 6, 5, 2), sample_damage(case, 6, 5, 2))


def test_a_fractional_magnitude_needs_its_own_table():
    case = load_infra_case("shelby-indp")
    with pytest.raises(InputError, match=r"magnitude 6.5 \(have 6, 7, 8, 9\)"):
        sample_damage(case, 6.5, 1)
    fp = case.failure_probability
    half = fp[fp["magnitude"] == 6].assign(magnitude=6.5)
    case = dataclasses.replace(case, failure_probability=pd.concat([fp, half], ignore_index=True))
    a = sample_damage(case, 6.5, 1, 0)
    assert a.equals(sample_damage(case, 6.5, 1, 0))
    # same probabilities as M6, another stream (its seed is not that of a whole magnitude)
    assert not a.equals(sample_damage(case, 6, 1, 0))
    draws = [len(sample_damage(case, 6.5, 1, i)) for i in range(300)]
    p = half["p"].to_numpy()
    assert abs(np.mean(draws) - p.sum()) <= 4 * np.sqrt((p * (1 - p)).sum() / 300)


# --------------------------------------------------------------------------- the one reader
BAD_FILES = [
    # (content, row the message names, column, value quoted)
    (
        "kind,layer,element\nnode,water,1\nnode,water,1\nnode,water,1\nlink,water,99-98\n",
        4,
        "element",
        "'99-98'",
    ),
    ("kind,layer,element\nnode,water,1\n,water,2\n", 2, "kind", "''"),
    ("kind,layer,element\nnode,water,1\nnode,water,\n", 2, "element", "''"),
    ("kind,layer,element\nnode,water,1\nnode,water,1\nnod,water,2\n", 3, "kind", "'nod'"),
    ("kind,layer,element\nnode,water,1\nnode,water,1\nnode,sewer,2\n", 3, "layer", "'sewer'"),
    ("kind,layer,element\nnode,water,1\nnode,power,1-4\n", 2, "element", "'1-4'"),
]


@pytest.mark.parametrize("content, row, column, value", BAD_FILES)
def test_a_bad_damage_file_names_file_row_column_and_value(capsys, tmp_path, content, row, column, value):
    f = tmp_path / "my-damage.csv"
    f.write_text(content)
    case = load_infra_case("shelby-indp")
    with pytest.raises(InputError) as exc:
        read_damage_file(case, f)
    where = f"row {row} (line {row + 1}), column {column!r}"
    assert exc.value.location == where and value in exc.value.message and str(exc.value.file) == str(f)
    msgs = set()
    for cmd in ("served", "cascade", "restore"):
        out = tmp_path / cmd
        assert main(["infra", cmd, "shelby-indp", "--damage-file", str(f), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert "my-damage.csv" in err and where in err and value in err
        assert not out.exists()
        msgs.add(err.split(str(f))[-1])
    assert len(msgs) == 1  # one reader, one message


def test_a_damage_file_header_and_repeats(tmp_path):
    case = load_infra_case("shelby-indp")
    f = tmp_path / "d.csv"
    f.write_text("kind,layer\nnode,water\n")
    with pytest.raises(InputError, match="lacks column.*'element'") as exc:
        read_damage_file(case, f)
    assert exc.value.location == "line 1 (header)"
    f.write_text("kind,layer,element,why\nnode,water,1,x\n")
    with pytest.raises(InputError, match="unknown field"):
        read_damage_file(case, f)
    f.write_text("kind,layer,element\nnode,water,1\nlink,water,1-4\nnode,water,1\n")
    got = read_damage_file(case, f)
    assert got.values.tolist() == [["node", "water", "1"], ["link", "water", "1-4"]]


def test_no_bare_csv_reading_and_no_imports_between_command_modules():
    for name in ("infra.py", "infra_restore.py"):
        src = (ROOT / "resiliopt" / "cli" / name).read_text()
        assert "read_csv" not in src
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("resiliopt.cli"):
                assert node.module in ("resiliopt.cli", "resiliopt.cli._options", "resiliopt.cli._output")
                if node.module == "resiliopt.cli":
                    assert {a.name for a in node.names} <= {"app", "err_console", "_options"}
