"""Every bad-input rule: a message naming the cell or indicator, and exit code 2."""

import textwrap

import pytest

from resiliopt.cli import main

TREE = "cups/indicators.yaml"


def run(capsys, *args):
    code = main(list(args))
    return code, capsys.readouterr()


def matrix_file(tmp_path, body):
    p = tmp_path / "m.yaml"
    p.write_text(textwrap.dedent(body))
    return str(p)


CRIT = "criteria: [A, B, C]\n"


@pytest.mark.parametrize(
    "matrix, expected",
    [
        ("[[0.5, 0.7, 0.6], [0.3, 0.5, 0.4]]", "one row per criterion: 3 rows expected, got 2"),
        ("[[0.5, 0.7], [0.3, 0.5, 0.4], [0.4, 0.6, 0.5]]", "row 'A']: the matrix is not square"),
        (
            "[[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.6, 0.4]]",
            "row 'C', col 'C']: diagonal entry is 0.4; R_ii must be 0.5",
        ),
        (
            "[[0.5, 0.95, 0.6], [0.05, 0.5, 0.4], [0.4, 0.6, 0.5]]",
            "row 'A', col 'B']: entry 0.95 is outside the scale [0.1, 0.9]",
        ),
        (
            "[[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.5, 0.5]]",
            "row 'B', col 'C']: not complementary: R_ij + R_ji = 0.4 + 0.5 = 0.9",
        ),
        ("[[0.5, x, 0.6], [0.3, 0.5, 0.4], [0.4, 0.6, 0.5]]", "row 'A', col 'B']: entry must be a number"),
    ],
)
def test_bad_matrix_names_cell(tmp_path, capsys, matrix, expected):
    path = matrix_file(tmp_path, CRIT + f"matrix: {matrix}\n")
    code, cap = run(capsys, "fahp", path, "--json")
    assert code == 2
    assert expected in cap.err.replace("\n", "")
    assert "Traceback" not in cap.err and cap.out == ""


def test_scale_0_1_allows_extremes(tmp_path, capsys):
    body = CRIT + "scale: '0-1'\nmatrix: [[0.5, 1.0, 0.6], [0.0, 0.5, 0.4], [0.4, 0.6, 0.5]]\n"
    code, _ = run(capsys, "fahp", matrix_file(tmp_path, body), "--json")
    assert code == 0


def test_tolerance_is_configurable(tmp_path, capsys):
    m = "matrix: [[0.5, 0.7, 0.6], [0.3001, 0.5, 0.4], [0.4, 0.6, 0.5]]\n"
    assert run(capsys, "fahp", matrix_file(tmp_path, CRIT + m), "--json")[0] == 2
    code, _ = run(capsys, "fahp", matrix_file(tmp_path, CRIT + "tolerance: 0.001\n" + m), "--json")
    assert code == 0


def test_expert_matrix_location(tmp_path, capsys):
    body = CRIT + textwrap.dedent("""\
        experts:
          - [[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.6, 0.5]]
          - {name: Li, matrix: [[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.7, 0.5]]}
        """)
    code, cap = run(capsys, "fahp", matrix_file(tmp_path, body))
    assert code == 2
    assert "experts[1].matrix[row 'B', col 'C']" in cap.err


def test_a_too_small(tmp_path, capsys):
    body = CRIT + "a: 0.5\nmatrix: [[0.5, 0.7, 0.6], [0.3, 0.5, 0.4], [0.4, 0.6, 0.5]]\n"
    code, cap = run(capsys, "fahp", matrix_file(tmp_path, body))
    assert code == 2 and "at least (n-1)/2 = 1" in cap.err


def test_matrix_and_experts_both_or_neither(tmp_path, capsys):
    code, cap = run(capsys, "fahp", matrix_file(tmp_path, CRIT))
    assert code == 2 and "exactly one of 'matrix' and 'experts'" in cap.err


def test_duplicate_criterion(tmp_path, capsys):
    body = "criteria: [A, A]\nmatrix: [[0.5, 0.5], [0.5, 0.5]]\n"
    code, cap = run(capsys, "fahp", matrix_file(tmp_path, body))
    assert code == 2 and "'A' is listed twice" in cap.err


def test_missing_file(capsys):
    code, cap = run(capsys, "fahp", "no/such/file.yaml")
    assert code == 2 and "file not found" in cap.err


