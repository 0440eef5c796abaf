"""Emergency levels: deterministic traces give exactly the expected level sequence."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resiliopt.emergency import level_trace, load_emergency_config
from resiliopt.errors import InputError

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
