"""YAML text to plain Python values, keeping the line and column of every key and value.

PyYAML's ``safe_load`` forgets where things were and silently keeps the last of
two duplicate keys; a plan file needs both: positions so that every error points
at its line, and duplicate keys rejected because a second ``threshold:`` that
quietly wins is how a guardrail gets lost in review. Documents nested deeper
than ``MAX_DEPTH`` or expanding (through aliases) past ``MAX_VALUES`` values are
refused at the place that crosses the limit (see trustramp.plan.bounded_yaml).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from trustramp.plan.bounded_yaml import BoundedLoader, YamlLimitError
from trustramp.plan.errors import FieldPath, PlanError, PlanProblem, format_path

Mark = tuple[int, int]
"""A 1-based (line, column)."""

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_COLLECTIONS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


class Positions:
    """Where each field of a parsed YAML document is, by field path.

    >>> _, positions = read_yaml("feature:\\n  key: demo\\n", "p.yaml")
    >>> positions.value_at(("feature", "key")), positions.key_at(("feature", "key"))
    ((2, 8), (2, 3))
    >>> positions.value_at(("feature", "stakes"))  # absent: its nearest ancestor
    (2, 3)
    """

    def __init__(self, keys: dict[FieldPath, Mark], values: dict[FieldPath, Mark]) -> None:
        self._keys = keys
        self._values = values

    def value_at(self, path: FieldPath) -> Mark:
        """The value's start; for a path not in the file, its nearest written ancestor's."""
        for prefix in _prefixes(path):
            if prefix in self._values:
                return self._values[prefix]
        return (1, 1)

    def key_at(self, path: FieldPath) -> Mark:
        """The key's start (the value's for a list item); nearest ancestor if absent."""
        for prefix in _prefixes(path):
            if prefix in self._keys:
                return self._keys[prefix]
            if prefix in self._values:
                return self._values[prefix]
        return (1, 1)

    def __contains__(self, path: object) -> bool:
        return path in self._values


def _prefixes(path: FieldPath) -> Iterator[FieldPath]:
    for end in range(len(path), -1, -1):
        yield path[:end]


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def read_yaml(text: str, source: str) -> tuple[dict[str, Any], Positions]:
    """Parse one YAML document whose root must be a mapping; raise PlanError otherwise.

    >>> read_yaml("a: 1\\na: 2\\n", "p.yaml")
    Traceback (most recent call last):
    ...
    trustramp.plan.errors.PlanError: p.yaml:2:1: a: duplicate key 'a' ...
    """
    try:
        loader = BoundedLoader(text)
    except yaml.reader.ReaderError as error:  # the reader checks the first chunk at once
        raise PlanError([_reader_problem(error, text, source)]) from None
    try:
        try:
            root = loader.get_single_node()
        except yaml.reader.ReaderError as error:
            raise PlanError([_reader_problem(error, text, source)]) from None
        except YamlLimitError as error:
            raise PlanError([PlanProblem(source, error.line, error.column, "(plan)",
                                         error.reason)]) from None
        except yaml.MarkedYAMLError as error:
            raise PlanError([_syntax_problem(error, text, source)]) from None
        except yaml.YAMLError as error:
            raise PlanError([PlanProblem(source, 1, 1, "(plan)", f"invalid YAML: {error}")]) \
                from None
        if root is None:
            raise PlanError([PlanProblem(
                source, 1, 1, "(plan)",
                "the file is empty; expected a plan mapping with at least "
                "'feature:' and 'phases:'",
            )])
        if not isinstance(root, yaml.MappingNode):
            raise PlanError([PlanProblem(
                source, *_mark(root), "(plan)",
                f"expected a mapping of plan fields ('feature:', 'segments:', 'phases:', ...), "
                f"got {_node_kind(root)}",
            )])
        walker = _Walker(loader, source)
        value = walker.walk(root, ())
        if walker.problems:
            raise PlanError(walker.problems)
        assert isinstance(value, dict)
        return value, Positions(walker.keys, walker.values)
    finally:
        loader.dispose()


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return f"the value {node.value!r}"


def _reader_problem(error: yaml.reader.ReaderError, text: str, source: str) -> PlanProblem:
    at = int(error.position)
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    if isinstance(error.character, int):
        message = f"the character {chr(error.character)!r} is not allowed in YAML; " \
                  "expected printable text"
    else:
        message = f"invalid YAML text: {error.reason}"
    return PlanProblem(source, line, column, "(plan)", message)


def _syntax_problem(error: yaml.MarkedYAMLError, text: str, source: str) -> PlanProblem:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    what = error.problem or "invalid YAML"
    if error.context:
        what = f"{what} ({error.context})"
    message = f"YAML syntax error: {what}"
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if isinstance(error, yaml.composer.ComposerError):
        if "another document" in what:
            message = "YAML syntax error: a plan file holds one document; remove the '---' line"
    elif "block scalar" in (error.context or "") and any(op in here for op in (">=", ">", "<")):
        message += "; quote comparison operators, e.g. op: \">=\""
    elif "\t" in here:
        message += "; indent with spaces, not tabs"
    else:
        message += "; check the indentation and the brackets or quotes on this line"
    return PlanProblem(source, line, column, "(plan)", message)


class _Walker:
    """Builds plain values from the node tree, recording positions and key mistakes."""

    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.keys: dict[FieldPath, Mark] = {}
        self.values: dict[FieldPath, Mark] = {}
        self.problems: list[PlanProblem] = []
        self._open: set[int] = set()

    def walk(self, node: yaml.Node, path: FieldPath) -> Any:
        self.values.setdefault(path, _mark(node))
        if id(node) in self._open:
            self._problem(node, path, "an alias refers to itself; expected a finite value")
            return None
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if node.tag not in _PLAIN_COLLECTIONS:
            self._problem(node, path, f"unsupported tag {node.tag!r}; expected a plain "
                          "mapping or list without a '!' tag")
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)  # the third and last kind of node
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        first: dict[str, Mark] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not _is_text_key(key_node):
                continue
            key = key_node.value
            if key in first:
                line, column = first[key]
                self._problem(
                    key_node, (*path, key),
                    f"duplicate key {key!r} (first at line {line}, column {column}); "
                    "expected each key once per mapping",
                )
            else:
                first[key] = _mark(key_node)
        # Merge keys (<<: *defaults) are expanded by PyYAML's own rule, explicit keys win.
        try:
            self.loader.flatten_mapping(node)
        except yaml.constructor.ConstructorError as error:
            mark = error.problem_mark or node.start_mark
            self.problems.append(PlanProblem(
                self.source, mark.line + 1, mark.column + 1, format_path(path),
                f"cannot merge ({error.problem}); expected '<<:' to name an anchored "
                "mapping (<<: *defaults) or a list of them",
            ))
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not _is_text_key(key_node):
                if isinstance(key_node, yaml.ScalarNode):
                    shown = key_node.value
                    hint = f"got {shown!r}; quote it if it is a name: '{shown}':"
                else:
                    hint = f"got {_node_kind(key_node)}"
                self._problem(key_node, path, f"expected a text key, {hint}")
                continue
            key = key_node.value
            self.keys[(*path, key)] = _mark(key_node)
            self.values.pop((*path, key), None)  # a later duplicate's position wins
            result[key] = self.walk(value_node, (*path, key))
        return result

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        tag = node.tag.removeprefix(_YAML_TAG)
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as error:
            self._problem(node, path, f"cannot read {node.value!r} as {tag!r} "
                          f"({error.problem}); expected a plain value without a '!' tag")
        # PyYAML's constructors fail on explicit tags with whatever error the conversion
        # raises (KeyError for !!bool x, AttributeError for !!timestamp x, ...).
        except Exception:
            self._problem(node, path, f"{node.value!r} is not a valid {tag}; remove the "
                          f"'!!{tag}' tag or fix the value")
        return None

    def _problem(self, node: yaml.Node, path: FieldPath, message: str) -> None:
        self.problems.append(PlanProblem(self.source, *_mark(node), format_path(path), message))


def _is_text_key(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG
