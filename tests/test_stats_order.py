"""A run's summary does not depend on the order in which its chunks finish (any worker count)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from resiliopt.simulation.stats import METRICS, SUMS, RunStats, chunk_stats


def _chunk(rng: np.random.Generator, n_scen: int, n_slices: int) -> dict:
    rows = n_scen * n_slices
    slices = pd.DataFrame({"day": np.tile(np.arange(n_slices) * 10, n_scen)})
    for m in METRICS:
        slices[m] = rng.random(rows)
    scen = pd.DataFrame({c: rng.random(n_scen) * 1e-1 for c in SUMS})
    scen["days_to_threshold"] = rng.integers(0, 5, n_scen) * 10.0
    scen["days_to_full"] = np.nan
    return chunk_stats(slices, scen, 10)


def test_mean_is_the_same_in_every_order():
    rng = np.random.default_rng(3)
    parts = [_chunk(rng, 7, 4) for _ in range(5)]
    means = set()
    for order in itertools.permutations(parts):
        st = RunStats(4)
        for p in order:
            st.add(p)
        means.add(st.mean(SUMS[0]))
    assert len(means) == 1
    # the test is sensitive: a running total of these chunk sums differs between orders
    plain = {sum(p[SUMS[0]] for p in order) for order in itertools.permutations(parts)}
    assert len(plain) > 1
