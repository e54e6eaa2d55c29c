"""A safe YAML loader that notes every key given twice in one mapping: YAML itself keeps the
last one, so the first would be silently ignored. Schema files refuse them; the scenario loader
(simulator) reports them with its other problems."""
from __future__ import annotations

from typing import Any

import yaml

BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when libyaml is there


class DuplicateKeyLoader(BaseLoader):
    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[int, Any]] = []   # (line, key) of each key given again

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.constructor.ConstructorError):
                continue   # an unhashable key: the base loader says what is wrong
            if key in seen and key != "<<":   # merge keys may repeat: each one merges
                self.duplicates.append((key_node.start_mark.line + 1, key))
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load(text: str) -> tuple[Any, list[tuple[int, Any]]]:
    """The document of ``text`` and its duplicate keys, as (line, key)."""
    loader = DuplicateKeyLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()
