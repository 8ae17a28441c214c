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

Lines = dict[Loc, int]


def load_marked(text: str, file: str, *, error: type[RulebookFileError] = RulebookFileError):
    """Parse ``text``; return ``(data, lines)``. Raises ``error`` with the line on bad YAML."""
    loader = yaml.SafeLoader(text)
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
        return _build(loader, node, (), lines, file, error), lines
    finally:
        loader.dispose()


def _build(loader: yaml.SafeLoader, node: Node, path: Loc, lines: Lines, file: str, error) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node)
            if key in out:
                raise error(
                    file,
                    key_node.start_mark.line + 1,
                    _render((*path, key)),
                    f"duplicate key {key!r} (first at line {lines[(*path, key)]})",
                    fix="remove one of the two; YAML would silently keep only the last",
                )
            out[key] = _build(loader, value_node, (*path, key), lines, file, error)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*path, i), lines, file, error) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def _key(loader: yaml.SafeLoader, node: Node) -> Any:
    """A mapping key; YAML 1.1 booleans (``on``, ``yes``, ``off``) stay the words they are."""
    if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
        return node.value
    return loader.construct_object(node, deep=True)


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
