"""Line numbers for fields of a YAML input file, so every problem can name where it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from corpact.errors import Problem


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each field of one input file sits; `root` is None for formats without marks."""

    source: str
    root: yaml.Node | None

    def line_of(self, path: Sequence[str | int]) -> int | None:
        node = self.root
        best: int | None = node.start_mark.line + 1 if node is not None else None
        for key in path:
            node = _child(node, key)
            if node is None:
                break
            best = node.start_mark.line + 1
        return best

    def problem(self, rule: str, message: str, path: Sequence[str | int]) -> Problem:
        return Problem(
            rule=rule,
            message=message,
            source=self.source,
            line=self.line_of(path),
            field=dotted(path),
        )


def dotted(path: Sequence[str | int]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None
