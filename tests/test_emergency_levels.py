"""Emergency levels: deterministic traces give exactly the expected level sequence."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.emergency import level_trace, load_emergency_config
from resiliopt.emergency.config import case_emergency, check_levels
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case

CFG = {
    "min_dwell": 2,
    "levels": [
        {"name": "normal"},
        {"name": "IV", "enter": {"unserved_share": 0.10}, "leave": {"unserved_share": 0.05}},
        {
            "name": "III",
            "enter": {"unserved_share": 0.30, "tier1_unserved_share": 0.2},
            "leave": {"unserved_share": 0.20, "tier1_unserved_share": 0.1},
        },
    ],
}


def trace(values, tier1=None, cfg=CFG):
    df = pd.DataFrame(
        {
            "period": range(len(values)),
            "unserved_share": values,
            "tier1_unserved_share": tier1 if tier1 is not None else [0.0] * len(values),
        }
    )
    return level_trace(load_emergency_config(cfg), df)


def test_rising_and_falling_indicator():
    x = [0.0, 0.12, 0.35, 0.32, 0.25, 0.15, 0.12, 0.08, 0.04, 0.04, 0.0]
    out = trace(x)
    assert list(out["level"]) == [
        "normal",
        "IV",
        "III",
        "III",
        "III",
        "IV",
        "IV",
        "IV",
        "normal",
        "normal",
        "normal",
    ]
    assert list(out["event"]) == [
        "hold",
        "enter",
        "enter",
        "hold",
        "hold",
        "leave",
        "hold",
        "hold",
        "leave",
        "hold",
        "hold",
    ]


def test_hysteresis_band_holds_the_level():
    # oscillating between the exit (0.05) and entry (0.10) values never lowers IV
    out = trace([0.11, 0.06, 0.09, 0.06, 0.09, 0.06])
    assert set(out["level"]) == {"IV"}


def test_dwell_delays_only_lowering():
    # below the exit value right after entering: held for min_dwell periods first
    out = trace([0.11, 0.0, 0.0, 0.0])
    assert list(out["level"]) == ["IV", "IV", "normal", "normal"]
    # escalation never waits
    out = trace([0.11, 0.5])
    assert list(out["level"]) == ["IV", "III"]


def test_any_indicator_enters_all_must_fall():
    out = trace([0.0, 0.0, 0.0, 0.0], tier1=[0.0, 0.25, 0.15, 0.05])
    assert list(out["level"]) == ["normal", "III", "III", "normal"]


def test_sharp_drop_skips_levels():
    out = trace([0.5, 0.5, 0.0])
    assert list(out["level"]) == ["III", "III", "normal"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=40))
def test_no_chatter_and_consistent(xs):
    out = trace(xs)
    lv = list(out["level_index"])
    # a level change down is always preceded by at least min_dwell periods in that level
    for t in range(1, len(lv)):
        if lv[t] < lv[t - 1]:
            assert out["dwell"].iloc[t - 1] >= 2
            assert xs[t] < 0.20 if lv[t - 1] == 2 else xs[t] < 0.05
    # whenever an entry threshold is crossed the level is at least that level
    for t, x in enumerate(xs):
        need = 2 if x >= 0.30 else 1 if x >= 0.10 else 0
        assert lv[t] >= need


@pytest.mark.parametrize(
    "bad, where",
    [
        ({"levels": [{"name": "normal", "enter": {"unserved_share": 0.1}}]}, "levels[0]"),
        (
            {"levels": [{"name": "normal"}, {"name": "IV", "enter": {"unserved_shar": 0.1}}]},
            "unknown indicator",
        ),
        (
            {
                "levels": [
                    {"name": "normal"},
                    {"name": "IV", "enter": {"unserved_share": 0.1}, "leave": {"unserved_share": 0.2}},
                ]
            },
            "leave <= enter",
        ),
        (
            {
                "levels": [
                    {"name": "normal"},
                    {"name": "IV", "enter": {"unserved_share": 0.3}},
                    {"name": "III", "enter": {"unserved_share": 0.1}},
                ]
            },
            "must not enter earlier",
        ),
        ({"levels": [{"name": "normal"}, {"name": "normal", "enter": {"unserved_share": 0.3}}]}, "repeats"),
        (
            {"levels": [{"name": "normal"}, {"name": "IV", "enter": {"unserved_share": 0.1}, "respons": {}}]},
            "unknown field",
        ),
        ({"min_dwell": 0, "levels": [{"name": "normal"}]}, "min_dwell"),
    ],
)
def test_bad_config_refused(bad, where):
    with pytest.raises(InputError) as exc:
        load_emergency_config(bad, file="case.yaml")
    assert where in str(exc.value)
    assert "case.yaml" in str(exc.value)


def test_response_settings_inherit():
    cfg = load_emergency_config(
        {
            "levels": [
                {"name": "normal", "response": {"resources_per_period": 3, "horizon": 3}},
                {"name": "IV", "enter": {"unserved_share": 0.1}, "response": {"resources_per_period": 6}},
            ]
        }
    )
    assert cfg.response(1).resources_per_period == 6
    assert cfg.response(1).horizon == 3
    assert cfg.response(0).resources_per_period == 3


def test_missing_or_bad_indicator_refused():
    cfg = load_emergency_config(CFG)
    with pytest.raises(InputError, match="tier1_unserved_share"):
        level_trace(cfg, pd.DataFrame({"unserved_share": [0.1]}))
    with pytest.raises(InputError, match="finite"):
        level_trace(cfg, pd.DataFrame({"unserved_share": [float("nan")], "tier1_unserved_share": [0.0]}))


# --------------------------------------------------------------------------- rules that need the case
TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"
TOY_LEVELS = {
    "levels": [
        {"name": "normal", "response": {"resources_per_period": 1, "horizon": 2}},
        {"name": "IV", "enter": {"unserved_share": 0.05}, "leave": {"unserved_share": 0.02}},
    ]
}


def _case_with(tmp_path: Path, emergency) -> Path:
    raw = yaml.safe_load(TOY.read_text())
    raw["emergency"] = emergency
    d = tmp_path / "case"
    d.mkdir(exist_ok=True)
    (d / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (d / "obs.csv").write_text("time,kind,layer,element,status\n0,node,power,A,down\n1,node,power,A,up\n")
    return d


def _with(**level) -> dict:
    """TOY_LEVELS with level IV changed (a new ``enter`` drops the old ``leave``)."""
    cfg = copy.deepcopy(TOY_LEVELS)
    if "enter" in level:
        level.setdefault("leave", {})
    cfg["levels"][1].update(level)
    return cfg


@pytest.mark.parametrize(
    "emergency, where, needle",
    [
        (
            _with(enter={"unserved_share.sewer": 0.1}),
            "emergency.levels[1].enter.unserved_share.sewer",
            "level 'IV': the case has no layer 'sewer' (layers: power, water)",
        ),
        (
            _with(leave={"unserved_share": 0.2}),
            "emergency.levels[1].leave.unserved_share",
            "0.2 is above enter = 0.05",
        ),
        (_with(enter={"unserved_share": "0.1"}), "emergency.levels[1].enter.unserved_share", "(got '0.1')"),
        (_with(enter={"unserved_share": 1e13}), "emergency.levels[1].enter.unserved_share", "1e+12"),
        (_with(response={"horizon": 0}), "emergency.levels[1].response.horizon", "(got 0)"),
        ({"min_dwell": 1.5, "levels": TOY_LEVELS["levels"]}, "emergency.min_dwell", "(got 1.5)"),
        ([1, 2], "emergency", "dictionary"),
    ],
)
def test_validate_refuses_what_the_commands_refuse(run_cli, tmp_path, emergency, where, needle):
    """One function holds the rules: `validate CASE`, `infra validate` and every emergency
    command give the same first line (file, field, value)."""
    d = _case_with(tmp_path, emergency)
    firsts = []
    for args in (
        ("validate", d),
        ("infra", "validate", d),
        ("emergency", "monitor", d, d / "obs.csv"),
        ("emergency", "respond", d, d / "obs.csv"),
    ):
        code, _, err = run_cli(*args)
        assert code == 2 and "Traceback" not in err, (args, err)
        firsts.append(err.strip().splitlines()[0])
    assert len(set(firsts)) == 1, firsts
    assert firsts[0].startswith(f"error: {d / 'case.yaml'}: {where}: ") and needle in firsts[0], firsts[0]


def test_a_level_on_a_layer_without_demand_refused(tmp_path):
    raw = yaml.safe_load(TOY.read_text())
    raw["layers"].append({"layer": "gas", "commodity": "gas", "unit": "m3"})
    raw["nodes"].append({"layer": "gas", "node": "g1", "demand": 0})
    raw["emergency"] = _with(enter={"unserved_share.gas": 0.1})
    (tmp_path / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(InputError, match=r"levels\[1\]\.enter\.unserved_share\.gas: level 'IV': layer 'gas'"):
        case_emergency(load_infra_case(tmp_path / "case.yaml"))


def test_a_valid_layer_level_runs_until_every_element_is_up(run_cli, tmp_path):
    """A level on a layer indicator: monitor goes through to the period where all is up."""
    d = _case_with(tmp_path, _with(enter={"unserved_share.water": 0.5, "unserved_share": 0.05}))
    assert run_cli("validate", d)[0] == 0
    code, out, err = run_cli("emergency", "monitor", d, d / "obs.csv", "--json")
    assert code == 0, err
    per = json.loads(out)["periods"]
    assert [p["level"] for p in per] == ["IV", "normal"] and per[-1]["unserved_share"] == 0


def test_several_level_errors_listed(tmp_path):
    cfg = _with(enter={"unserved_share.sewer": 0.1, "unserved_share.oil": 0.2})
    with pytest.raises(InputError) as exc:
        check_levels(load_emergency_config(cfg, file="case.yaml"), load_infra_case(TOY), "case.yaml")
    lines = str(exc.value).splitlines()
    assert "[2 errors in this file]" in lines[0] and "'sewer'" in lines[0]
    assert lines[1].startswith("  emergency.levels[1].enter.unserved_share.oil: level 'IV': ")
