"""The emergency commands on the bundled synthetic event, and their bad-input messages."""

from __future__ import annotations

import json

import pytest
import yaml

from resiliopt.cli import main
from resiliopt.infra import load_infra_case

EVENT = "data/infra/shelby-extended/events/synthetic-m7"


def strict(text: str):
    def bad(c):
        raise ValueError(f"not strict JSON: {c}")

    return json.loads(text, parse_constant=bad)


def test_monitor_levels_on_the_bundled_event(capsys):
    assert main(["emergency", "monitor", "shelby-extended", EVENT, "--json"]) == 0
    out = strict(capsys.readouterr().out)
    per = out["periods"]
    assert out["synthetic"] is True and len(per) == 20
    assert per[0]["level"] != "normal" and per[0]["unserved_share"] > 0.02
    # recovery: the unserved share ends far below where it started, levels never chatter
    assert per[-1]["unserved_share"] < per[0]["unserved_share"] / 2
    idx = [p["level_index"] for p in per]
    drops = [t for t in range(1, len(idx)) if idx[t] < idx[t - 1]]
    assert all(per[t - 1]["dwell"] >= 2 for t in drops)


def test_learn_recovers_the_event_parameters(tmp_path, capsys):
    out = tmp_path / "learned"
    assert main(["emergency", "learn", "shelby-extended", EVENT, "--out", str(out), "--json"]) == 0
    learned = strict(capsys.readouterr().out)
    truth = yaml.safe_load(open(f"{EVENT}/event.yaml"))["truth"]
    fit = next(f for f in learned["fragility"] if f["group"] == "all")
    assert abs(fit["median"] - truth["fragility"]["median"]) < 3 * fit["median_se"]
    assert abs(fit["beta"] - truth["fragility"]["beta"]) < 3 * fit["beta_se"]
    # the updated case loads, and its repair times moved from the prior (1) towards the truth (2)
    case = load_infra_case(out)
    power_nodes = case.nodes[case.nodes["layer"] == "power"]["repair_time"]
    assert 1.2 < power_nodes.median() < 3.0
    assert (out / "learned.yaml").is_file()


def test_respond_plans_and_checks(capsys):
    assert main(["emergency", "respond", "shelby-extended", EVENT, "--json"]) == 0
    out = strict(capsys.readouterr().out)
    assert out["plan_check"] is True
    assert all(m["gap"] is None or m["gap"] <= 1e-4 for m in out["mip"])
    assert out["repairs"]
    use = {}
    for r in out["repairs"]:
        use[r["period"]] = use.get(r["period"], 0) + 1
    assert max(use.values()) <= out["resources_per_period"]


@pytest.mark.parametrize(
    "edit, expect",
    [
        (lambda e: e.update(synthetik=True), "synthetik"),
        (lambda e: e["roads"]["links"].append(dict(e["roads"]["links"][0])), "repeats"),
        (lambda e: e["roads"].update(depots=["nowhere"]), "depots[0]"),
        (
            lambda e: e.update(
                emergency={"levels": [{"name": "normal"}, {"name": "IV", "enter": {"unserved_shar": 1}}]}
            ),
            "unknown indicator",
        ),
    ],
)
def test_bad_event_refused(tmp_path, capsys, edit, expect):
    ev = yaml.safe_load(open(f"{EVENT}/event.yaml"))
    edit(ev)
    (tmp_path / "event.yaml").write_text(yaml.safe_dump(ev))
    (tmp_path / "observations.csv").write_text(open(f"{EVENT}/observations.csv").read())
    assert main(["emergency", "monitor", "shelby-extended", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert expect in err and "event.yaml" in err and "Traceback" not in err


def test_unknown_element_refused(tmp_path, capsys):
    f = tmp_path / "obs.csv"
    f.write_text("time,kind,layer,element,status\n0,node,power,9999,down\n")
    assert main(["emergency", "monitor", "shelby-extended", str(f)]) == 2
    err = capsys.readouterr().err
    assert "9999" in err and "obs.csv" in err


def test_bad_policy_refused(capsys):
    assert main(["emergency", "replay", "shelby-extended", EVENT, "--policies", "closed,best"]) == 2
    assert "best" in capsys.readouterr().err
