"""Fuzz suite for the damage inputs and the options of every ``infra`` command (issue 17).

**Damage files** (``--damage-file``, and ``--fail KIND:LAYER:ID``, ``--damage NAME``): valid
damage files of the toy case (tests/data/infra_toy) are mutated once (a cell made empty, NaN,
huge, of another type, an unknown element or layer, the wrong kind; a header renamed or
dropped; a line truncated; a row repeated; an empty file; binary junk; a byte-order mark;
extra columns; ...) and given to ``infra served``, ``infra cascade`` and ``infra restore``.
An independent reading (:func:`meaning`) says what the file means; each command must

* accept a file that means a set of elements of the case: exit 0, exactly that set failed,
  and both certificates passing (served) / the independent plan check passing with every solve
  optimal (restore);
* refuse one that means nothing: exit 2, one line naming the file, the line (``row k (line
  k+1)`` or ``line N``) and the value, no traceback, nothing written under ``--out``.

A fixed list of about 100 mutations runs every time; a hypothesis test draws more (a fixed seed
unless ``RESILIOPT_FUZZ_RANDOM=1``; ``RESILIOPT_FUZZ_EXAMPLES=N`` for a longer run).

**Options**: every option of every ``infra`` command (read from the typer app, so a new
command or option is covered without editing this file) gets a table of values generated from
its type (words where numbers belong, nan, inf, -1, 1e309, empty, huge integers, unknown layers,
malformed compound values): each run exits 2 with one line naming the option and the value, no
traceback, nothing written; or exits 0 with an answer that passes its checks. Values that are
nonsense whatever the case (``nonsense`` in :func:`option_values`) may not exit 0. Every value
runs (none is set aside as known-mishandled); the importers' option rules (bounded numbers,
layer names, --nearest-only options) have their own tests below.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import random
import shutil
import typing
from pathlib import Path
from typing import NamedTuple

import pytest
import typer
import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from test_fuzz_infra import assert_served_certified
from test_fuzz_inputs import fuzz_settings

from resiliopt.cli import _options as opt
from resiliopt.cli import app
from resiliopt.errors import InputError
from resiliopt.infra import load_infra_case
from resiliopt.infra.damage import parse_fail_options, read_damage_file
from resiliopt.infra.importers import import_power, import_water

TOY = Path(__file__).parent / "data" / "infra_toy" / "case.yaml"
KEY = ("kind", "layer", "element")
ELEMENTS = {tuple(r) for r in load_infra_case(TOY).elements()[list(KEY)].astype(str).values.tolist()}
BOM = b"\xef\xbb\xbf"


@pytest.fixture(autouse=True)
def _one_click_command(monkeypatch):
    """Build the click command of the app once (``main`` builds it per call: about 0.1 s of
    each of the ~1500 runs here); the command is the same object every call would build."""
    built = typer.main.get_command(app)
    real = typer.main.get_command
    monkeypatch.setattr(typer.main, "get_command", lambda a: built if a is app else real(a))


IMPORT_DATA = Path(__file__).parent / "data" / "import"


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    """The toy case with a failure_probability table (magnitudes 6 and 7), for ``--magnitude``."""
    d = tmp_path_factory.mktemp("toyfp")
    raw = yaml.safe_load(TOY.read_text(encoding="utf-8"))
    raw["failure_probability"] = [
        {"magnitude": m, "kind": kind, "layer": r["layer"], "element": r[kind], "p": 0.05 * m}
        for m in (6, 7)
        for kind in ("node", "link")
        for r in raw[f"{kind}s"]
    ]
    (d / "case.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return d / "case.yaml"


# --------------------------------------------------------------------------- what a file means
def _cells(text: str, strip: str | None) -> list[list[str]] | None:
    rows = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for k, cells in enumerate(reader):
            if reader.line_num != k + 1:  # a quoted cell spans lines
                return None
            rows.append([c.strip(strip) for c in cells])
    except csv.Error:
        return None
    return rows


def _reading(data: bytes, strip: str | None) -> set[tuple[str, str, str]] | None:
    if not data.strip() or data.startswith(BOM):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    rows = _cells(text, strip)
    if not rows or sorted(rows[0]) != sorted(KEY):
        return None
    out = set()
    for cells in rows[1:]:
        if len(cells) != 3 or "" in cells:
            return None
        rec = dict(zip(rows[0], cells, strict=True))
        t = (rec["kind"], rec["layer"], rec["element"])
        if t not in ELEMENTS:
            return None
        out.add(t)
    return out


def meaning(data: bytes) -> tuple[set | None, set | None]:
    """What a damage file means, read apart from resiliopt: UTF-8 without a byte-order mark,
    the header a permutation of kind, layer, element, then rows of three non-empty cells naming
    an element of the case (no blank line, no cell across lines); ``None`` if it means nothing.

    Two readings: ``strict`` drops blanks and tabs around a cell, ``loose`` any white space
    (``str.strip``). A file both readings accept must be accepted with that set; a file the
    loose one refuses must be refused; in between (a cell padded with, say, a no-break space)
    either is right."""
    return _reading(data, " \t"), _reading(data, None)


# --------------------------------------------------------------------------- running a file
class Mutation(NamedTuple):
    name: str
    data: bytes
    line: int | None  # the line a refusal must name (1: the header); None: some line
    value: str | None  # a text a refusal must quote; None: nothing in particular


def _shows(line: str, value: str) -> bool:
    """The message quotes ``value`` (as typed, or escaped as ``repr`` escapes it)."""
    if not value.strip():
        return repr(value) in line or repr(value.strip()) in line
    v = value.strip()
    return v in line or repr(v)[1:-1] in line


def assert_one_line_refusal(code: int, out: str, err: str, *, hint: str = "") -> str:
    assert "Traceback" not in out + err, (hint, err)
    assert code == 2, (hint, code, out[-1500:], err)
    lines = err.strip("\n").splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), (hint, err)
    return lines[0]


def check_damage_refusal(code, out, err, path: Path, m: Mutation) -> None:
    line = assert_one_line_refusal(code, out, err, hint=m.name)
    assert str(path) in line, ("the message does not name the file", m.name, line)
    want = f"line {m.line}" if m.line is not None else "line "
    assert want in line, (f"the message does not name {want!r}", m.name, line)
    if m.value is not None:
        assert _shows(line, m.value), (f"the message does not quote {m.value!r}", m.name, line)


def _failed(result: dict) -> set:
    return {tuple(x) for x in result.get("failed_elements", result.get("damaged_elements", []))}


def check_accepted(cmd: str, result: dict, want: set, name: str) -> None:
    assert _failed(result) == want, (name, "the failed set is not what the file says", _failed(result), want)
    if cmd == "served":
        assert_served_certified(result)
        assert result["failed"] == len(want)
    elif cmd == "cascade":
        assert result["initially_failed"] == len(want)
    elif cmd == "restore":
        assert result["check_ok"] and result["all_optimal"], (name, result["checks"])
        assert result["damaged"]["nodes"] + result["damaged"]["links"] == len(want)


COMMANDS = ("served", "cascade", "restore")
SHORT = {"restore": ["--periods", "2", "--no-plots"]}  # a short horizon, no plots


def run_damage(run_cli, case: Path, work: Path, m: Mutation, commands=COMMANDS, answer: int = 0) -> str:
    """Run ``m`` through ``commands``; returns "accepted" or "refused" (for hypothesis' events).

    A file that must be refused goes through every command (one reader: each refuses it) with
    an ``--out`` that must stay unwritten; a valid file through ``commands[answer % n]`` alone,
    without ``--out`` (the answers take the time)."""
    path = work / "my damage.csv"  # a blank in the name: the message quotes the path as given
    path.write_bytes(m.data)
    strict, loose = meaning(m.data)
    if strict is not None:
        commands = (commands[answer % len(commands)],)
    said = set()  # (exit code, message): the same from every command (one reader)
    for cmd in commands:
        out = work / f"out-{cmd}"
        if out.exists():
            shutil.rmtree(out)
        where = [] if strict is not None else ["--out", out]
        code, so, se = run_cli(
            "infra", cmd, case, "--damage-file", path, *where, "--json", *SHORT.get(cmd, [])
        )
        if code == 0:
            assert loose is not None, (m.name, cmd, "accepted a file that means nothing", m.data[:200])
            check_accepted(cmd, json.loads(so), loose if strict is None else strict, m.name)
        else:
            assert strict is None, (m.name, cmd, "refused a valid file", m.data[:200], se)
            check_damage_refusal(code, so, se, path, m)
            assert not out.exists(), (m.name, cmd, "a refused run wrote its --out")
        said.add((code, se.strip() if code else ""))
    assert len(said) == 1, (m.name, "the commands disagree", said)
    return "accepted" if code == 0 else "refused"


# --------------------------------------------------------------------------- the mutations
BASES = {
    "two": (list(KEY), [["node", "power", "A"], ["link", "water", "ST"]]),
    "one": (list(KEY), [["node", "water", "T"]]),
    "five": (
        list(KEY),
        [
            ["node", "power", "A"],
            ["link", "power", "GA"],
            ["node", "water", "T"],
            ["link", "water", "SU"],
            ["node", "power", "C"],
        ],
    ),
    "reordered": (["element", "kind", "layer"], [["B", "node", "power"], ["TU", "link", "water"]]),
}
HUGE_INT = "9" * 40
CELLS = [
    "",
    " ",
    "nan",
    "NaN",
    "1e309",
    "-1e309",
    HUGE_INT,
    "1.5",
    "-1",
    "0",
    "true",
    "None",
    "null",
    "ZZ",  # no such element
    "sewer",  # no such layer
    "NODE",
    "nod",
    "po\x00wer",
    "\u00e9l\u00e9ment",
    "[bold]A[/bold]",
]


def _text(header, rows, sep=",", eol="\n") -> bytes:
    return "".join(sep.join(r) + eol for r in [header, *rows]).encode("utf-8")


def _cell(base: str, k: int, col: str, value: str) -> Mutation:
    header, rows = BASES[base]
    rows = [list(r) for r in rows]
    j = header.index(col)
    rows[k][j] = value
    return Mutation(f"{base}: row {k + 1} {col} = {value!r}", _text(header, rows), k + 2, value)


def _structure(base: str, op: str, k: int = 0, j: int = 0) -> Mutation:
    """One change to the lines of a base file (``k`` a data row, ``j`` a column)."""
    header, rows = BASES[base]
    header, rows = list(header), [list(r) for r in rows]
    k, j = k % len(rows), j % len(header)
    name, line, value = f"{base}: {op} (row {k + 1}, column {j + 1})", k + 2, None
    if op == "rename":
        header[j] = value = header[j][:-1] + header[j][-1].upper()
        line = 1
    elif op == "typo":
        header[j] = value = header[j] + "s"
        line = 1
    elif op == "dropcolumn":
        value = header.pop(j)
        for r in rows:
            r.pop(j)
        line = 1
    elif op == "dupcolumn":
        header[j] = value = header[(j + 1) % len(header)]
        line = 1
    elif op == "noheader":
        header, line = rows.pop(0), 1
    elif op == "extracolumn":
        header.append(value := "note")
        for r in rows:
            r.append("x")
        line = 1
    elif op == "extracell":
        rows[k].append("x")
    elif op == "missingcell":
        rows[k].pop(j)
    elif op == "duprow":
        rows.insert(k, list(rows[k]))
        line = None  # nothing to refuse
    elif op == "reverse":
        rows.reverse()
        line = None
    elif op == "blankline":
        rows.insert(k, [])
    elif op == "pad":
        rows[k] = [f"  {c}\t" for c in rows[k]]
        line = None
    elif op == "quote":
        rows[k] = [f'"{c}"' for c in rows[k]]
        line = None
    elif op == "openquote":
        rows[k][j] = '"' + rows[k][j]
    elif op == "crlf":
        return Mutation(name, _text(header, rows, eol="\r\n"), None, None)
    elif op == "semicolon":
        return Mutation(name, _text(header, rows, sep=";"), 1, None)
    elif op == "tab":
        return Mutation(name, _text(header, rows, sep="\t"), 1, None)
    elif op == "bom":
        return Mutation(name, BOM + _text(header, rows), 1, None)
    elif op == "noeol":
        return Mutation(name, _text(header, rows)[:-1], None, None)
    elif op == "trailingblank":
        return Mutation(name, _text(header, rows) + b"\n", len(rows) + 2, None)
    elif op == "headeronly":
        return Mutation(name, _text(header, []), None, None)
    elif op == "latin1":
        rows[k][j] = "\u00e9"
        return Mutation(name, _text(header, rows).replace("\u00e9".encode(), b"\xe9"), k + 2, None)
    else:  # pragma: no cover - a typo in the tables below
        raise ValueError(op)
    return Mutation(name, _text(header, rows), line, value)


def _truncate(base: str, k: int, keep: int) -> Mutation:
    """Row ``k`` cut after ``keep`` characters (the rows after it kept)."""
    header, rows = BASES[base]
    lines = [",".join(r) for r in [header, *rows]]
    lines[k + 1] = lines[k + 1][:keep]
    data = "\n".join(lines).encode()
    return Mutation(f"{base}: row {k + 1} cut to {lines[k + 1]!r}", data, k + 2, None)


WHOLE_FILES = [
    Mutation("empty file", b"", 1, None),
    Mutation("only a line break", b"\n", 1, None),
    Mutation("only blanks", b"  \n\t\n", 1, None),
    Mutation("binary junk", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", 1, None),
    Mutation("junk after the header", b"kind,layer,element\n\xff\xfe\xfd\n", 2, None),
    Mutation("a zip file", b"PK\x03\x04\x14\x00\x00\x00\x08\x00\xb7\x8b", 1, None),
    Mutation("UTF-16", "kind,layer,element\nnode,power,A\n".encode("utf-16"), 1, None),
    Mutation("a YAML file", b"- {kind: node, layer: power, element: A}\n", 1, None),
    Mutation("a JSON file", b'[["node", "power", "A"]]\n', 1, None),
]
ROW_OPS = ["extracell", "missingcell", "duprow", "blankline", "pad", "quote", "openquote", "latin1"]
FILE_OPS = [
    "rename",
    "typo",
    "dropcolumn",
    "dupcolumn",
    "noheader",
    "extracolumn",
    "reverse",
    "crlf",
    "semicolon",
    "tab",
    "bom",
    "noeol",
    "trailingblank",
    "headeronly",
]


def fixed_mutations() -> list[Mutation]:
    """About 100 mutations, the same every run (seeded choices of places)."""
    rnd = random.Random(17)
    out = []
    for value in CELLS:  # every bad cell in two of the three columns of a two-row file
        for col in rnd.sample(KEY, 2):
            out.append(_cell("two", rnd.randrange(2), col, value))
    out += [
        _cell("two", 0, "kind", "link"),  # A is a node
        _cell("two", 1, "kind", "node"),  # ST is a link
        _cell("two", 0, "layer", "water"),  # A is in power
        _cell("five", 2, "layer", "power"),  # T is in water
        _cell("five", 3, "element", "GA"),  # GA is a power link, the row says water
        _cell("one", 0, "element", "t"),  # case matters
        _cell("reordered", 1, "layer", "Water"),
        _cell("reordered", 0, "element", "S"),  # another node of power? S is water: refused
        _cell("two", 0, "element", "B"),  # another power node: a valid file
        _cell("five", 1, "element", "AB"),  # another power link: valid
        _cell("two", 1, "element", "ST "),  # a blank after the id: dropped, valid
    ]
    for base in BASES:
        for op in FILE_OPS:
            if rnd.random() < 0.45 or base == "two":
                out.append(_structure(base, op, rnd.randrange(5), rnd.randrange(3)))
    for op in ROW_OPS:
        out.append(_structure(rnd.choice(list(BASES)), op, rnd.randrange(5), rnd.randrange(3)))
    for k, keep in ((0, 0), (0, 4), (0, 8), (1, 11), (1, 5)):
        out.append(_truncate("two", k, keep))
    out += WHOLE_FILES
    return out


FIXED = fixed_mutations()


def test_the_fixed_list_is_what_it_claims():
    assert 90 <= len(FIXED) <= 130, len(FIXED)
    assert len({m.name for m in FIXED}) == len(FIXED)
    valid = [m for m in FIXED if meaning(m.data)[0] is not None]
    assert 10 <= len(valid) <= 40, [m.name for m in valid]  # both outcomes are exercised
    for header, rows in BASES.values():  # the bases themselves are valid files
        assert meaning(_text(header, rows))[0] == {
            tuple(dict(zip(header, r, strict=True))[c] for c in KEY) for r in rows
        }


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzzdamage")


@pytest.mark.parametrize("k, m", list(enumerate(FIXED)), ids=[m.name for m in FIXED])
def test_fixed_damage_mutations(run_cli, toy, work, k, m):
    run_damage(run_cli, toy, work, m, answer=k)


# --------------------------------------------------------------------------- hypothesis
CHARS = st.sampled_from(list("AaBGSTU019 .-_,;:'\"\t\\/[]*") + ["\x00", "\xa0", "\u00e9", "\u3000", "\x1f"])
HYPO_CELLS = st.one_of(
    st.sampled_from([*CELLS, "A", "B", "GA", "power", "water", "node", "link"]), st.text(CHARS, max_size=6)
)


@st.composite
def damage_mutation(draw) -> Mutation:
    base = draw(st.sampled_from(sorted(BASES)), label="base")
    header, rows = BASES[base]
    kind = draw(st.sampled_from(["cell", "cell", "cell", "structure", "truncate", "junk"]), label="kind")
    if kind == "cell":
        k = draw(st.integers(0, len(rows) - 1))
        col = draw(st.sampled_from(KEY))
        value = draw(HYPO_CELLS, label="value")
        m = _cell(base, k, col, value)
        if any(c in value for c in ',"\r\n'):  # the cell splits or quotes: no value to quote
            m = m._replace(value=None)
        return m
    if kind == "structure":
        op = draw(st.sampled_from(ROW_OPS + FILE_OPS), label="op")
        return _structure(base, op, draw(st.integers(0, 4)), draw(st.integers(0, 2)))
    if kind == "truncate":
        k = draw(st.integers(0, len(rows) - 1))
        return _truncate(base, k, draw(st.integers(0, 14)))
    data = _text(header, rows)
    at = draw(st.integers(0, len(data)), label="at")
    junk = draw(st.binary(min_size=1, max_size=8), label="junk")
    return Mutation(f"{base}: junk {junk!r} at byte {at}", data[:at] + junk + data[at:], None, None)


@fuzz_settings(30)
@given(data=st.data())
def test_fuzz_damage_files(run_cli, toy, work, data):
    m = data.draw(damage_mutation(), label="mutation")
    cmd = data.draw(st.sampled_from(COMMANDS), label="command")
    event(f"{cmd}: {run_damage(run_cli, toy, work, m, commands=(cmd,))}")


# --------------------------------------------------------------------------- --fail, --damage
def _fail_meaning(spec: str) -> tuple | None:
    parts = [p.strip() for p in spec.split(":")]
    return tuple(parts) if len(parts) == 3 and tuple(parts) in ELEMENTS else None


FAIL_SPECS = [
    "node::3",
    "::",
    "",
    ":",
    "node:power",
    "node:power:A:B",
    "a:b:c:d",
    "node:sewer:A",
    "link:power:A",
    "NODE:power:A",
    "node:power:nan",
    "node:power:1e309",
    f"node:power:{HUGE_INT}",
    "node:power:",
    ":power:A",
    "node: power :A",  # blanks around a part are dropped (as in a CSV cell)
    "link:water:ST",
]


def check_fail(run_cli, case: Path, work: Path, spec: str, cmd: str) -> None:
    out = work / f"out-fail-{cmd}"
    if out.exists():
        shutil.rmtree(out)
    code, so, se = run_cli("infra", cmd, case, "--fail", spec, "--out", out, "--json")
    want = _fail_meaning(spec)
    if code == 0:
        assert want is not None, (spec, "accepted nonsense")
        check_accepted(cmd, json.loads(so), {want}, spec)
    else:
        assert want is None, (spec, "refused a valid --fail", se)
        line = assert_one_line_refusal(code, so, se, hint=spec)
        assert "--fail" in line and repr(spec) in line, line
        assert not out.exists()


@pytest.mark.parametrize("spec", FAIL_SPECS)
def test_fail_option_forms(run_cli, toy, work, spec):
    for cmd in ("served", "cascade") if _fail_meaning(spec) is None else ("served",):
        check_fail(run_cli, toy, work, spec, cmd)


@fuzz_settings(25)
@given(
    parts=st.lists(
        st.one_of(
            st.sampled_from(["node", "link", "power", "water", "A", "ST", "GA", "T", ""]),
            st.text(CHARS, max_size=4),
        ),
        min_size=1,
        max_size=5,
    ),
    cmd=st.sampled_from(["served", "cascade"]),
)
def test_fuzz_fail_option(run_cli, toy, work, parts, cmd):
    check_fail(run_cli, toy, work, ":".join(parts), cmd)


@pytest.mark.parametrize("name", ["nope", "", " ", "a-down ", "A-DOWN", "a-down,st-cut", "none", "st-cut"])
def test_damage_option_names(run_cli, toy, work, name):
    scenarios = load_infra_case(toy).damage
    for cmd in COMMANDS:
        out = work / f"out-damage-{cmd}"
        if out.exists():
            shutil.rmtree(out)
        code, so, se = run_cli(
            "infra", cmd, toy, "--damage", name, "--out", out, "--json", *SHORT.get(cmd, [])
        )
        if code == 0:
            assert name in scenarios, (name, cmd, "accepted an unknown scenario")
            want = {tuple(r) for r in scenarios[name][list(KEY)].astype(str).values.tolist()}
            check_accepted(cmd, json.loads(so), want, name)
        else:
            assert name not in scenarios, se
            line = assert_one_line_refusal(code, so, se, hint=name)
            assert "--damage" in line and repr(name) in line and "case.yaml" in line, line
            assert not out.exists()


# --------------------------------------------------------------------------- regressions
def test_regressions_found_by_this_fuzz(tmp_path, run_cli, toy):
    """Each refused at exit 2 with the file / option, the line and the value (before: see the
    comments)."""
    case = load_infra_case(toy)
    f = tmp_path / "d.csv"
    for data, location, needle in [
        (b"", "line 1 (header)", "empty file"),  # before: no line
        (BOM + b"kind,layer,element\nnode,power,A\n", "line 1 (header)", "byte-order mark"),  # '\ufeffkind'
        (b"kind,layer,element\nnode,power,A\nnode,water,\xe9\n", "line 3", "b'\\xe9'"),  # no line, no byte
    ]:
        f.write_bytes(data)
        with pytest.raises(InputError) as exc:
            read_damage_file(case, f)
        assert exc.value.location == location and needle in exc.value.message and exc.value.file == str(f)
    # --fail names the whole value (before: "--fail[0]: unknown layer ''")
    with pytest.raises(InputError) as exc:
        parse_fail_options(case, ["node::3"])
    assert exc.value.location == "--fail[0] 'node::3'"
    assert parse_fail_options(case, [" node : power : A"]).values.tolist() == [["node", "power", "A"]]
    # --damage '' was "no damage" with exit 0; an unknown name did not name --damage
    for name in ("", "nope"):
        code, _, err = run_cli("infra", "served", toy, "--damage", name)
        assert code == 2 and "--damage" in err and f"unknown damage scenario {name!r}" in err
    # a missing --damage-file did not name the option
    code, _, err = run_cli("infra", "cascade", toy, "--damage-file", tmp_path / "nope.csv")
    assert code == 2 and "--damage-file" in err and "no such file" in err
    code, _, err = run_cli("infra", "cascade", toy, "--damage-file", tmp_path)
    assert code == 2 and "--damage-file" in err and "is a folder" in err
    code, _, err = run_cli("infra", "cascade", toy, "--damage-file", "/dev/null")
    assert code == 2 and "--damage-file: '/dev/null' is not a regular file" in err
    # a backup of capacity 1e300 reached HiGHS: objective 0, the plan check failed, exit 1
    code, _, err = run_cli("infra", "restore", toy, "--magnitude", "6", "--backup", "power:1:1e300")
    assert code == 2 and "'power:1:1e300'" in err and "<= 1e+12" in err
    code, _, err = run_cli("infra", "restore", toy, "--magnitude", "6", "--v", "1e13")
    assert code == 2 and "'1e13'" in err
    assert opt.QUANTITY_MAX == __import__("resiliopt.schemas").schemas.LIMIT  # one limit


# --------------------------------------------------------------------------- options
def infra_commands() -> list[tuple[str, typer.main.click.Command]]:
    """(path below ``infra``, click command) of every ``infra`` command, nested groups too."""
    found = []

    def walk(group, prefix):
        for name, cmd in sorted(group.commands.items()):
            if hasattr(cmd, "commands"):
                walk(cmd, [*prefix, name])
            else:
                found.append((" ".join([*prefix, name]), cmd))

    walk(typer.main.get_command(app).commands["infra"], [])
    return found


#: valid arguments and options of each command, before the option under test is added or
#: replaced (an ``infra`` command not listed gets ``x`` per argument, and only its typed
#: options are required to name themselves; see test_every_infra_command_has_a_base)
BASE = {
    "import water": ["{inp}"],
    "import power": ["{m}"],
    "import couple": ["{water}", "{power}", "--table", "{links}"],
    "validate": ["{case}"],
    "schema": [],
    "served": ["{case}", "--magnitude", "6"],
    "cascade": ["{case}", "--magnitude", "6"],
    "criticality": ["{case}", "--k", "0"],
    "restore": ["{case}", "--magnitude", "6", "--periods", "2", "--no-plots"],
    "simulate": [
        "{case}",
        *("--magnitudes", "6", "--v", "2", "--simulations", "2", "--workers", "1"),
        *("--no-plots", "--no-progress"),
    ],
}


@pytest.fixture(scope="module")
def inputs(toy, tmp_path_factory) -> dict[str, str]:
    """What the ``{...}`` of :data:`BASE` stand for: the toy case, the import tests' small
    EPANET and MATPOWER files, a water and a power case imported from them, a linking table."""
    d = tmp_path_factory.mktemp("imported")
    import_water(IMPORT_DATA / "tiny.inp", d / "water")
    import_power(IMPORT_DATA / "tiny.m", d / "power", layout="kamada-kawai")
    return {
        "case": str(toy),
        "inp": str(IMPORT_DATA / "tiny.inp"),
        "m": str(IMPORT_DATA / "tiny.m"),
        "water": str(d / "water"),
        "power": str(d / "power"),
        "links": str(IMPORT_DATA / "links_ok.csv"),
    }


#: the damage sources of which ``restore`` takes exactly one
SOURCES = {"--damage", "--damage-file", "--magnitude", "--fail"}

NUMBER_NONSENSE = ["abc", "nan", "NaN", "inf", "-inf", "1e309", "-1e309", "", " ", "0x10", "1,5", "six"]
NUMBER_ODD = ["-1", "0", "1e300"]  # nonsense for some options only
BACKUPS = [
    "a:b:c:d",
    "power:1",
    "power:1:nan",
    "sewer:1:50",
    ":1:5",
    "power::5",
    "power:1.5:5",
    "power:1e309:5",
    "power:1:-5",
    f"power:{HUGE_INT}:5",
    "power:1:5:6:7",
    "power:1:1e309",
    "power:1:inf",
    "power:1:1e300",
    "power:1:5:1e300",
    "",
]
NAMES = ["sewer", ",", "power,power", "", "power,sewer", "power,,", ",water"]


def _path_values(work: Path) -> dict[str, list[str]]:
    junk = work / "junk.bin"
    junk.write_bytes(b"\x00\xff junk")
    afile = work / "a file"
    afile.write_text("mine")
    return {
        # (more forms of these two in test_fail_option_forms and test_damage_option_names)
        "--damage": ["nope", "", "a-down,st-cut"],
        "--fail": ["node::3", "", "node:sewer:A", "a:b:c:d"],
        "--damage-file": [str(work / "nope.csv"), str(work), "", str(junk)],
        "--out": [str(afile), "", str(afile / "sub")],
        "--scheduler": ["nonsense"],
        "--published": ["nope", "", str(afile)],
        "--table": [str(work / "nope.csv"), str(work), "", str(junk), str(afile)],
        "--nearest": [
            "power:bus",
            "a,b,c",
            "",
            "sewer:bus,water:pump",
            "power:bus,water:nope",
            ",",
            "power:bus,power:bus",
        ],
        "--pattern": ["nope", "", "MEAN"],
        "--layout": ["nope", "", "kamada"],
        "--frame": ["nope", "", "SAME"],
        "--layer": ["", " ", "a:b", "a,b"],
        "--type": ["", "nope"],
    }


ODD_STRINGS = {"--scheduler": [""], "--name": ["", " ", "a/b", ".."]}


def option_values(cmd, p, work: Path) -> list[tuple[str, bool]]:
    """(value, must it be refused) for option ``p`` of ``cmd``, from its parser or its name."""
    info = inspect.signature(inspect.unwrap(cmd.callback)).parameters[p.name].default
    f = getattr(info, "parser", None)
    kind = typing.get_type_hints(inspect.unwrap(cmd.callback)).get(p.name)
    if isinstance(f, opt.Number):
        bad = NUMBER_NONSENSE + (["1.5", HUGE_INT] if f.kind is int else [])
        return [(v, True) for v in bad] + [(v, False) for v in NUMBER_ODD if v not in bad]
    if isinstance(f, opt.NumberList):
        bad = [v for v in NUMBER_NONSENSE if v != "1,5"] + ["6,,7", ",", "6,6", "6,nan", "6;7", "6 7", "6,"]
        return [(v, True) for v in bad] + [(v, False) for v in ["-1", "0", "6.5", "1e300", "1,5"]]
    if isinstance(f, opt.Choice):
        first = f.values[0]
        return [(v, True) for v in ["bogus", "", first.upper(), first + " ", first[:-1]]]
    if f is opt.backup_spec:
        return [(v, True) for v in BACKUPS] + [(v, False) for v in ["power:0:5", "water:2:5", "power:1:5:0"]]
    if f is opt.name_list:
        return [(v, True) for v in NAMES] + [(" power ", False)]
    known = _path_values(work)
    if p.opts[0] in known:
        return [(v, True) for v in known[p.opts[0]]] + [(v, False) for v in ODD_STRINGS.get(p.opts[0], [])]
    # an option this table does not know: a few values that may be refused or not
    return [(v, False) for v in (["", "nope"] if kind in (str, Path, list[str]) else ["nope"])]


def _value_forms(value: str) -> set[str]:
    """How a message may show ``value``: as typed, quoted, as a path, as a number, a part of it."""
    forms = {repr(value), repr(str(Path(value)))}
    if value.strip():
        forms |= {value.strip()}
    try:
        forms.add(f"{float(value):g}")
    except ValueError:
        pass
    for sep in ":,":
        if sep in value:
            for part in (q.strip() for q in value.split(sep) if q.strip() and q.strip() != value):
                forms |= _value_forms(part)
    return forms


def _tree(d: Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob("*")}


def _check_answer(name: str, out: str, folder: Path) -> None:
    """An exit-0 run of a command of :data:`BASE` passes that command's checks."""
    if name.startswith("import "):  # an importer wrote a case that loads (every rule checked)
        load_infra_case(folder)
        return
    if name == "schema" and not out.strip():
        return  # (the schemas went to the --out folder)
    result = json.loads(out)
    if name == "served":
        assert_served_certified(result)
    elif name == "restore":
        assert result["check_ok"] and result["all_optimal"], result["checks"]
    elif name == "criticality":
        assert all(r["certified"] is not False for r in result["n_minus_1"])


OPTION_CASES = [
    (name, p.opts[0])
    for name, cmd in infra_commands()
    for p in cmd.params
    if p.param_type_name == "option" and not p.is_flag and not p.hidden
]


def test_every_infra_command_has_a_base():
    names = {name for name, _ in infra_commands()}
    assert set(BASE) <= names  # no command in the table that is gone
    assert {"validate", "schema", "served", "cascade", "criticality", "restore", "simulate"} <= names
    assert len(OPTION_CASES) >= 40


def check_option_value(run_cli, inputs, tmp_path: Path, name: str, option: str, value: str, nonsense: bool):
    """Run ``infra NAME ... OPTION VALUE``: exit 2 with one line naming the option and the value,
    nothing written; or exit 0 (not for ``nonsense``) with an answer that passes its checks."""
    cmd = dict(infra_commands())[name]
    p = next(q for q in cmd.params if q.opts[0] == option)
    known = name in BASE
    base = [a.format(**inputs) for a in BASE[name]] if known else []
    if not known:
        base += ["x"] * sum(1 for q in cmd.params if q.param_type_name == "argument" and q.required)
    opts = {o for q in cmd.params for o in q.opts}
    required = {o for q in cmd.params if q.required for o in q.opts}
    args = list(base)
    if name == "restore" and option in SOURCES:  # exactly one source: the one under test
        i = args.index("--magnitude")
        del args[i : i + 2]
    if option in args:
        i = args.index(option)
        del args[i : i + 2]
    out = tmp_path / "out"
    if "--out" in opts and option != "--out" and (nonsense or "--out" in required):
        args += ["--out", str(out)]  # must stay unwritten (a value that may pass runs without)
    if "--json" in opts:
        args.append("--json")
    before = _tree(tmp_path)
    code, so, se = run_cli("infra", *name.split(), *args, option, value)
    hint = f"infra {name} {option} {value!r}"
    if code == 0:
        assert not nonsense, (hint, "accepted nonsense")
        if known:
            _check_answer(name, so, out)
        if out.exists():
            shutil.rmtree(out)
        return
    line = assert_one_line_refusal(code, so, se, hint=hint)
    if known or "Invalid value for" in line:
        # an input file or folder given by the option is named by its path, first
        as_file = line.startswith(f"error: {Path(value)}: ")
        assert as_file or any(o in line for o in p.opts), (hint, "the message does not name the option", line)
        shown = as_file or any(v in line for v in _value_forms(value))
        assert shown, (hint, "the message does not show the value", line)
    assert _tree(tmp_path) == before, (hint, "a refused run wrote something")


@pytest.mark.parametrize("name, option", OPTION_CASES, ids=[f"{n} {o}" for n, o in OPTION_CASES])
def test_option_values(run_cli, inputs, tmp_path, name, option):
    cmd = dict(infra_commands())[name]
    p = next(q for q in cmd.params if q.opts[0] == option)
    work = tmp_path / "work"
    work.mkdir()
    for value, nonsense in option_values(cmd, p, work):
        check_option_value(run_cli, inputs, tmp_path, name, option, value, nonsense)


@pytest.mark.parametrize("value", ["1e9", "1e300", "8760.5"])
def test_an_import_horizon_is_bounded(tmp_path, value):
    """Refused while the command line is read, as every number option of ``infra`` is: an
    unbounded horizon made the importer average patterns over ever more steps until the memory
    ran out. The library refuses it too, before reading the file."""
    cmd = dict(infra_commands())["import water"]
    p = next(q for q in cmd.params if q.opts[0] == "--horizon-hours")
    parser = inspect.signature(inspect.unwrap(cmd.callback)).parameters[p.name].default.parser
    with pytest.raises(typer.BadParameter, match=value):
        parser(value)
    assert parser("8760") == 8760.0
    with pytest.raises(InputError, match="out of range") as exc:
        import_water(IMPORT_DATA / "tiny.inp", tmp_path / "out", horizon_hours=float(value))
    assert exc.value.location == "--horizon-hours"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options, where",
    [
        ({"max_velocity": 1e300}, "--max-velocity"),
        ({"max_velocity": 100.5}, "--max-velocity"),
        ({"reservoir_supply": 1e13}, "--reservoir-supply"),
        ({"layer": ""}, "--layer"),
        ({"layer": " water"}, "--layer"),
        ({"layer": "a:b"}, "--layer"),
        ({"layer": "a,b"}, "--layer"),
    ],
)
def test_the_water_importer_checks_its_options_before_reading(tmp_path, options, where):
    """The library applies the rules the CLI's option types apply (a Python caller gets them
    too), before it reads the file: the file here does not exist."""
    with pytest.raises(InputError) as exc:
        import_water(tmp_path / "absent.inp", tmp_path / "out", **options)
    assert exc.value.location == where and "\n" not in str(exc.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options, where",
    [({"zero_rating": 1e300}, "--zero-rating"), ({"layer": "a:b"}, "--layer"), ({"layer": " "}, "--layer")],
)
def test_the_power_importer_checks_its_options_before_reading(tmp_path, options, where):
    for suffix in (".m", ".json"):
        with pytest.raises(InputError) as exc:
            import_power(tmp_path / f"absent{suffix}", tmp_path / "out", **options)
        assert exc.value.location == where
    assert list(tmp_path.iterdir()) == []


