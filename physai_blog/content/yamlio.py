"""YAML with line numbers: every key of a mapping knows the line it was written on."""

from __future__ import annotations

import yaml

from physai_blog.errors import InputError

_SCALAR_TAGS = ("null", "bool", "int", "float", "binary", "timestamp")


# libyaml's parser where PyYAML has it (front matter of hundreds of posts is parsed per build).
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):
    """SafeLoader whose scalar conversions fail as YAML errors with a position (PyYAML lets a
    bad ``!!int x`` or ``2026-13-45`` escape as a bare ValueError)."""


def _checked(tag: str, constructor):
    def construct(loader, node):
        try:
            return constructor(loader, node)
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            if tag == "timestamp":
                return node.value  # `date: 2026-13-45`: text; the key's own check says why
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} as {tag} ({exc})", node.start_mark)
    return construct


for _tag in _SCALAR_TAGS:
    _full = f"tag:yaml.org,2002:{_tag}"
    _Loader.add_constructor(_full, _checked(_tag, yaml.SafeLoader.yaml_constructors[_full]))


def load_mapping(text: str, rel: str, first_line: int = 1) -> tuple[dict, dict[str, int]]:
    """Parse a YAML mapping; return (data, {key: line}).  ``first_line`` is the file line
    of the text's first line, so that errors inside front matter name the file's own line."""
    offset = first_line - 1
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 + offset if mark else first_line
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + first_line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(rel, line, f"invalid YAML: {problem}")
    except (ValueError, OverflowError) as exc:  # e.g. "\U99999999" escapes PyYAML's checks
        line = getattr(loader, "line", 0) + 1 + offset if loader else first_line
        raise InputError(rel, line, f"invalid YAML ({exc})")
    except RecursionError:
        raise InputError(rel, first_line, "invalid YAML: nested too deeply")
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise InputError(rel, first_line, "expected a YAML mapping of `key: value` lines")
    lines = {}
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            lines[str(key_node.value)] = key_node.start_mark.line + 1 + offset
    return {str(k): v for k, v in data.items()}, lines

