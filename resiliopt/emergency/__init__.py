"""The emergency loop of critical infrastructure: monitor, diagnose, respond, learn.

Seed paper 000 (Li, "Research on the Emergency Support System for Critical Infrastructure from
the Perspective of Resilient Cities") describes the loop qualitatively; docs/emergency.md maps
each of its sentences to the explicit model that implements it here.

* :mod:`~resiliopt.emergency.config`: the ``emergency:`` section of a case (levels,
  thresholds, hysteresis, dwell, what each level sets for the response model);
* :mod:`~resiliopt.emergency.levels`: the level state machine (multi-threshold trigger,
  hysteresis, minimum dwell time);
* :mod:`~resiliopt.emergency.observations`: the observations file of an event;
* :mod:`~resiliopt.emergency.learn`: fragility and repair-duration fits after an event;
* :mod:`~resiliopt.emergency.operations` and :mod:`~resiliopt.emergency.replay`: one function
  per ``resiliopt emergency`` command (monitor, diagnose, respond, learn; replay: every policy
  at every seed), returning tidy tables and writing the output folder.
"""

from resiliopt.emergency.config import EmergencyConfig, Level, LevelResponse, load_emergency_config
from resiliopt.emergency.learn import (
    FragilityFit,
    RepairPosterior,
    RepairPrior,
    fit_fragility,
    update_repair_durations,
)
from resiliopt.emergency.levels import level_trace
from resiliopt.emergency.observations import load_observations

__all__ = [
    "EmergencyConfig",
    "FragilityFit",
    "Level",
    "LevelResponse",
    "RepairPosterior",
    "RepairPrior",
    "fit_fragility",
    "level_trace",
    "load_emergency_config",
    "load_observations",
    "update_repair_durations",
]