def case_file(
    tmp_path,
    scores="  28: -80\n  29: -80\n  30: -85\n  31: -85\n  32: 80\n  33: 85\n  34: 80\n  35: 85\n  36: 80\n",
    group='  "1.1.2": {weights: {Passengers: 0.35, Staff: 0.25, Policeman: 0.40}}\n',
    extra="",
):
    p = tmp_path / "case.yaml"
    p.write_text(
        "site: test\nlabel: T\nprovenance: illustrative\nscope: People\n"
        + extra
        + "scores:\n"
        + scores
        + "groups:\n"
        + group
    )
    return str(p)


def test_valid_small_case(tmp_path, capsys):
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path), "--json")
    assert code == 0, cap.err


@pytest.mark.parametrize(
    "scores, expected",
    [
        (
            "  28: {score: -90, category: serious}\n",
            "scores[28] (Average daily passenger flow): score -90 is outside the range of "
            "category 'serious' (-(61~80))",
        ),
        (
            "  32: {score: 55, category: critical}\n",
            "scores[32] (Number): score 55 is outside the range of category 'critical' (81~100)",
        ),
        ("  32: {score: 70, sign: negative}\n", "scores[32] (Number): score 70 contradicts sign"),
        ("  33: 101\n", "scores[33] (Location): score 101 is outside [-100, 100]"),
        ("  999: 50\n", "scores[999]: there is no level-6 indicator number 999"),
    ],
)
def test_bad_score_names_indicator(tmp_path, capsys, scores, expected):
    base = "  28: -80\n  29: -80\n  30: -85\n  31: -85\n  32: 80\n  33: 85\n  34: 80\n  35: 85\n  36: 80\n"
    nums = {line.split(":")[0] for line in scores.splitlines()}
    kept = "".join(line + "\n" for line in base.splitlines() if line.split(":")[0] not in nums)
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, scores=kept + scores))
    assert code == 2
    assert expected in cap.err.replace("\n", "")


def test_missing_score(tmp_path, capsys):
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, scores="  28: -80\n"))
    assert code == 2 and "no score for 8 level-6 indicator(s), first: 29" in cap.err


def test_missing_group(tmp_path, capsys):
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, group="  {}\n"))
    assert code == 2 and "no weights for the children of 'People' (1.1.2)" in cap.err


def test_group_without_weights(tmp_path, capsys):
    g = (
        '  "1.1.2": {weights: {Passengers: 0.35, Staff: 0.25, Policeman: 0.40}}\n'
        '  "1.1": {matrix: [[0.5, 0.5], [0.5, 0.5]]}\n'
    )
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, group=g))
    assert code == 2 and "outside the scope '1.1.2': only 'weights'" in cap.err


def test_weights_not_summing_to_one(tmp_path, capsys):
    g = '  "1.1.2": {weights: {Passengers: 0.5, Staff: 0.25, Policeman: 0.40}}\n'
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, group=g))
    assert code == 2 and "weights sum to 1.15, not 1" in cap.err


def test_wrong_criteria_in_group(tmp_path, capsys):
    g = (
        '  "1.1.2":\n    criteria: [Passengers, Staff, Floors]\n'
        "    matrix: [[0.5, 0.6, 0.4], [0.4, 0.5, 0.3], [0.6, 0.7, 0.5]]\n"
    )
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, group=g))
    assert code == 2
    assert "groups['1.1.2'].criteria[2]: 'Floors' is not a child of 'People'" in cap.err


def test_bad_matrix_in_case_names_group_and_cell(tmp_path, capsys):
    g = '  "1.1.2":\n    matrix: [[0.5, 0.6, 0.4], [0.4, 0.5, 0.3], [0.6, 0.6, 0.5]]\n'
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, group=g))
    assert code == 2
    assert "groups['1.1.2'].matrix[row 'Staff', col 'Policeman']: not complementary" in cap.err


def test_unknown_field(tmp_path, capsys):
    code, cap = run(capsys, "assess", TREE, case_file(tmp_path, extra="colour: red\n"))
    assert code == 2 and "colour: unknown field" in cap.err


def test_tree_with_uneven_leaves(tmp_path, capsys):
    t = tmp_path / "t.yaml"
    t.write_text(
        "name: t\nroot:\n  name: R\n  children:\n"
        "    - {name: A, children: [{name: a1, number: 1}]}\n    - {name: B, number: 2}\n"
    )
    code, cap = run(capsys, "assess", str(t), case_file(tmp_path))
    assert code == 2 and "'B' is a leaf at level 2, but leaves must all be at level 3" in cap.err
