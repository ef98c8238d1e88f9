"""A YAML loader that refuses documents too deep or too large once aliases are expanded.

PyYAML composes nested collections by recursion, so a few thousand ``[`` end in
RecursionError; and an alias is a reference, so eight levels of ten aliases each
(the "billion laughs") is a short file that expands to 10^8 values. A plan is a
handful of levels deep and a few hundred values long, so both are refused while
the file is composed, at the place that crosses the limit, before anything is
expanded.
"""

from __future__ import annotations

import yaml

from trustramp.errors import TrustrampError

__all__ = ["MAX_DEPTH", "MAX_VALUES", "BoundedLoader", "YamlLimitError"]

MAX_DEPTH = 100
"""Most levels of nesting a plan may have, counted through aliases (real plans: < 10)."""

MAX_VALUES = 100_000
"""Most values (scalars, lists, mappings) a plan may expand to (real plans: < 1,000)."""


class YamlLimitError(TrustrampError):
    """The document crosses MAX_DEPTH or MAX_VALUES at 1-based ``line``, ``column``."""

    code = "plan_too_large"

    def __init__(self, event: yaml.Event, reason: str) -> None:
        super().__init__(reason)
        mark = event.start_mark
        self.line, self.column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.reason = reason


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader that raises YamlLimitError instead of recursing or expanding without end.

    >>> loader = BoundedLoader("a: " + "[" * 150 + "]" * 150)
    >>> try:
    ...     loader.get_single_node()
    ... except YamlLimitError as error:
    ...     print(error.line, error.column, error.reason.split(";")[0])
    1 103 nesting deeper than 100 levels
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._values = 0  # values composed so far, each alias counted as its expansion
        self._open: list[int] = []  # per open collection: its tallest child so far
        self._extent: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # stub lacks it
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            # An alias to a collection still open (a self-reference) has no extent yet;
            # it counts as one value and the walker reports the cycle.
            values, height = self._extent.get(id(node), (1, 1))
            self._values += values
            if self._values > MAX_VALUES:
                raise YamlLimitError(event, (
                    f"the alias *{event.anchor} expands the plan past {MAX_VALUES:,} values; "
                    "a plan needs far fewer, so write the values out or anchor smaller parts"
                ))
            if len(self._open) + height > MAX_DEPTH:
                raise YamlLimitError(event, (
                    f"the alias *{event.anchor} nests the plan deeper than {MAX_DEPTH} "
                    "levels; a plan needs only a few"
                ))
            self._note_height(height)
            return node
        if len(self._open) >= MAX_DEPTH:
            raise YamlLimitError(event, (
                f"nesting deeper than {MAX_DEPTH} levels; a plan needs only a few, so look "
                "for unclosed brackets or runaway indentation"
            ))
        start = self._values
        self._open.append(0)
        try:
            node = super().compose_node(parent, index)
        finally:
            tallest_child = self._open.pop()
        self._values += 1
        if self._values > MAX_VALUES:
            raise YamlLimitError(event, (
                f"the plan holds more than {MAX_VALUES:,} values; a plan needs far fewer"
            ))
        if node is not None:
            self._extent[id(node)] = (self._values - start, tallest_child + 1)
        self._note_height(tallest_child + 1)
        return node

    def _note_height(self, height: int) -> None:
        if self._open:
            self._open[-1] = max(self._open[-1], height)
