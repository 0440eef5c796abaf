"""Mutation test of the certificates and checks: do they catch planted bugs?

    python benchmarks/mutation.py                 # every mutant of benchmarks/mutants.py, 2 at a time
    python benchmarks/mutation.py --only NAME[,NAME...] --jobs 1
    python benchmarks/mutation.py --list          # the mutants, where, and what each plants
    python benchmarks/mutation.py --json results.json

Each mutant (``benchmarks/mutants.py``) is one realistic bug: an exact snippet of one file of
the package and its replacement. It is applied to a *temporary copy* of the checkout (the files
git knows, never the working tree), and in that copy, with ``PYTHONPATH`` pointing at it:

1. **killed by tests**: the mutant's stated test files are run (``pytest -x``); the mutant is
   killed when a test fails that passes on the unmutated code (a failing test is re-run on an
   unmutated copy once, so a test that fails anyway kills nothing);
2. **caught at run time**: the mutant's stated command on a bundled case is run. It is caught
   when it exits non-zero, or when its output says a check failed (a ``status`` other than
   ``optimal``, or ``passed``/``ok``/``certified``/``check_ok`` false anywhere in its JSON). When
   it exits 0 with every check passing, the answer is compared with the unmutated run's:
   a different answer is a **silent wrong answer** (not caught), the same answer means the
   mutant did not change this answer (for a mutant of a check: the check is weaker, the answer
   the same; nothing to catch at run time).

The table lists, per mutant: where it is, whether the tests kill it (and the first test that
fails), what the run did, and whether the answer changed. Kill rates: tests, over all mutants;
run time, over the mutants that changed the command's answer (the wrong answers a user could
get). A mutant is *equivalent* only when ``mutants.py`` declares it so, with the argument (it
changes no result at all), and the run agrees; a mutant of a check that no test kills is a
survivor, even when the command's answer is the same.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from mutants import MUTANTS, RUNS, Mutant, RunCheck  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEST_TIMEOUT = 600
RUN_TIMEOUT = 180
#: two answers agree when every number does to this relative (and absolute) tolerance
RTOL, ATOL = 1e-9, 1e-12


# ----------------------------------------------------------------------------- the copy
_SKIP = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "dist", "build"}


def tracked_files(root: Path = ROOT) -> list[str]:
    """The files of the checkout git knows (tracked, or new and not ignored); outside git, every
    file but caches and virtual environments."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [p for p in out.split("\0") if p and (root / p).is_file()]
    except (subprocess.CalledProcessError, FileNotFoundError):
        return [
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and not _SKIP.intersection(p.relative_to(root).parts)
        ]


def make_copy(dest: Path, root: Path = ROOT, files: list[str] | None = None) -> Path:
    """Copy the checkout's files into ``dest`` (created) and return it."""
    for rel in files if files is not None else tracked_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    (dest / f"{PLUGIN}.py").write_text(HYPOTHESIS_PLUGIN)
    return dest


#: loaded into pytest in the copy: hypothesis generates but does not shrink a failing example (a
#: planted bug is found as soon as one example fails; shrinking it can take minutes)
HYPOTHESIS_PLUGIN = """from hypothesis import Phase, settings

settings.register_profile(
    "mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate), database=None, print_blob=False
)
"""
PLUGIN = "_mutation_hypothesis"


def apply(copy: Path, m: Mutant) -> None:
    """Plant the mutant in the copy: the snippet must occur exactly once."""
    path = copy / m.file
    text = path.read_text()
    n = text.count(m.original)
    if n != 1:
        raise ValueError(f"{m.name}: the snippet occurs {n} times in {m.file} (must be once)")
    path.write_text(text.replace(m.original, m.replacement))


def check_applies(m: Mutant, root: Path = ROOT) -> str | None:
    """None when the mutant's snippet occurs exactly once in the checkout, else why not."""
    path = root / m.file
    if not path.is_file():
        return f"{m.file} does not exist"
    n = path.read_text().count(m.original)
    if n != 1:
        return f"the snippet occurs {n} times in {m.file}"
    if m.original == m.replacement:
        return "the replacement equals the original"
    return None


