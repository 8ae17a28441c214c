"""Validate marked YAML data against a pydantic model; report problems by file, line and field.

Pydantic reports locations as tuples (``("scores", 0, "points", "base")``) that include union tags
and skip nothing; we walk the model type and the data together to turn them into the path an
author sees (``scores[0].base``), the line it sits on, and, for unknown keys, the allowed keys and
the closest match.

Example:
    >>> from socialcredit.rulebooks._yaml import load_marked
    >>> from socialcredit.rulebooks.rules import Rule
    >>> data, lines = load_marked("id: a\\nlabel: A\\ncategory: x\\npionts: 3\\n", "r.yaml")
    >>> model, errors = validate(Rule, data, lines, "r.yaml")
    >>> print(errors[0])  # doctest: +NORMALIZE_WHITESPACE
    r.yaml:4: pionts: unknown field 'pionts' — fix: did you mean 'points'?
    (remove it or fix the spelling; see docs/rulebooks.md)
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, Tag, ValidationError

from socialcredit.rulebooks._yaml import Lines, line_of
from socialcredit.rulebooks.errors import DOCS, Loc, RulebookFileError, format_loc

M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M],
    data: Any,
    lines: Lines,
    file: str,
    *,
    prefix: Loc = (),
    error: type[RulebookFileError] = RulebookFileError,
) -> tuple[M | None, list[RulebookFileError]]:
    """Validate ``data``; return ``(instance, [])`` or ``(None, errors)``."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        out = []
        for err in exc.errors():
            path, allowed = _walk(model, data, tuple(err["loc"]))
            full = prefix + path
            problem, fix = _explain(err, path, allowed)
            out.append(error(file, line_of(lines, full), format_loc(full), problem, fix=fix))
        return None, out


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _tags(tp: Any) -> dict[str, Any]:
    """Union members by tag: a ``model: Literal[...]`` field or a ``Tag(...)`` annotation."""
    out: dict[str, Any] = {}
    for member in typing.get_args(tp):
        if typing.get_origin(member) is typing.Annotated:
            for meta in typing.get_args(member)[1:]:
                if isinstance(meta, Tag):
                    out[meta.tag] = _unwrap(member)
        inner = _unwrap(member)
        is_model = isinstance(inner, type) and issubclass(inner, BaseModel)
        if is_model and "model" in inner.model_fields:
            for value in typing.get_args(inner.model_fields["model"].annotation):
                out[str(value)] = inner
    return out


def _field(model: type[BaseModel], name: str) -> Any:
    for fname, info in model.model_fields.items():
        if name in (fname, info.alias):
            return info.annotation
    return None


def _allowed(tp: Any) -> list[str] | None:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [info.alias or name for name, info in tp.model_fields.items()]
    return None


def _walk(model: type[BaseModel], data: Any, loc: Loc) -> tuple[Loc, list[str] | None]:
    """Turn a pydantic ``loc`` into the author's path; also the keys allowed at its parent."""
    tp: Any = model
    node = data
    path: list[str | int] = []
    parent: Any = None
    for seg in loc:
        tp = _unwrap(tp)
        tagged = False
        while typing.get_origin(tp) in (typing.Union, types.UnionType):
            tags = _tags(tp)
            if isinstance(seg, str) and seg in tags:
                tp, tagged = tags[seg], True
                break
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            if len(members) != 1:
                return tuple(path), None
            tp = _unwrap(members[0])
        if tagged:
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(seg, str):
            parent = tp
            path.append(seg)
            ann = _field(tp, seg)
            if ann is None:
                break
            tp, node = ann, node.get(seg) if isinstance(node, dict) else None
        elif typing.get_origin(tp) is list and isinstance(seg, int):
            tp = typing.get_args(tp)[0]
            node = node[seg] if isinstance(node, list) and seg < len(node) else None
            path.append(seg)
        elif typing.get_origin(tp) is dict and isinstance(seg, str):
            tp = typing.get_args(tp)[1]
            node = node.get(seg) if isinstance(node, dict) else None
            path.append(seg)
        else:
            break
    return tuple(path), _allowed(parent) if parent is not None else None


_FIXES = {
    "missing": "add the field",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "int_from_float": "write a whole number",
    "float_parsing": "write a number",
    "float_type": "write a number",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if it looks like a number or date)",
    "date_from_datetime_parsing": "write a date as YYYY-MM-DD",
    "date_parsing": "write a date as YYYY-MM-DD",
    "date_type": "write a date as YYYY-MM-DD",
    "list_type": "write a list, e.g. `[a, b]` or one `- item` per line",
    "dict_type": "write a mapping of `key: value` lines",
    "model_type": "write a mapping of `key: value` lines",
    "model_attributes_type": "write a mapping of `key: value` lines",
    "literal_error": "use one of the values listed",
    "too_short": "give at least one item",
    "greater_than": "use a larger value",
    "greater_than_equal": "use a larger value",
    "less_than_equal": "use a smaller value",
}


def _explain(err: dict[str, Any], path: Loc, allowed: list[str] | None) -> tuple[str, str]:
    kind = err["type"]
    msg = err["msg"].removeprefix("Value error, ")
    got = err.get("input")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else "?"
        close = difflib.get_close_matches(key, allowed or [], n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        if allowed and not close:
            hint = f"allowed here: {', '.join(allowed)} "
        return f"unknown field {key!r}", f"{hint}(remove it or fix the spelling; see {DOCS})"
    if kind == "missing":
        key = str(path[-1]) if path else "?"
        return f"missing required field {key!r}", f"add `{key}: …` (see {DOCS})"
    if kind == "string_pattern_mismatch" and "a-z0-9" in str(err.get("ctx", {}).get("pattern")):
        return (
            f"{got!r} is not a valid id",
            "ids use lowercase letters, digits, '_' and '-', and start with a letter or digit",
        )
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return msg, "set `model:` to points, factors or tiers"
    shown = f" (got {got!r})" if not isinstance(got, dict | list) else ""
    return f"{msg}{shown}", _FIXES.get(kind, f"see {DOCS}")
