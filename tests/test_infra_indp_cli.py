"""``resiliopt infra restore`` and ``resiliopt infra simulate``: exit codes, JSON, files."""

from __future__ import annotations

import json

import pandas as pd

from resiliopt.cli import main


def test_restore_json_is_proven_and_checked(capsys, tmp_path):
    rc = main(
        [
            "infra",
            "restore",
            "shelby-indp",
            "--magnitude",
            "6",
            "--seed",
            "1",
            "--reading",
            "published",
            "--out",
            str(tmp_path / "plan"),
            "--json",
        ]
    )
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["all_optimal"] and d["check_ok"] and d["max_gap"] <= 1e-9
    assert abs(d["objective"] - d["objective_recomputed"]) <= 1e-6 * d["objective"]
    for f in (
        "repairs.csv",
        "costs.csv",
        "served.csv",
        "check.csv",
        "flows.parquet",
        "restoration_curves.png",
    ):
        assert (tmp_path / "plan" / f).exists()
    assert pd.read_csv(tmp_path / "plan" / "check.csv")["ok"].all()


def test_restore_td_with_a_damage_file(capsys, tmp_path):
    f = tmp_path / "damage.csv"
    pd.DataFrame(
        [("node", "water", "16"), ("link", "water", "1-4")], columns=["kind", "layer", "element"]
    ).to_csv(f, index=False)
    rc = main(
        [
            "infra",
            "restore",
            "shelby-indp",
            "--damage-file",
            str(f),
            "--method",
            "td",
            "--periods",
            "3",
            "--v",
            "1",
            "--json",
        ]
    )
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["check_ok"] and d["periods"] == 3
    assert all(r["period"] <= 3 for r in d["repairs"])


def test_restore_bad_input_exits_2(capsys, tmp_path):
    assert main(["infra", "restore", "shelby-indp"]) == 2  # no damage given
    assert "exactly one of" in capsys.readouterr().err
    assert main(["infra", "restore", "shelby-indp", "--damage-file", str(tmp_path / "nope.csv")]) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,layer,element\nnode,water,999\n")
    assert main(["infra", "restore", "shelby-indp", "--damage-file", str(bad)]) == 2
    assert "unknown node '999'" in capsys.readouterr().err
    assert main(["infra", "restore", "shelby-indp", "--magnitude", "6", "--reading", "paper"]) == 2
    assert main(["infra", "restore", "shelby-indp", "--magnitude", "6", "--backup", "power:x"]) == 2
    assert main(["infra", "restore", "shelby-indp", "--magnitude", "5"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_simulate_compares_with_the_published_results(capsys, tmp_path):
    out = tmp_path / "mc"
    rc = main(
        [
            "infra",
            "simulate",
            "shelby-indp",
            "--magnitudes",
            "6",
            "--v",
            "3,12",
            "--simulations",
            "3",
            "--seed",
            "3",
            "--reading",
            "published",
            "--workers",
            "1",
            "--out",
            str(out),
            "--published",
            "bundled",
            "--json",
        ]
    )
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["all_optimal"] and d["published_cells"] == 2 * 9 * 6
    cmp = pd.read_csv(out / "comparison.csv")
    assert set(cmp["v"]) == {3, 12}
    for f in ("records.parquet", "summary.csv", "served_fan.png", "published_M6.png", "summary.json"):
        assert (out / f).exists()
    assert main(["infra", "simulate", "shelby-indp", "--simulations", "0", "--out", str(out)]) == 2
