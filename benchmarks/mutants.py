"""The planted bugs of the mutation test (``benchmarks/mutation.py``) and the commands that run them.

Each :class:`Mutant` is one realistic mistake: an exact snippet of one file (it must occur
exactly once: ``tests/test_mutation_harness.py`` checks every snippet against the code) and
its replacement, the test files that should kill it, and the run-time command (a key of
:data:`RUNS`) whose answer it changes or whose check it weakens. Chosen so that a user would not
notice the wrong answer from the output alone: plausible numbers, the usual "optimal".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RunCheck:
    """A command on a bundled case and what its answer is."""

    argv: tuple[str, ...]  # arguments of ``resiliopt``; ``{out}`` becomes a fresh folder
    answer: Callable[[dict], dict]  # the parts of the output that are the answer
    output: str = "stdout"  # "stdout" (the JSON printed) or a file under {out}


@dataclass(frozen=True)
class Mutant:
    name: str
    area: str  # LP builder, certificate, check, plan check, retrofit, engine, sampler, FAHP
    file: str
    original: str
    replacement: str
    description: str
    tests: tuple[str, ...]  # pytest arguments (files, node ids, -k expressions)
    run: str | None  # a key of RUNS, or None
    #: equivalent by argument (``description`` says why): no test can kill it, no answer changes
    equivalent: bool = False


# ----------------------------------------------------------------------------- answers
def _rows(items) -> list:
    """Rows (dicts or lists) as sorted tuples of strings: an order-free view of a table."""
    return sorted(tuple(str(v) for v in (r.values() if isinstance(r, dict) else r)) for r in items)


def _slice(d: dict) -> dict:
    return {
        "objective": d["objective"],
        "deliveries": sorted((r["group"], r["delivered"]) for r in d["deliveries"]),
    }


def _served(d: dict) -> dict:
    return {
        "objective": d["objective"],
        "layers": [(r["layer"], r["served"], r["unserved"]) for r in d["layers"]],
        "failed": _rows(d.get("failed_elements", [])),
    }


def _retrofit(d: dict) -> dict:
    return {
        "fc_after": d["fc_after"],
        "cost": d["cost"],
        "plan": sorted((r["category"], r["to_level"], r["fraction"]) for r in d["plan"]),
    }


def _restore(d: dict) -> dict:
    return {
        "objective": d["objective"],
        "repairs": _rows(d["repairs"]),
        "damaged": _rows(d["damaged_elements"]),
    }


def _fahp(d: dict) -> dict:
    return {
        "weights": d["weights"],
        "diagnostics": {k: d["diagnostics"][k] for k in ("triad_index_mean", "compatibility_index")},
        "warnings": d["diagnostics"]["warnings"],
    }


RUNS: dict[str, RunCheck] = {
    "slice": RunCheck(("slice", "beijing", "--json"), _slice),
    "slice-constraints": RunCheck(
        ("slice", "beijing", "--override", "tests/data/constraints/overrides.yaml", "--json"), _slice
    ),
    "slice-tr-binds": RunCheck(("slice", "tests/data/slice_tr_binds.yaml", "--json"), _slice),
    "slice-day60": RunCheck(("slice", "beijing", "--day", "60", "--json"), _slice),
    "served": RunCheck(("infra", "served", "shelby-extended", "--fail", "node:telecom:0", "--json"), _served),
    "served-damage": RunCheck(
        ("infra", "served", "shelby-extended", "--damage", "set5/sce55", "--json"), _served
    ),
    "served-share": RunCheck(
        ("infra", "served", "shelby-extended", "--damage", "set5/sce55", "--objective", "served", "--json"),
        _served,
    ),
    "served-magnitude": RunCheck(
        ("infra", "served", "shelby-indp", "--magnitude", "7", "--seed", "3", "--json"), _served
    ),
    "retrofit-exact": RunCheck(
        ("retrofit", "beijing", "--budget", "10", "--method", "exact", "--json"), _retrofit
    ),
    "retrofit-greedy": RunCheck(("retrofit", "beijing", "--budget", "10", "--json"), _retrofit),
    "restore": RunCheck(
        ("infra", "restore", "shelby-indp", "--magnitude", "7", "--seed", "3", "--json"), _restore
    ),
    # magnitude 8, seed 4: water nodes 23 and 36 lose every power node they depend on
    "restore-deps": RunCheck(
        ("infra", "restore", "shelby-indp", "--magnitude", "8", "--seed", "4", "--json"), _restore
    ),
    "restore-td": RunCheck(
        (
            "infra",
            "restore",
            "shelby-extended",
            "--damage",
            "set5/sce55",
            "--method",
            "td",
            "--periods",
            "4",
            "--v",
            "3",
            "--json",
        ),
        _restore,
    ),
    "fahp": RunCheck(("fahp", "cups/matrix_experts.yaml", "--json"), _fahp),
}

# the test files of each area, the most specific first (pytest -x stops at the first failure)
LP_TESTS = (
    "tests/test_slice_lp.py",
    "tests/test_city.py",
    "tests/test_slice_matrix_path.py",
    "tests/test_input_certificate.py",
    "tests/test_kills_certificates.py",
)
PYOMO_TESTS = (
    "tests/test_city.py",
    "tests/test_kills_certificates.py",
    "tests/test_constraints.py",
    "tests/test_slice_lp.py",
)
CERT_TESTS = (
    "tests/test_input_certificate.py",
    "tests/test_kills_certificates.py",
    "tests/test_slice_lp.py",
    "tests/test_slice_matrix_path.py",
)
FLOW_TESTS = ("tests/test_infra_flow.py", "tests/test_infra_certificate.py")
FLOW_CERT_TESTS = ("tests/test_infra_certificate.py", "tests/test_infra_flow.py")
INDP_TESTS = ("tests/test_infra_indp.py", "tests/test_infra_indp_durations.py")
PLAN_TESTS = (
    "tests/test_infra_indp_durations.py",
    "tests/test_kills_plan_check.py",
    "tests/test_infra_indp.py",
)
RETROFIT_TESTS = (
    "tests/test_retrofit_verify.py",
    "tests/test_retrofit_exact.py",
    "tests/test_retrofit_buildings.py",
)
ENGINE_TESTS = (
    "tests/test_event_engine.py",
    "tests/test_reuse_certified.py",
    "tests/test_kills_engine.py",
    "tests/test_simulation.py",
)
DAMAGE_TESTS = ("tests/test_infra_damage.py",)

MUTANTS: list[Mutant] = [
    # ------------------------------------------------------------------ the slice LP
    Mutant(
        "slice-tr-rhs-loose",
        "LP builder",
        "resiliopt/formulations/slice_compiled.py",
        "row_ub=np.r_[np.zeros(n_node), float(data.total_resources)],",
        "row_ub=np.r_[np.zeros(n_node), 1.01 * float(data.total_resources)],",
        "the TR row's right-hand side loosened by 1 % in the matrix the slice is solved from",
        LP_TESTS,
        "slice-tr-binds",
    ),
    Mutant(
        "slice-capacity-factor",
        "LP builder",
        "resiliopt/formulations/slice_compiled.py",
        'upper = np.concatenate([arcs["capacity"].to_numpy(dtype=float), groups["capacity"]',
        'upper = np.concatenate([2 * arcs["capacity"].to_numpy(dtype=float), groups["capacity"]',
        "arc capacities doubled in the matrix (capacity counted in both directions)",
        LP_TESTS,
        "slice",
    ),
    Mutant(
        "slice-first-node-row-dropped",
        "LP builder",
        "resiliopt/formulations/slice_compiled.py",
        "keep = rows >= 0  # an arc end",
        "keep = rows >= 1  # an arc end",
        "the balance row of the first road node left out of the matrix (an off-by-one)",
        LP_TESTS,
        "slice",
    ),
    Mutant(
        "slice-group-node-row",
        "LP builder",
        "resiliopt/formulations/slice_lp.py",
        "if v not in in_arcs and v not in out_arcs and v not in at_node:",
        "if v not in in_arcs and v not in out_arcs:",
        "the Pyomo slice model gives no balance row to a node that only building groups name "
        "(all its links removed): its groups are served through no road",
        PYOMO_TESTS,
        "slice-constraints",
    ),
    Mutant(
        "user-tr-share-confused",
        "LP builder",
        "resiliopt/formulations/user_constraints.py",
        "<= (1.0 - r.value) * m.TR,",
        "<= r.value * m.TR,",
        "a TR share row caps the other groups at the share instead of 1 - share",
        PYOMO_TESTS,
        "slice-constraints",
    ),
    # ------------------------------------------------------------------ the slice certificates
    Mutant(
        "input-cert-tol-x1e6",
        "certificate",
        "resiliopt/solvers/input_certificate.py",
        "TOL = 1e-7",
        "TOL = 1e-1",
        "the input certificate's tolerance loosened a million times",
        CERT_TESTS,
        "slice",
    ),
    Mutant(
        "input-cert-skip-node",
        "certificate",
        "resiliopt/solvers/input_certificate.py",
        "cons = float(rel_resid.max(initial=0.0))",
        "cons = float(rel_resid[1:].max(initial=0.0))",
        "the input certificate's conservation check skips the first road node",
        CERT_TESTS,
        "slice",
    ),
    Mutant(
        "matrix-cert-no-gap",
        "certificate",
        "resiliopt/solvers/certificate.py",
        "max(self.primal_infeasibility, self.dual_infeasibility, self.complementary_slackness, self.gap)",
        "max(self.primal_infeasibility, self.dual_infeasibility, self.complementary_slackness)",
        "the matrix certificate's verdict ignores the duality gap",
        CERT_TESTS,
        "slice",
    ),
    Mutant(
        "networkx-wrong-objective",
        "certificate",
        "resiliopt/logistics.py",
        "self.data, self.objective, self.networkx_objective\n",
        "self.data, self.networkx_objective, self.networkx_objective\n",
        "the networkx cross-check compares networkx's objective with itself",
        CERT_TESTS,
        "slice",
    ),
    # ------------------------------------------------------------------ the infra flow LP
    Mutant(
        "flow-drop-cyber",
        "LP builder",
        "resiliopt/formulations/infra_flow.py",
        "    dep = case.dependencies\n    dep_idx",
        '    dep = case.dependencies[case.dependencies["type"] != "cyber"]\n    dep_idx',
        "the served-demand LP leaves out the cyber dependencies",
        FLOW_TESTS,
        "served",
    ),
    Mutant(
        "flow-failed-link-half",
        "LP builder",
        "resiliopt/formulations/infra_flow.py",
        "ub = np.where(link_failed, 0.0, self._cap)",
        "ub = np.where(link_failed, 0.5 * self._cap, self._cap)",
        "a failed link keeps half its capacity in the LP solved",
        FLOW_TESTS,
        "served-damage",
    ),
    Mutant(
        "flow-cert-no-dependency",
        "certificate",
        "resiliopt/formulations/infra_certificate.py",
        "dep_v = w[er] - (1.0 - loss * (1.0 - w[ee]))",
        "dep_v = np.zeros(len(er))",
        "the infra input certificate no longer checks the dependency rule",
        FLOW_CERT_TESTS,
        "served",
    ),
    Mutant(
        "flow-cert-failed-from-solution",
        "certificate",
        "resiliopt/formulations/infra_certificate.py",
        "fn = np.array([k in fn_set for k in nix], dtype=bool)",
        'fn = res.nodes["failed"].to_numpy(dtype=bool)',
        "the infra input certificate takes the failed nodes from the solution, not the damage given",
        FLOW_CERT_TESTS,
        "served",
    ),
    # ------------------------------------------------------------------ INDP and the plan check
    Mutant(
        "indp-dependency-dropped",
        "LP builder",
        "resiliopt/formulations/indp.py",
        "rule=lambda m, la, nd, kl, t: m.w[la, nd, t] <= sum(g * m.w[i, t] for i, g in d.deps[la, nd, kl]),",
        "rule=lambda m, la, nd, kl, t: pyo.Constraint.Skip,",
        "the INDP's dependency rows (paper's rule 'any') left out",
        INDP_TESTS,
        "restore-deps",
    ),
    Mutant(
        "indp-resources-plus-one",
        "LP builder",
        "resiliopt/formulations/indp_repairs.py",
        "            <= m.v[r, t]\n",
        "            <= m.v[r, t] + 1\n",
        "the INDP's resource row allows one unit more than the period has",
        INDP_TESTS,
        "restore",
    ),
    Mutant(
        "indp-backward-flow-free",
        "LP builder",
        "resiliopt/formulations/indp.py",
        'c = {a: float(link[a[:2]]["flow_cost"]) for a in d.arcs}',
        'c = {a: float(link[a[:2]]["flow_cost"]) if a[2] == "+" else 0.0 for a in d.arcs}',
        "flow on the backward direction of a two-way link costs nothing in the INDP",
        INDP_TESTS,
        "restore",
    ),
    Mutant(
        "check-plan-sum-periods",
        "plan check",
        "resiliopt/infra/plan_check.py",
        "over = [(r, t, used[t], v) for (r, t), v in avail.items() if used[t] > v + tol]",
        "over = [(r, t, used[t], v) for (r, t), v in avail.items() if sum(used.values()) > "
        "sum(w for (q, _), w in avail.items() if q == r) + tol]",
        "check_plan compares the resources used over all periods with those available over all periods",
        PLAN_TESTS,
        "restore-td",
    ),
    Mutant(
        "check-plan-node-costs-from-plan",
        "plan check",
        "resiliopt/infra/plan_check.py",
        'node_rep = sum(float(row(*k)[0]["repair_cost"]) for k, _ in started if k[0] == "node")',
        'node_rep = float(costs.at[t, "node_repair_cost"]) if t in costs.index else 0.0',
        "check_plan takes the node repair costs from the plan's own cost table",
        PLAN_TESTS,
        "restore",
    ),
    Mutant(
        "check-plan-no-dependencies",
        "plan check",
        "resiliopt/infra/plan_check.py",
        "works = _dependency_closure(up_node, deps, options.dependency_rule)",
        "works = _dependency_closure(up_node, None, options.dependency_rule)",
        "check_plan's working check ignores the dependencies",
        PLAN_TESTS,
        "restore",
    ),
    Mutant(
        "check-plan-damage-from-plan",
        "plan check",
        "resiliopt/infra/plan_check.py",
        "dmg = _damage_set(damage if damage is not None else plan.damage)",
        "dmg = _damage_set(plan.damage)",
        "check_plan reads the damage from the plan, not the damage given",
        PLAN_TESTS,
        "restore",
    ),
    # ------------------------------------------------------------------ retrofit
    Mutant(
        "retrofit-budget-row-loose",
        "retrofit",
        "resiliopt/formulations/retrofit_qp.py",
        "rule=lambda m: m.cost <= float(budget) if paid else pyo.Constraint.Skip,",
        "rule=lambda m: m.cost <= 1.001 * float(budget) if paid else pyo.Constraint.Skip,",
        "the retrofit QP's budget row loosened by 0.1 %",
        RETROFIT_TESTS,
        "retrofit-exact",
    ),
    Mutant(
        "retrofit-scip-feastol",
        "retrofit",
        "resiliopt/solvers/scip.py",
        '"numerics/feastol": 1e-9}',
        '"numerics/feastol": 1e-5}',
        "SCIP's feasibility tolerance loosened to 1e-5",
        RETROFIT_TESTS,
        "retrofit-exact",
    ),
    Mutant(
        "stock-cost-ratio-inverted",
        "retrofit",
        "resiliopt/stock.py",
        "unit_cost = (count * c0k)[:, None] * (a0[:, None] / a - 1.0)",
        "unit_cost = (count * c0k)[:, None] * (1.0 - a / a0[:, None])",
        "the retrofit cost of eq. (5) with the response ratio inverted (1 - a/a0 for a0/a - 1): "
        "every method sees retrofits cheaper than they are",
        RETROFIT_TESTS,
        "retrofit-exact",
    ),
    Mutant(
        "retrofit-verify-sum-one-sided",
        "plan check",
        "resiliopt/retrofit/verify.py",
        "if abs(total - 1.0) > SUM_ATOL:",
        "if total - 1.0 > SUM_ATOL:",
        "the retrofit plan check refuses a category whose shares sum above 1 but not below "
        "(buildings that vanish from the plan pass)",
        RETROFIT_TESTS,
        "retrofit-exact",
    ),
    Mutant(
        "greedy-z-inverted",
        "retrofit",
        "resiliopt/retrofit/greedy_rule.py",
        '"z": per_frac_gain / per_frac_cost if per_frac_cost > 0 else math.inf,',
        '"z": per_frac_cost / per_frac_gain if per_frac_gain > 0 else math.inf,',
        "the paper's rule ranks moves by cost per F_C (Z inverted)",
        RETROFIT_TESTS,
        "retrofit-greedy",
    ),
    # ------------------------------------------------------------------ the recovery engine
    Mutant(
        "engine-reuse-capacity",
        "engine",
        "resiliopt/simulation/engine.py",
        "        and np.array_equal(cap, last[1])\n",
        "",
        "the engine reuses the last optimum when only a capacity changed (a bridge repaired)",
        ENGINE_TESTS,
        "slice-day60",
    ),
    Mutant(
        "gains-no-chain-rule",
        "engine",
        "resiliopt/simulation/scenario.py",
        "return grad[self.cm.g_sector] * self._df_per_unit",
        "return self._df_per_unit",
        "a group's gain leaves out dF_C/df_i (every sector weighs the same)",
        ENGINE_TESTS,
        "slice",
    ),
    Mutant(
        "damage-seed-shifted",
        "sampler",
        "resiliopt/infra/damage.py",
        "return [int(seed), m, int(simulation)]",
        "return [int(seed), m, int(simulation) + 1]",
        "the infra damage draw's stream shifted by one simulation",
        DAMAGE_TESTS,
        "served-magnitude",
    ),
    Mutant(
        "damage-draw-le",
        "sampler",
        "resiliopt/infra/damage.py",
        'u < table["p"].to_numpy()',
        'u <= table["p"].to_numpy()',
        "an element fails when its uniform is <= p, not < p (equivalent: ties have probability 0)",
        DAMAGE_TESTS,
        "served-magnitude",
        equivalent=True,
    ),
    # ------------------------------------------------------------------ FAHP
    Mutant(
        "fahp-triad-index",
        "FAHP",
        "resiliopt/fahp/consistency.py",
        "return R[i, j] + R[j, k] + R[k, i] - 1.5, triads",
        "return R[i, j] + R[j, k] + R[i, k] - 1.5, triads",
        "the triad consistency index reads R_ik for R_ki",
        ("tests/test_fahp_matrix.py", "tests/test_fahp_paper.py"),
        "fahp",
    ),
]
