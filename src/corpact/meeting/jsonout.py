"""Exact JSON: `Decimal`s are written as JSON numbers with their exact digits, never via float.

Read it back exactly with `json.loads(text, parse_float=decimal.Decimal)`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from typing import Any


def _encode(value: Any, indent: int, level: int) -> str:
    pad = "\n" + " " * (indent * (level + 1)) if indent else ""
    end = "\n" + " " * (indent * level) if indent else ""
    sep = "," + pad if indent else ", "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = (
            json.dumps(str(k)) + ": " + _encode(v, indent, level + 1) for k, v in value.items()
        )
        return "{" + pad + sep.join(items) + end + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        return "[" + pad + sep.join(_encode(v, indent, level + 1) for v in value) + end + "]"
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, Fraction):
        return json.dumps(str(value))
    raise TypeError(f"cannot write {type(value).__name__} as exact JSON")


def _decimal_text(value: Decimal) -> str:
    """Plain notation without exponent; trailing zeros after the point are dropped."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def dumps(value: Any, indent: int = 2) -> str:
    return _encode(value, indent, 0) + "\n"