def _env(copy: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPLBACKEND"] = "Agg"
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


# ----------------------------------------------------------------------------- tests
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def run_tests(copy: Path, args: tuple[str, ...], deselect: tuple[str, ...] = (), timeout: int = TEST_TIMEOUT):
    """Run pytest in the copy; returns (failed node id or None, seconds, timed out)."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", PLUGIN]
    cmd += ["--hypothesis-profile=mutation", "-rfE", *args]
    for d in deselect:
        cmd += ["--deselect", d]
    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t, True
    took = time.perf_counter() - t
    if p.returncode == 0:
        return None, took, False
    found = _FAILED.findall(p.stdout)
    if found:
        return found[0].split(" - ")[0], took, False
    tail = (p.stdout + p.stderr).strip().splitlines()[-3:]
    return f"pytest exit {p.returncode}: {' | '.join(tail)}", took, False


def passes_on_baseline(node: str, cache: dict, base: Path) -> bool:
    """Whether the test ``node`` passes on the unmutated copy (cached)."""
    if node not in cache:
        failed, _, timed_out = run_tests(base, (node,))
        cache[node] = failed is None and not timed_out
    return cache[node]


# ----------------------------------------------------------------------------- run-time check
def run_command(copy: Path, rc: RunCheck, timeout: int = RUN_TIMEOUT) -> dict:
    """Run a check's command in the copy: exit code, its JSON output (or None), stderr's tail."""
    with tempfile.TemporaryDirectory(prefix="mut-out-") as out:
        argv = [a.replace("{out}", str(Path(out) / "run")) for a in rc.argv]
        cmd = [sys.executable, "-m", "resiliopt.cli", *argv]
        t = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=copy, env=_env(copy), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"rc": None, "json": None, "err": "timed out", "seconds": timeout}
        took = time.perf_counter() - t
        data = None
        try:
            if rc.output == "stdout":
                data = json.loads(p.stdout) if p.stdout.strip() else None
            else:
                f = Path(out) / "run" / rc.output
                data = json.loads(f.read_text()) if f.is_file() else None
        except ValueError:
            data = None
    err = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    return {
        "rc": p.returncode,
        "json": data,
        "err": err[-1][:200] if err else "",
        "seconds": took,
        "traceback": "Traceback" in p.stderr,
    }


_OK_KEYS = ("passed", "ok", "certified", "check_ok", "verified")


def failed_checks(d, path: str = "") -> list[str]:
    """Where the output says a check did not pass: a top-level ``status`` other than optimal,
    or one of :data:`_OK_KEYS` false anywhere."""
    out = []
    if isinstance(d, dict):
        if not path and d.get("status") not in (None, "optimal"):
            out.append(f"status {d['status']}")
        for k, v in d.items():
            if k in _OK_KEYS and v is False:
                out.append(f"{path}{k}" if not path else f"{path}.{k}")
            elif isinstance(v, dict | list):
                out += failed_checks(v, f"{path}.{k}" if path else k)
    elif isinstance(d, list):
        for i, v in enumerate(d):
            name = v.get("check") if isinstance(v, dict) and "check" in v else i
            out += failed_checks(v, f"{path}[{name}]")
    return out


def same(a, b) -> bool:
    """Whether two answers (nested dicts, lists, numbers, strings) agree."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=RTOL, abs_tol=ATOL)
    return a == b


def answer_parts(rc: RunCheck, data) -> dict:
    try:
        return rc.answer(data)
    except Exception as exc:  # a mutant's output may lack anything: an unreadable answer differs
        return {"unreadable": f"{type(exc).__name__}: {exc}"}


def run_verdict(rc: RunCheck, base: dict, got: dict) -> tuple[str, str, str]:
    """(caught, answer changed, detail) of a mutant's run against the unmutated run.

    caught: ``exit N`` / ``flagged`` (caught), ``silent`` (a changed answer that passes every
    check), ``-`` (the same answer, nothing to catch). answer changed: ``yes (parts)``,
    ``no``, ``unknown`` (no answer printed)."""
    if got["rc"] is None:
        return "timeout", "unknown", "the command timed out"
    if got["json"] is None:
        changed = "unknown"
    else:
        a, b = answer_parts(rc, base["json"]), answer_parts(rc, got["json"])
        diff = sorted(k for k in a.keys() | b.keys() if not same(a.get(k), b.get(k)))
        changed = f"yes ({', '.join(diff)})" if diff else "no"
    if got["rc"] != 0:
        how = "crash" if got.get("traceback") else "exit"
        said = got["err"]
        if not said and got["json"] is not None:  # the message is in the JSON printed
            said = ", ".join(failed_checks(got["json"])[:3])
        return f"{how} {got['rc']}", changed, said
    flags = failed_checks(got["json"]) if got["json"] is not None else []
    if flags:
        return "flagged", changed, ", ".join(flags[:3])
    if changed.startswith("yes"):
        return "silent", changed, ""
    return "-", changed, ""


# ----------------------------------------------------------------------------- one mutant
@dataclasses.dataclass
class Result:
    name: str
    where: str
    area: str
    killed_by: str | None  # the first failing test, or None
    tests_seconds: float
    run: str | None
    caught: str
    changed: str
    detail: str
    error: str = ""
    #: declared equivalent in mutants.py (by argument; the run says whether it held)
    declared_equivalent: bool = False

    @property
    def killed(self) -> bool:
        return self.killed_by is not None

    @property
    def caught_at_run_time(self) -> bool:
        return self.caught.startswith(("exit", "crash", "flagged", "timeout"))

    @property
    def wrong_answer(self) -> bool:
        """The command's answer changed (or it printed none): a wrong answer to catch."""
        return self.changed != "no" and self.run is not None

    @property
    def equivalent(self) -> bool:
        """Declared equivalent, and the run agrees: no test fails, the answer is the same."""
        return (
            self.declared_equivalent
            and not self.killed
            and not self.caught_at_run_time
            and (self.changed == "no")
        )

    @property
    def note(self) -> str:
        """Where the run contradicts the declaration, or a check mutant escapes the tests."""
        if self.declared_equivalent and not self.equivalent:
            return "declared equivalent, but the run tells them apart"
        return ""


def evaluate(m: Mutant, base_runs: dict, files: list[str], root: Path = ROOT, keep: bool = False) -> Result:
    """Plant ``m`` in a fresh copy, run its tests and its command, compare with the baseline."""
    where = f"{m.file}"
    tmp = Path(tempfile.mkdtemp(prefix=f"mut-{m.name}-"))
    base_dir = tmp / "base"
    try:
        copy = make_copy(tmp / "mutant", root, files)
        try:
            apply(copy, m)
        except ValueError as exc:
            return Result(m.name, where, m.area, None, 0.0, m.run, "-", "unknown", "", error=str(exc))
        caught, changed, detail = "-", "no", ""
        if m.run is not None:
            rc = RUNS[m.run]
            caught, changed, detail = run_verdict(rc, base_runs[m.run], run_command(copy, rc))
        killed_by, took, deselect, baseline_cache, error = None, 0.0, [], {}, ""
        for _ in range(5):  # a test failing on the unmutated code too kills nothing: drop it, again
            failed, t, timed_out = run_tests(copy, m.tests, tuple(deselect))
            took += t
            if timed_out:
                killed_by = "timeout"
                break
            if failed is None:
                break
            if not base_dir.exists():
                make_copy(base_dir, root, files)
            if failed.startswith("pytest exit") or "::" not in failed:
                # no failing test named (a collection error, a wrong test id): a kill only if
                # the same test list runs clean on the unmutated code
                if run_tests(base_dir, m.tests, tuple(deselect))[0] is None:
                    killed_by = failed
                else:
                    error = f"the test list fails on the unmutated code too: {failed}"
                break
            if passes_on_baseline(failed, baseline_cache, base_dir):
                killed_by = failed
                break
            deselect.append(failed)
        return Result(
            m.name, where, m.area, killed_by, took, m.run, caught, changed, detail, error, m.equivalent
        )
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def baseline_runs(names: set[str], files: list[str], jobs: int, root: Path = ROOT) -> dict:
    """Each run-time command on an unmutated copy; each must pass every check."""
    tmp = Path(tempfile.mkdtemp(prefix="mut-baseline-"))
    try:
        copy = make_copy(tmp / "base", root, files)
        with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
            futs = {n: ex.submit(run_command, copy, RUNS[n]) for n in sorted(names)}
            out = {n: f.result() for n, f in futs.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for n, r in out.items():
        bad = failed_checks(r["json"]) if r["json"] is not None else ["no JSON output"]
        if r["rc"] != 0 or bad:
            raise SystemExit(f"baseline run {n!r} does not pass: exit {r['rc']}, {bad}, {r['err']}")
        RUNS[n].answer(r["json"])  # the answer is readable (raises here, not after every mutant)
    return out


# ----------------------------------------------------------------------------- report
def table(results: list[Result]) -> str:
    lines = [
        "| mutant | where | killed by tests | caught at run time | answer changed |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        if r.error:
            lines.append(f"| `{r.name}` | `{r.where}` | harness error: {r.error} | | |")
            continue
        kill = f"yes: `{r.killed_by.split('/')[-1]}`" if r.killed else "**no**"
        if r.equivalent:
            kill = "no (equivalent)"
        if r.run is None:
            run = "no command"
        elif r.caught_at_run_time:
            run = f"yes ({r.caught}{': ' + r.detail if r.detail else ''})"
        elif r.caught == "silent":
            run = "**no: silent wrong answer**"
        else:
            run = "- (same answer)"
        lines.append(f"| `{r.name}` | `{r.where}` | {kill} | {run.replace('|', '/')} | {r.changed} |")
    return "\n".join(lines)


def rates(results: list[Result]) -> dict:
    ok = [r for r in results if not r.error]
    equivalent = [r for r in ok if r.equivalent]
    counted = [r for r in ok if not r.equivalent]
    wrong = [r for r in ok if r.wrong_answer]
    return {
        "mutants": len(ok),
        "equivalent": [r.name for r in equivalent],
        "killed_by_tests": sum(r.killed for r in counted),
        "tests_counted": len(counted),
        "wrong_answers": len(wrong),
        "caught_at_run_time": sum(r.caught_at_run_time for r in wrong),
        "survive_tests": [r.name for r in counted if not r.killed],
        "silent_wrong_answers": [r.name for r in wrong if not r.caught_at_run_time],
        "errors": [r.name for r in results if r.error],
        "notes": {r.name: r.note for r in ok if r.note},
    }


def summary(rt: dict) -> str:
    def pct(a, b):
        return f"{a}/{b} ({100.0 * a / b:.0f} %)" if b else "0/0"

    return "\n".join(
        [
            f"mutants: {rt['mutants']}, equivalent: {len(rt['equivalent'])} {rt['equivalent'] or ''}",
            f"killed by tests: {pct(rt['killed_by_tests'], rt['tests_counted'])} of the non-equivalent",
            f"wrong answers caught at run time: {pct(rt['caught_at_run_time'], rt['wrong_answers'])}",
            f"survive the tests: {rt['survive_tests']}",
            f"silent wrong answers: {rt['silent_wrong_answers']}",
        ]
        + ([f"harness errors: {rt['errors']}"] if rt["errors"] else [])
        + [f"{k}: {v}" for k, v in rt["notes"].items()]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated mutant names")
    ap.add_argument("--jobs", type=int, default=2, help="mutants run in parallel (default 2)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", action="store_true", help="keep the mutated copies (debugging)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout to copy (default: this one)")
    a = ap.parse_args(argv)
    chosen = MUTANTS
    if a.only:
        names = [n.strip() for n in a.only.split(",") if n.strip()]
        unknown = sorted(set(names) - {m.name for m in MUTANTS})
        if unknown:
            ap.error(f"unknown mutant(s) {unknown}; see --list")
        chosen = [m for m in MUTANTS if m.name in names]
    if a.list:
        for m in chosen:
            print(f"{m.name:32s} {m.area:14s} {m.file}\n    {m.description}")
        return 0
    t0 = time.perf_counter()
    root = a.root.resolve()
    files = tracked_files(root)
    base = baseline_runs({m.run for m in chosen if m.run}, files, max(1, a.jobs), root)
    print(f"baseline runs: {', '.join(sorted(base))} ({time.perf_counter() - t0:.0f} s)", flush=True)
    results: dict[str, Result] = {}
    with cf.ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        futs = {ex.submit(evaluate, m, base, files, root, a.keep): m for m in chosen}
        for f in cf.as_completed(futs):
            try:
                r = f.result()
            except Exception as exc:  # the harness failed on this mutant: say so, go on
                m = futs[f]
                r = Result(m.name, m.file, m.area, None, 0.0, m.run, "-", "unknown", "", error=repr(exc))
            results[r.name] = r
            print(
                f"[{len(results)}/{len(chosen)}] {r.name}: tests {'kill' if r.killed else 'SURVIVE'}"
                f" ({r.tests_seconds:.0f} s), run {r.caught}, answer changed {r.changed}"
                + (f" ERROR {r.error}" if r.error else ""),
                flush=True,
            )
    ordered = [results[m.name] for m in chosen]
    rt = rates(ordered)
    print()
    print(table(ordered))
    print()
    print(summary(rt))
    print(f"\n{len(chosen)} mutants in {time.perf_counter() - t0:.0f} s with --jobs {a.jobs}")
    if a.json:
        Path(a.json).write_text(
            json.dumps({"results": [dataclasses.asdict(r) for r in ordered], "rates": rt}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
