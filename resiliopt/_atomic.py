"""Safe output: whole files, whole reports, and nothing of the user's is ever deleted or moved.

Every output folder resiliopt writes holds a small manifest, :data:`MANIFEST`, naming the
command that wrote it, the ``kind`` of output it is (what ``resiliopt report`` reads to choose
its page: docs/report.md), the files it wrote (with their SHA-256 where the files are written
once) and, optionally, the kind of each sub-folder holding another kind's output (``parts``)
and the inputs the report needs again (``inputs``: a case, an event). The rules, applied to
every ``--out`` of the command line:

* a **file** at the output path is refused (resiliopt writes a folder there and never replaces
  or moves a file it did not write);
* a **new** path or an **empty** folder is fine;
* a folder holding the **same command's** output is fine: resiliopt's own files (those in the
  manifest) are replaced; anything else in the folder (a user's notes, sub-folders) is kept;
* any other non-empty folder is refused (:class:`~resiliopt.errors.InputError`, exit 2), unless
  ``force=True``, which lets resiliopt write next to the files there and replace only files an
  earlier manifest lists. A file of the user's with the name of an output file is never
  replaced, even with ``force``. So is an output file changed since resiliopt wrote it, unless
  ``force``.

Files and folders get the ordinary permissions of the process's umask (``0o666`` / ``0o777``
minus the umask), as if written by ``open`` and ``mkdir``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from resiliopt import __version__
from resiliopt.errors import InputError

MANIFEST = ".resiliopt-output.json"
_SHOWN = 5  # foreign names quoted in a refusal


def _tmp_name(parent: Path, name: str, suffix: str = ".tmp") -> Path:
    return parent / f".{name}.{secrets.token_hex(4)}{suffix}"


def _create_file(parent: Path, name: str) -> tuple[int, Path]:
    """A new temporary file next to ``name``, mode 0o666 minus the umask (unlike mkstemp)."""
    for _ in range(100):
        tmp = _tmp_name(parent, name)
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {parent / name}")


def _create_dir(parent: Path, name: str) -> Path:
    """A new temporary folder next to ``name``, mode 0o777 minus the umask (unlike mkdtemp)."""
    for _ in range(100):
        tmp = _tmp_name(parent, name)
        try:
            os.mkdir(tmp, 0o777)
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {parent / name}")


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_file(path.parent, path.name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


# --- manifests -----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _safe_rel(rel: object) -> bool:
    """A manifest entry is a plain relative path inside the folder (never ``..`` or absolute)."""
    if not isinstance(rel, str) or not rel or "\\" in rel:
        return False
    p = PurePosixPath(rel)
    return not p.is_absolute() and ".." not in p.parts and "." not in p.parts


def default_kind(command: str) -> str:
    """The kind of output of a command that names none: the command, words joined by hyphens
    (``infra restore`` -> ``infra-restore``)."""
    return "-".join(command.split())


def _meta_ok(doc: dict) -> bool:
    kind, parts, inputs = doc.get("kind"), doc.get("parts", {}), doc.get("inputs", {})
    return (
        (kind is None or (isinstance(kind, str) and bool(kind)))
        and isinstance(parts, dict)
        and all(_safe_rel(k) and isinstance(v, str) for k, v in parts.items())
        and isinstance(inputs, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in inputs.items())
    )


def read_manifest(out: Path) -> dict | None:
    """The manifest of folder ``out``, None if it has none; InputError if it is unreadable."""
    f = out / MANIFEST
    if not f.exists():
        return None
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
        files = doc["files"]
        ok = (
            isinstance(doc.get("command"), str)
            and isinstance(files, dict)
            and all(_safe_rel(k) and (v is None or isinstance(v, str)) for k, v in files.items())
            and _meta_ok(doc)
        )
    except (OSError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise InputError(
            f"the manifest {MANIFEST} is not one resiliopt wrote (unreadable or malformed); "
            "remove it or give another --out",
            file=f,
        )
    return doc


def _meta(command: str, kind: str | None, parts: dict | None, inputs: dict | None) -> dict:
    """The manifest's record of what was written: ``kind`` (default :func:`default_kind`),
    ``parts`` (sub-folder -> kind) and ``inputs`` (name -> path or name), the last two if any."""
    meta: dict = {"kind": kind or default_kind(command)}
    if parts:
        meta["parts"] = {str(k): str(v) for k, v in sorted(parts.items())}
    if inputs:
        meta["inputs"] = {str(k): str(v) for k, v in inputs.items() if v is not None}
    if not _meta_ok(meta):
        raise ValueError(f"bad manifest record {meta!r}")  # a programming error, not an input's
    return meta


def _write_manifest(
    out: Path, command: str, files: dict[str, str | None], complete: bool, meta: dict | None = None
) -> None:
    meta = meta or _meta(command, None, None, None)
    doc = {
        "written_by": "resiliopt",
        "version": __version__,
        "command": command,
        "kind": meta["kind"],
        "complete": complete,
        **{k: meta[k] for k in ("parts", "inputs") if k in meta},
        "files": dict(sorted(files.items())),
    }
    write_text_atomic(out / MANIFEST, json.dumps(doc, indent=1) + "\n")


#: Folders being written right now (the temporary folder of :func:`atomic_directory`, the
#: folder of :func:`output_directory`), with the record their manifest will hold: a report
#: written inside the command (``--report``) reads its kind from here.
_OPEN: dict[Path, dict] = {}


@contextlib.contextmanager
def _opened(folder: Path, command: str, meta: dict) -> Iterator[None]:
    key = folder.resolve()
    _OPEN[key] = {"command": command, **meta, "files": {}}
    try:
        yield
    finally:
        _OPEN.pop(key, None)


def output_record(folder: str | Path) -> dict | None:
    """What the manifest of ``folder`` records (``command``, ``kind``, ``files``, ``parts``,
    ``inputs``), or will record while a command is writing it; None for a folder without one.
    An old manifest without ``kind`` gets its command's :func:`default_kind`."""
    folder = Path(folder)
    doc = _OPEN.get(folder.resolve())
    if doc is None:
        doc = read_manifest(folder) if folder.is_dir() else None
        if doc is None:
            return None
    return {**doc, "kind": doc.get("kind") or default_kind(doc["command"])}


