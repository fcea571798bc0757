"""YAML with line numbers: every key of a mapping knows the line it was written on."""

from __future__ import annotations

import yaml

from .errors import InputError


def load_mapping(text: str, rel: str, first_line: int = 1) -> tuple[dict, dict[str, int]]:
    """Parse a YAML mapping; return (data, {key: line}).  ``first_line`` is the file line
    of the text's first line, so that errors inside front matter name the file's own line."""
    offset = first_line - 1
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.load(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 + offset if mark else first_line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(rel, line, f"invalid YAML: {problem}")
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise InputError(rel, first_line, "expected a YAML mapping of `key: value` lines")
    lines = {}
    for key_node, _ in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 1 + offset
    return {str(k): v for k, v in data.items()}, lines
