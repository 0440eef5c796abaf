"""Every numeric or compound option of ``resiliopt infra ...`` goes through the shared option
types (finite, in range, the right kind, a layer the case has): a bad value exits 2 with one
line naming the option and the value, no traceback, and nothing written under ``--out``."""

from __future__ import annotations

import math

import pytest

from resiliopt.cli import main
from resiliopt.errors import InputError
from resiliopt.infra.experiment import run_experiment

M6 = ["--magnitude", "6"]

BAD = [
    # command, its arguments, what the message must contain (the option, the value as typed)
    ("simulate", ["--magnitudes", "6.5"], ["--magnitudes", "6.5", "have 6, 7, 8, 9"]),
    ("simulate", ["--magnitudes", "nan"], ["--magnitudes", "'nan'"]),
    ("simulate", ["--magnitudes", "6,inf"], ["--magnitudes", "'inf'"]),
    ("simulate", ["--magnitudes", "6,6"], ["--magnitudes", "6,6"]),
    ("simulate", ["--magnitudes", "6,,7"], ["--magnitudes", "6,,7"]),
    ("simulate", ["--v", "nan"], ["--v", "'nan'"]),
    ("simulate", ["--v", "3,-1"], ["--v", "'-1'"]),
    ("simulate", ["--v", "x"], ["--v", "'x'"]),
    ("simulate", ["--service-layers", "sewer"], ["--service-layers", "'sewer'"]),
    ("simulate", ["--reading", "paper"], ["--reading", "'paper'"]),
    ("simulate", ["--workers", "0"], ["--workers", "'0'"]),
    ("restore", [*M6, "--backup", "sewer:1:50"], ["--backup", "'sewer:1:50'", "no layer 'sewer'"]),
    ("restore", [*M6, "--backup", "power:1:nan"], ["--backup", "'power:1:nan'"]),
    ("restore", [*M6, "--backup", "power:1.5:50"], ["--backup", "'power:1.5:50'"]),
    ("restore", [*M6, "--backup", "power:-1:50"], ["--backup", "'power:-1:50'"]),
    ("restore", [*M6, "--backup", "power:1:50:inf"], ["--backup", "'power:1:50:inf'"]),
    ("restore", [*M6, "--backup", "power:x"], ["--backup", "'power:x'"]),
    ("restore", ["--magnitude", "6.5"], ["--magnitude", "6.5"]),
    ("restore", ["--magnitude", "nan"], ["--magnitude", "'nan'"]),
    ("restore", [*M6, "--simulation", "-1"], ["--simulation", "'-1'"]),
    ("restore", [*M6, "--v", "nan"], ["--v", "'nan'"]),
    ("restore", [*M6, "--periods", "0"], ["--periods", "'0'"]),
    ("restore", [*M6, "--tier1-share", "1.5"], ["--tier1-share", "'1.5'"]),
    ("restore", [*M6, "--method", "greedy"], ["--method", "'greedy'"]),
    ("restore", [*M6, "--arc-model", "arc"], ["--arc-model", "'arc'"]),
    ("restore", [*M6, "--dependency-rule", "some"], ["--dependency-rule", "'some'"]),
    ("restore", [*M6, "--solver", "cplex"], ["--solver", "'cplex'"]),
    ("restore", [*M6, "--service-layers", "water,sewer"], ["--service-layers", "'sewer'"]),
    ("served", ["--magnitude", "nan"], ["--magnitude", "'nan'"]),
    ("served", ["--magnitude", "10"], ["--magnitude", "10"]),
    ("served", [*M6, "--seed", "-1"], ["--seed", "'-1'"]),
    ("served", [*M6, "--simulation", "1.5"], ["--simulation", "'1.5'"]),
    ("served", [*M6, "--weights", "equal"], ["--weights", "'equal'"]),
    ("served", [*M6, "--objective", "fun"], ["--objective", "'fun'"]),
    ("served", [*M6, "--format", "xlsx"], ["--format", "'xlsx'"]),
    ("served", ["--damage-file", "x.csv", "--simulation", "2"], ["--simulation 2", "--magnitude"]),
    ("cascade", ["--magnitude", "-inf"], ["--magnitude", "'-inf'"]),
    ("cascade", ["--magnitude", "5"], ["--magnitude", "5"]),
    ("criticality", ["--k", "-1"], ["--k", "'-1'"]),
    ("criticality", ["--top", "0"], ["--top", "'0'"]),
    ("criticality", ["--time-limit", "nan"], ["--time-limit", "'nan'"]),
    ("criticality", ["--candidates", "some"], ["--candidates", "'some'"]),
]


@pytest.mark.parametrize("cmd, args, needles", BAD, ids=[f"{c} {' '.join(a)}" for c, a, _ in BAD])
def test_a_bad_option_is_refused_with_nothing_written(capsys, tmp_path, cmd, args, needles):
    out = tmp_path / "out"
    code = main(["infra", cmd, "shelby-indp", *args, "--out", str(out)])
    captured = capsys.readouterr()
    err = captured.err
    assert code == 2, (captured.out, err)
    assert "Traceback" not in err + captured.out
    assert len(err.strip().splitlines()) == 1, err
    for n in needles:
        assert n in err, (n, err)
    assert not out.exists()  # no run.json, no parts/, no manifest


@pytest.mark.parametrize(
    "magnitudes, resources, location",
    [
        ([6.5], [3], "--magnitudes"),
        ([math.nan], [3], "--magnitudes"),
        ([6], [math.nan], "--v"),
        ([6], [], "--v"),
    ],
)
def test_the_library_refuses_before_writing(tmp_path, magnitudes, resources, location):
    out = tmp_path / "mc"
    with pytest.raises(InputError) as exc:
        run_experiment("shelby-indp", magnitudes, resources, 2, 0, out, workers=1)
    assert exc.value.location == location
    assert not out.exists()


def test_a_whole_magnitude_given_as_a_float_is_that_magnitude(tmp_path):
    """``--magnitudes 6.0`` is magnitude 6 (same draws, same part names, resumable as 6)."""
    a = run_experiment("shelby-indp", [6], [3], 2, 4, tmp_path / "a", workers=1, max_iterations=1)
    b = run_experiment("shelby-indp", [6.0], [3], 2, 4, tmp_path / "a", workers=1, max_iterations=1)
    assert a.drop(columns="seconds").equals(b.drop(columns="seconds"))
    assert sorted(p.name[:3] for p in (tmp_path / "a" / "parts").iterdir()) == ["M6-"]