def _walk(root: Path) -> list[str]:
    """Relative paths of the files under ``root`` (not the manifest, not following links)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath).relative_to(root)
        for n in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            rel = (base / n).as_posix()
            if rel != MANIFEST:
                found.append(rel)
    return sorted(found)


def _quote(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def check_output_dir(out: str | Path, command: str, force: bool = False) -> dict | None:
    """Refuse an output path that would make resiliopt replace what it did not write.

    Returns the manifest already in ``out`` (None for a new or empty folder, or a foreign
    folder accepted with ``force``). Raises :class:`InputError` naming ``--out`` otherwise.
    Call it before any work, so a bad ``--out`` is refused at once.
    """
    out = Path(out)
    where = "--out"
    shown = repr(str(out))
    if out.is_symlink() and not out.exists():
        raise InputError(f"{shown} is a broken symbolic link; give another folder", location=where)
    if out.exists() and not out.is_dir():
        raise InputError(
            f"{shown} is an existing file; resiliopt writes a folder here and never replaces or moves a file "
            "it did not write (give a new or empty folder)",
            location=where,
        )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{shown}: {str(parent)!r} is a file, not a folder", location=where)
            break
    if not out.exists() or not any(out.iterdir()):
        return None
    man = read_manifest(out)
    if man is None:
        if force:
            return None
        names = sorted(p.name for p in out.iterdir())
        raise InputError(
            f"{shown} is a folder with files resiliopt did not write ({_quote(names)}); resiliopt never "
            "deletes or moves them: give a new or empty folder (or --force to write next to them)",
            location=where,
        )
    if man["command"] != command and not force:
        raise InputError(
            f"{shown} holds the output of `resiliopt {man['command']}`, not of `resiliopt {command}`; give "
            "another folder (or --force to replace resiliopt's files there)",
            location=where,
        )
    changed = [
        rel
        for rel, digest in man["files"].items()
        if digest is not None and (out / rel).is_file() and _sha256(out / rel) != digest
    ]
    if changed and not force:
        raise InputError(
            f"{shown}: {_quote(changed)} changed since resiliopt wrote "
            f"{'it' if len(changed) == 1 else 'them'}; give another folder "
            "(or --force to replace resiliopt's files there)",
            location=where,
        )
    return man


@contextlib.contextmanager
def atomic_directory(
    out: str | Path,
    command: str,
    force: bool = False,
    *,
    kind: str | None = None,
    parts: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
) -> Iterator[Path]:
    """Yield a temporary folder; on success its files become the output ``out`` of ``command``.

    The manifest records ``kind`` (default: :func:`default_kind` of the command), ``parts``
    and ``inputs`` (module docstring); :func:`output_record` of the temporary folder gives
    them while the body runs.

    The output path is checked first (:func:`check_output_dir`). A new ``out`` appears whole
    (one rename). Into an existing folder every file is moved in by an atomic rename, files of
    an earlier output that this one does not write are removed, and nothing else is touched.
    If the body raises (or the process is interrupted), ``out`` is left as it was and the
    temporary folder is removed, so no half-written report is ever visible.
    """
    out = Path(out)
    meta = _meta(command, kind, parts, inputs)
    check_output_dir(out, command, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_dir(out.parent, out.name)
    try:
        with _opened(tmp, command, meta):
            yield tmp
        files = {rel: _sha256(tmp / rel) for rel in _walk(tmp)}
        if not out.exists():
            _write_manifest(tmp, command, files, True, meta)
            os.rename(tmp, out)
            return
        _merge(tmp, out, command, files, force, meta)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _merge(tmp: Path, out: Path, command: str, files: dict[str, str], force: bool, meta: dict) -> None:
    man = check_output_dir(out, command, force)  # again: the folder may have changed meanwhile
    old = dict(man["files"]) if man else {}
    clash = []
    for rel in files:
        dest = out / rel
        parts = PurePosixPath(rel).parents
        blocked = any((out / p).exists() and not (out / p).is_dir() for p in list(parts)[:-1])
        if blocked or (rel not in old and (dest.exists() or dest.is_symlink())) or dest.is_dir():
            clash.append(rel)
    if clash:
        raise InputError(
            f"{str(out)!r}: {_quote(clash)} already there and not written by resiliopt; resiliopt "
            "never replaces them: give a new or empty folder",
            location="--out",
        )
    # Until the last step the manifest lists old and new files: an interruption leaves a
    # folder that is still recognised as resiliopt's own.
    _write_manifest(out, command, {**old, **files}, False, meta)
    for rel in files:
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / rel, dest)
    for rel in sorted(set(old) - set(files)):
        stale = out / rel
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
            for d in stale.relative_to(out).parents:
                if str(d) != "." and (out / d).is_dir() and not any((out / d).iterdir()):
                    (out / d).rmdir()
    _write_manifest(out, command, files, True, meta)


@contextlib.contextmanager
def output_directory(
    out: str | Path,
    command: str,
    *,
    kind: str | None = None,
    parts: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
) -> Iterator[Path]:
    """An output folder written in place (a resumable run): check ``out``, record what appeared.

    For commands that write their files one by one and resume in the same folder
    (``simulate``, ``compare``, ``demo``). Nothing is created before the body writes; when it
    ends (normally or not) the manifest lists what the body added to the earlier manifest's
    files (``complete`` is false if it failed or was interrupted). No file is ever removed.
    A folder of ``simulate`` from before manifests (one with a ``run.json``) counts as a
    ``simulate`` output. ``kind``, ``parts``, ``inputs``: as :func:`atomic_directory`.
    """
    out = Path(out)
    meta = _meta(command, kind, parts, inputs)
    if command == "simulate" and (out / "run.json").is_file() and not (out / MANIFEST).exists():
        man = {"command": "simulate", "files": {"run.json": None}}
    else:
        man = check_output_dir(out, command)
    before = set(_walk(out)) if out.is_dir() else set()
    old = {k: None for k in (man["files"] if man else {})}
    finished = False
    try:
        with _opened(out, command, meta):
            yield out
        finished = True
    finally:
        added = {rel: None for rel in set(_walk(out)) - before} if out.is_dir() else {}
        if added or man is not None:  # nothing written: leave the folder as it was
            _write_manifest(out, command, {**old, **added}, finished, meta)


def add_to_manifest(out: str | Path, rel: str) -> None:
    """Record the file ``out/rel`` (written by resiliopt after the command, e.g. a report) in
    the folder's manifest, if the folder has one; the rest of its record is kept."""
    out = Path(out)
    man = read_manifest(out)
    if man is None or not (out / rel).is_file():
        return
    files = dict(man["files"])
    files[rel] = _sha256(out / rel)
    meta = _meta(man["command"], man.get("kind"), man.get("parts"), man.get("inputs"))
    _write_manifest(out, man["command"], files, bool(man.get("complete", True)), meta)
