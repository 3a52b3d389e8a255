"""YAML documents read as `yaml.safe_load` reads them, except that a date or time that does not
exist (`2004-13-45`) is a YAML error at its line instead of a Python `ValueError`."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import ScalarNode

TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """`SafeLoader` with the checked timestamp constructor below."""


def _timestamp(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        raise ConstructorError(
            None, None, f"{node.value!r} is not a real date or time ({err})", node.start_mark
        ) from None


_Loader.add_constructor(TIMESTAMP_TAG, _timestamp)


def load_yaml(text: str) -> Any:
    """The document `text` holds; `yaml.YAMLError` (with its mark) where it is not valid."""
    return yaml.load(text, Loader=_Loader)
