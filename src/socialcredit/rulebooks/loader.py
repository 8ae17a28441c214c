"""Find, parse, validate, check and resolve rulebook files.

``load_rulebook`` raises on the first broken file (the error lists how many more problems there
are); ``lint`` collects every problem of every file. Both follow ``extends`` (a built-in id, a
sibling ``<id>.yaml``, or a relative path) and refuse cycles.

Example:
    >>> {"national", "rongcheng"} <= set(builtin_rulebooks())
    True
    >>> load_rulebook("rongcheng").chain
    ('rongcheng', 'national')
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from socialcredit.rulebooks._yaml import Lines, line_of, load_marked
from socialcredit.rulebooks.checks import Known, Problem, check_file
from socialcredit.rulebooks.errors import RulebookFileError, RulebookInvalid, format_loc
from socialcredit.rulebooks.resolve import Rulebook, resolve
from socialcredit.rulebooks.schema import RulebookFile
from socialcredit.rulebooks.validate import validate

BUILTIN_DIR = Path(__file__).with_name("builtin")
CASES_SUFFIX = ".cases.yaml"
#: Loaded rulebooks by path, with the modification times of the file and every file it extends.
_cache: dict[Path, tuple[tuple[tuple[Path, int], ...], Rulebook]] = {}


def builtin_paths() -> dict[str, Path]:
    """The built-in rulebook files by id (file stem), sorted; files may sit in subfolders of
    ``builtin/`` (``builtin/regional/suining.yaml`` is ``suining``)."""
    found: dict[str, Path] = {}
    for p in sorted(BUILTIN_DIR.rglob("*.yaml")):
        if not p.name.endswith(CASES_SUFFIX):
            found.setdefault(p.name.removesuffix(".yaml"), p.resolve())
    return dict(sorted(found.items()))


def builtin_rulebooks() -> list[str]:
    """The ids of the built-in rulebooks, sorted."""
    return list(builtin_paths())


def display(path: Path) -> str:
    """``path`` as a user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)


def locate(path_or_id: str | os.PathLike[str]) -> Path:
    """The file for a built-in id or a path.

    Raises:
        RulebookFileError: when it is neither an existing file nor a built-in id.
    """
    text = os.fspath(path_or_id)
    path = Path(text)
    if path.is_file():
        return path.resolve()
    builtin = builtin_paths()
    if text in builtin:
        return builtin[text]
    raise RulebookFileError(
        text,
        0,
        "",
        "no such rulebook file or built-in id",
        fix=f"give a path to a .yaml file or one of: {', '.join(builtin_rulebooks())}",
    )


def _parent_path(name: str, child: Path) -> Path | None:
    if name.endswith((".yaml", ".yml")) or "/" in name:
        candidate = (child.parent / name).resolve()
        return candidate if candidate.is_file() else None
    sibling = child.with_name(f"{name}.yaml")
    if sibling.is_file():
        return sibling.resolve()
    return builtin_paths().get(name)


def _errors(path: Path, lines: Lines, problems: Iterable[Problem]) -> list[RulebookFileError]:
    return [
        RulebookFileError(display(path), line_of(lines, loc), format_loc(loc), problem, fix=fix)
        for loc, problem, fix in problems
    ]


def _known(parent: Rulebook | None) -> Known:
    known = Known()
    if parent is not None:
        known.sources |= set(parent.sources)
        for version in parent.versions:
            known.scores.update(version.scores)
            known.lists |= set(version.lists)
            known.rules |= set(version.rules)
            known.measures |= set(version.measures)
    return known


def _load(path: Path, stack: tuple[Path, ...]) -> tuple[Rulebook | None, list[RulebookFileError]]:
    hit = _cache.get(path)
    if hit is not None and all(_mtime(p) == m for p, m in hit[0]):
        return hit[1], []
    shown = display(path)
    try:
        data, lines = load_marked(path.read_text("utf-8"), shown)
    except RulebookFileError as exc:
        return None, [exc]
    except UnicodeDecodeError as exc:
        return None, [
            RulebookFileError(
                shown,
                0,
                "",
                f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                fix="save the file as UTF-8",
            )
        ]
    if not isinstance(data, dict):
        return None, [
            RulebookFileError(
                shown,
                line_of(lines, ()),
                "",
                "a rulebook is a mapping of `key: value` lines",
                fix="start from the example in docs/rulebooks.md",
            )
        ]
    rf, errors = validate(RulebookFile, data, lines, shown)
    if rf is None:
        return None, errors
    parent = None
    if rf.extends is not None:
        ppath = _parent_path(rf.extends, path)
        if ppath is None:
            return None, _errors(
                path,
                lines,
                [
                    (
                        ("extends",),
                        f"cannot find rulebook {rf.extends!r} to extend",
                        "use a built-in id (" + ", ".join(builtin_rulebooks()) + "), a sibling file's id, "
                        "or a relative path to a .yaml file",
                    )
                ],
            )
        chain = (*stack, path)
        if ppath in chain:
            cycle = " → ".join(p.name for p in (*chain[chain.index(ppath) :], ppath))
            return None, _errors(
                path,
                lines,
                [(("extends",), f"extends cycle: {cycle}", "remove `extends` from one of these files")],
            )
        parent, parent_errors = _load(ppath, (*stack, path))
        if parent is None:
            return None, parent_errors
    problems = check_file(rf, inherited=_known(parent))
    if problems:
        return None, _errors(path, lines, problems)
    book = resolve(rf, parent, path)
    deps, node = [], book
    while node is not None:
        deps.append((node.path, _mtime(node.path)))
        node = node.parent
    _cache[path] = (tuple(deps), book)
    return book, []


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


def load_rulebook(path_or_id: str | os.PathLike[str]) -> Rulebook:
    """Load a rulebook by built-in id or path, with ``extends`` applied and versions resolved.

    Raises:
        RulebookInvalid: listing every problem of the first broken file (a
            :class:`~socialcredit.rulebooks.errors.RulebookFileError` with ``file``, ``line``
            and ``field`` of the first).
    """
    book, errors = _load(locate(path_or_id), ())
    if book is None:
        raise RulebookInvalid(errors)
    return book


def expand(paths: Iterable[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """``paths`` with each directory replaced by the rulebook files in it (``*.yaml`` but not
    ``*.cases.yaml``, sorted)."""
    out: list[str | os.PathLike[str]] = []
    for item in paths:
        if Path(item).is_dir():
            out += sorted(
                str(p)
                for p in Path(item).glob("*.y*ml")
                if p.suffix in (".yaml", ".yml") and not p.name.endswith(CASES_SUFFIX)
            )
        else:
            out.append(item)
    return out


def lint(paths: Iterable[str | os.PathLike[str]] | None = None) -> list[RulebookFileError]:
    """Every problem in ``paths`` (rulebook files, built-in ids or directories; default: the
    built-ins), in file order; empty when clean."""
    out: list[RulebookFileError] = []
    seen: set[str] = set()
    for item in expand(paths) if paths is not None else builtin_rulebooks():
        try:
            path = locate(item)
        except RulebookFileError as exc:
            out.append(exc)
            continue
        _, errors = _load(path, ())
        for err in errors:
            if str(err) not in seen:
                seen.add(str(err))
                out.append(err)
    return out
