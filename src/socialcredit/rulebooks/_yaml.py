"""Load YAML while remembering the line of every key and item.

PyYAML's composer gives nodes with marks; we build plain Python data from them and record, for
each path (``("rules", 3, "points")``), the 1-based line where it starts. Duplicate keys, which
PyYAML would silently overwrite, are reported; keys are never read as YAML 1.1 booleans
(``on:`` stays ``"on"``).

Example:
    >>> data, lines = load_marked("id: demo\\nrules:\\n  - id: a\\n    points: -5\\n", "x.yaml")
    >>> data["rules"][0]["points"], lines[("rules", 0, "points")]
    (-5, 4)
    >>> line_of(lines, ("rules", 0, "missing_field"))
    3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from socialcredit.rulebooks.errors import Loc, RulebookFileError, format_loc

BOOL_TAG = "tag:yaml.org,2002:bool"
#: Most values one file may hold once aliases are expanded (the largest built-in has ~2,000): a
#: "billion laughs" file of nested aliases is refused instead of expanded.
MAX_NODES = 100_000

Lines = dict[Loc, int]


def load_marked(text: str, file: str, *, error: type[RulebookFileError] = RulebookFileError):
    """Parse ``text``; return ``(data, lines)``. Raises ``error`` with the line on bad YAML."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:  # a character YAML does not allow (NUL, most control characters)
        raise _not_yaml(exc, text, file, error) from None
    lines: Lines = {}
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            problem = f"not valid YAML: {exc.problem or exc.context}"
            raise error(
                file,
                line,
                "",
                problem,
                fix="check indentation and quoting on this line; a value containing ': ' must be quoted",
            ) from None
        if node is None:
            return None, {(): 1}
        return _build(loader, node, (), lines, file, error, [0]), lines
    except yaml.YAMLError as exc:  # a character YAML does not allow; a bad merge key (<<)
        raise _not_yaml(exc, text, file, error) from None
    except RecursionError:
        raise error(
            file,
            0,
            "",
            "not valid YAML: nested too deeply, or an alias that contains itself",
            fix="flatten the structure; an alias (*name) may not refer to its own anchor",
        ) from None
    finally:
        loader.dispose()


def _not_yaml(exc: yaml.YAMLError, text: str, file: str, error) -> RulebookFileError:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else text.count("\n", 0, getattr(exc, "position", 0) or 0) + 1
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return error(file, line, "", f"not valid YAML: {problem}", fix="remove the character or the construct")


def _build(
    loader: yaml.SafeLoader, node: Node, path: Loc, lines: Lines, file: str, error, count: list[int]
) -> Any:
    lines[path] = node.start_mark.line + 1
    count[0] += 1
    if count[0] > MAX_NODES:
        raise error(
            file,
            node.start_mark.line + 1,
            _render(path),
            f"more than {MAX_NODES:,} values once aliases are expanded",
            fix="write the rulebook out plainly; aliases may not multiply it",
        )
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node)
            if not isinstance(key, str | int | float | bool | None):
                raise error(
                    file,
                    key_node.start_mark.line + 1,
                    _render(path),
                    f"a key must be a plain word or number, not {type(key).__name__}",
                    fix="write the key as plain text",
                )
            if key in out:
                raise error(
                    file,
                    key_node.start_mark.line + 1,
                    _render((*path, key)),
                    f"duplicate key {key!r} (first at line {lines[(*path, key)]})",
                    fix="remove one of the two; YAML would silently keep only the last",
                )
            out[key] = _build(loader, value_node, (*path, key), lines, file, error, count)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, SequenceNode):
        return [
            _build(loader, item, (*path, i), lines, file, error, count) for i, item in enumerate(node.value)
        ]
    return _scalar(loader, node, path, file, error)


def _scalar(loader: yaml.SafeLoader, node: Node, path: Loc, file: str, error) -> Any:
    """A scalar's value; a tag that cannot be read (``!!python/...``, ``!!int x``) is an error."""
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raise error(
            file,
            node.start_mark.line + 1,
            _render(path),
            f"cannot read this value as {node.tag} ({str(exc).splitlines()[0]})",
            fix="remove the `!!` tag, or quote the value",
        ) from None


def _key(loader: yaml.SafeLoader, node: Node) -> Any:
    """A mapping key; YAML 1.1 booleans (``on``, ``yes``, ``off``) stay the words they are."""
    if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
        return node.value
    if not isinstance(node, ScalarNode):
        return node.value  # a list of nodes: refused by the caller
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, TypeError, AttributeError):
        return node.value


def _render(loc: Loc) -> str:
    return format_loc(loc)


def line_of(lines: Lines, loc: Sequence[str | int]) -> int:
    """The line of ``loc``, or of its nearest ancestor that has one (a missing field's parent)."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), 0)
