"""YAML reading that remembers on which line each key stands, for error messages."""

from __future__ import annotations

import re
from typing import Any

import yaml

#: Where each key or item stands: a path of keys and indexes -> 1-based line.
LineMap = dict[tuple[str | int, ...], int]


# libyaml's parser when PyYAML was built with it (about 10x faster), else the Python one.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """SafeLoader that leaves dates as strings: our models parse and check them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: LineMap, seen: set[int]) -> None:
    lines[path] = node.start_mark.line + 1
    # An alias (*name) shares its anchor's node: walk each node once, or a recursive alias
    # never ends and nested aliases (a "billion laughs") take exponential time.
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = (*path, str(key.value))
            _walk(value, sub, lines, seen)
            lines[sub] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines, seen)


def _refuse_twice_written_keys(node: yaml.MappingNode) -> None:
    keys: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
            if key.value in keys:
                message = f"'{key.value}' is written twice in the same place; keep one"
                raise YamlError(message, key.start_mark.line + 1)
            keys.add(key.value)


def _check_unique_keys(node: yaml.Node, seen: set[int]) -> None:
    """A key written twice in one mapping is an error: YAML would silently keep the last."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        _refuse_twice_written_keys(node)
        for _, value in node.value:
            _check_unique_keys(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_unique_keys(item, seen)


def load(text: str) -> tuple[Any, LineMap]:
    """Parse one YAML document; return its data and the line of every key and item."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_unique_keys(node, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or "is not valid YAML"
        line = mark.line + 1 if mark else None
        raise YamlError(_explain(problem), line) from e
    except yaml.YAMLError as e:
        raise YamlError(f"is not valid YAML ({e})", None) from e
    finally:
        loader.dispose()
    lines: LineMap = {}
    _walk(node, (), lines, set())
    return data, lines


def _explain(problem: str) -> str:
    hint = ""
    if "mapping values are not allowed" in problem:
        hint = " (a value holding ': ' must be put in quotes)"
    elif re.search(r"found character '\\t'", problem):
        hint = " (use spaces, not tabs, to indent)"
    return f"YAML error: {problem}{hint}"


class _FastLoader(_Loader):
    """Builds data straight from libyaml's events, refusing a key written twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        _refuse_twice_written_keys(node)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def load_data(text: str) -> Any:
    """Parse one YAML document without line numbers: the fast path for valid files.

    Raises YamlError, with the line where known, like :func:`load`.
    """
    try:
        return yaml.load(text, Loader=_FastLoader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError:
        load(text)  # the slow path words the error and finds its line
        raise
