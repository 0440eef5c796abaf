"""Restoration plots: they live in :mod:`resiliopt.infra.plots` (the commands that write them
are library functions of ``resiliopt.infra``); the names stay importable from here."""

from resiliopt.infra.plots import comparison_plot, fan_charts, residual_summary, restoration_curves

__all__ = ["comparison_plot", "fan_charts", "residual_summary", "restoration_curves"]
