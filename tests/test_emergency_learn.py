"""Learning: fragility and repair-duration fits recover known parameters from synthetic events."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from resiliopt.emergency import RepairPrior, fit_fragility, load_observations, update_repair_durations
from resiliopt.emergency.learn import _conjugate, _grid, damage_observations, repair_observations
from resiliopt.errors import InputError


def synthetic_damage(theta, beta, n, seed):
    rng = np.random.default_rng(seed)
    pga = np.exp(rng.normal(math.log(theta), 0.6, n))
    p = stats.norm.cdf(np.log(pga / theta) / beta)
    return pga, rng.random(n) < p


@pytest.mark.parametrize("theta, beta", [(0.35, 0.5), (0.8, 0.3)])
def test_fragility_recovers_parameters(theta, beta):
    pga, z = synthetic_damage(theta, beta, 3000, seed=1)
    fit = fit_fragility(pga, z)
    # within 4 standard errors, and the standard errors are small at n = 3000
    assert abs(fit.median - theta) < 4 * fit.median_se
    assert abs(fit.beta - beta) < 4 * fit.beta_se
    assert fit.median_se / theta < 0.05 and fit.beta_se / beta < 0.15


def test_fragility_is_the_maximum():
    pga, z = synthetic_damage(0.4, 0.5, 400, seed=2)
    fit = fit_fragility(pga, z)

    def ll(t, b):
        u = np.log(pga / t) / b
        return float(np.sum(np.where(z, stats.norm.logcdf(u), stats.norm.logcdf(-u))))

    assert ll(fit.median, fit.beta) == pytest.approx(fit.loglik, abs=1e-6)
    for dt, db in [(1.05, 1), (0.95, 1), (1, 1.1), (1, 0.9)]:
        assert ll(fit.median * dt, fit.beta * db) < fit.loglik


def test_fragility_refuses_degenerate_data():
    with pytest.raises(InputError, match="both outcomes"):
        fit_fragility([0.1, 0.2, 0.3], [False, False, False])
    with pytest.raises(InputError, match="separable"):
        fit_fragility([0.1, 0.2, 0.3, 0.4], [False, False, True, True])


def test_repair_posterior_converges_to_truth():
    rng = np.random.default_rng(3)
    mu, sigma = math.log(12.0), 0.4
    d = np.exp(rng.normal(mu, sigma, 2000))
    post = update_repair_durations(RepairPrior(median=4.0, dispersion=1.0, strength=5), d)
    assert post.method == "conjugate"
    assert post.median == pytest.approx(12.0, rel=0.03)
    assert post.dispersion == pytest.approx(0.4, rel=0.05)


def test_repair_posterior_without_data_is_the_prior():
    prior = RepairPrior(median=7.0, dispersion=0.6, strength=3)
    post = update_repair_durations(prior, [])
    assert post.median == pytest.approx(7.0)
    assert post.dispersion == pytest.approx(0.6)


def test_grid_posterior_matches_conjugate_when_nothing_is_censored():
    rng = np.random.default_rng(4)
    y = rng.normal(1.5, 0.5, 25)
    prior = RepairPrior(median=3.0, dispersion=0.7, strength=4)
    mu_c, s2_c = _conjugate(prior, y)
    mu_g, s2_g = _grid(prior, y, np.array([]), size=600)
    assert mu_g == pytest.approx(mu_c, abs=2e-3)
    assert s2_g == pytest.approx(s2_c, rel=1e-2)


def test_censoring_is_used():
    rng = np.random.default_rng(5)
    true = np.exp(rng.normal(math.log(10.0), 0.5, 400))
    cut = 10.0  # observation ends at period 10: about half the repairs unfinished
    prior = RepairPrior(median=10.0, dispersion=1.0, strength=1)
    done = true[true <= cut]
    naive = update_repair_durations(prior, done)
    post = update_repair_durations(prior, done, censored=np.full((true > cut).sum(), cut))
    assert post.method == "grid"
    assert naive.median < 8.0  # dropping unfinished repairs biases the median down
    assert post.median == pytest.approx(10.0, rel=0.08)


def test_from_observations(tmp_path):
    csv = tmp_path / "obs.csv"
    csv.write_text(
        "time,kind,layer,element,status,pga\n"
        "0,node,power,1,down,0.5\n0,node,power,2,up,0.2\n0,node,water,3,degraded,0.4\n"
        "3,node,power,1,up,\n2,node,water,3,down,\n"
    )
    obs = load_observations(csv)
    dmg = damage_observations(obs)
    assert dmg.set_index("element")["damaged"].to_dict() == {"1": True, "2": False, "3": True}
    rep = repair_observations(obs).set_index("element")
    assert rep.loc["1", "duration"] == 3 and not rep.loc["1", "censored"]
    assert rep.loc["3", "duration"] == 2 and rep.loc["3", "censored"]


@pytest.mark.parametrize(
    "text, where",
    [
        (
            "time,kind,layer,element,status\n0,node,power,1,broken\n",
            "row 1 (line 2), column 'status': Input should be 'up', 'down', 'degraded' or 'repairing'"
            " (got 'broken')",
        ),
        (
            "time,kind,layer,element,status,colour\n0,node,power,1,up,red\n",
            "line 1 (header), column 'colour'",
        ),
        (
            "time,kind,layer,element,status\n0,node,power,1,up\n0,node,power,1,down\n",
            "row 2 (line 3): power node '1' is observed twice at time 0: row 1 (line 2) has it too",
        ),
        ("time,kind,layer,element,status,pga\n0,node,power,1,up,-1\n", "row 1 (line 2), column 'pga'"),
        ("time,kind,layer,element,status\nx,node,power,1,up\n", "row 1 (line 2), column 'time'"),
        ("time,kind,layer,element,status\n1e308,node,power,1,up\n", "beyond the limit of 1e+12"),
        ("time,kind,layer,element,status\nnan,node,power,1,up\n", "column 'time'"),
        ("time,kind,layer,element,status,flow\n0,node,power,1,up,1e13\n", "column 'flow'"),
        ("time,kind,layer,element,status\n0,node,power,1,up\n\n1,node,power,1,up\n", "empty line"),
    ],
)
def test_bad_observations_refused(tmp_path, text, where):
    f = tmp_path / "obs.csv"
    f.write_text(text)
    with pytest.raises(InputError) as exc:
        load_observations(f)
    assert where in str(exc.value) and "obs.csv" in str(exc.value)


def test_every_bad_row_listed_like_the_tables(tmp_path):
    """Several errors: the first on the first line with the count, the others indented below."""
    f = tmp_path / "obs.csv"
    f.write_text(
        "time,kind,layer,element,status\n0,node,power,1,broken\n-1,node,power,2,up\n0,edge,power,3,up\n"
    )
    with pytest.raises(InputError) as exc:
        load_observations(f)
    lines = str(exc.value).splitlines()
    assert (
        lines[0].startswith(f"{f}: row 1 (line 2), column 'status'") and "[3 errors in this file]" in lines[0]
    )
    assert lines[1].startswith("  row 2 (line 3), column 'time': ") and "(got '-1')" in lines[1]
    assert lines[2].startswith("  row 3 (line 4), column 'kind': ") and "(got 'edge')" in lines[2]


def test_yaml_observations(tmp_path):
    f = tmp_path / "obs.yaml"
    f.write_text("observations:\n  - {time: 0, kind: link, layer: gas, element: a, status: down}\n")
    df = load_observations(f)
    assert isinstance(df, pd.DataFrame) and df.loc[0, "status"] == "down"
    f.write_text("observations:\n  - {time: 0, kind: link, layer: gas, element: a, statu: down}\n")
    with pytest.raises(InputError, match=r"observations\[0\]"):
        load_observations(f)