def test_an_imported_case_that_breaks_a_rule_names_the_output_not_a_temp_folder(tmp_path):
    """A mapping that gives a number beyond 1e12 (a huge pipe in the file, say) is refused in
    one line naming the table, row and column under the output folder; nothing is written."""
    from resiliopt.infra.importers import import_epanet, write_case

    imp = import_epanet(IMPORT_DATA / "tiny.inp")
    imp.links[1]["capacity"] = 2e13
    imp.links[2]["capacity"] = 3e13
    out = tmp_path / "out"
    with pytest.raises(InputError) as exc:
        write_case(imp, out, "infra import water")
    text = str(exc.value)
    assert "\n" not in text and ".tmp" not in text and "errors in this file" not in text, text
    assert exc.value.file == str(out / "links.csv") and "row 2" in exc.value.location, text
    assert "nothing was written" in text and "1e+12" in text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("option, value", [("--frame", "box"), ("--type", "cyber"), ("--radius", "5")])
def test_couple_options_of_nearest_are_refused_without_it(run_cli, inputs, tmp_path, option, value):
    """--frame, --type and --radius shape the --nearest rules only: given with --table alone
    they would be ignored, so they are refused (exit 2, one line naming the option)."""
    base = [inputs["water"], inputs["power"], "--table", inputs["links"], "--out", str(tmp_path / "o")]
    code, so, se = run_cli("infra", "import", "couple", *base, option, value)
    line = assert_one_line_refusal(code, so, se, hint=option)
    assert option in line and "--nearest" in line and value in line, line
    assert list(tmp_path.iterdir()) == []


def test_couple_types_are_the_schemas():
    from resiliopt.case.infra_schema import DEPENDENCY_TYPES
    from resiliopt.cli.infra_import import DEPENDENCY_TYPE, FRAME
    from resiliopt.infra.importers.couple import FRAMES

    assert DEPENDENCY_TYPE.values == DEPENDENCY_TYPES and FRAME.values == FRAMES


def test_the_cli_bounds_are_the_librarys():
    from resiliopt.cli import infra_import as cli
    from resiliopt.infra.importers import epanet

    assert cli.VELOCITY.hi == epanet.MAX_VELOCITY_MAX and cli.HORIZON.hi == epanet.HORIZON_HOURS_MAX
    assert cli.QUANTITY.hi == opt.QUANTITY_MAX
