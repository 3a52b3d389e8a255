"""DuckDB's own functions, called from Ibis expressions as they are (Ibis's versions of them add
work per row, or do not exist)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir


def _one(value: Any) -> Any:  # not `name`: Ibis names an op by its `name` field
    raise NotImplementedError  # pragma: no cover - compiled to SQL, never called


def _two(value: Any, position: Any) -> Any:
    raise NotImplementedError  # pragma: no cover - compiled to SQL, never called


def _builtin(name: str, inputs: tuple[dt.DataType, ...], output: dt.DataType) -> Any:
    signature = _one if len(inputs) == 1 else _two
    return ibis.udf.scalar.builtin(name=name, signature=(inputs, output))(signature)


# `list_extract(list, position)`, 1-based, without Ibis's handling of negative indexes, which
# costs more than the lookup itself on ten million lines.
list_extract = cast(
    Callable[[ir.Value, ir.Value], ir.IntegerValue],
    _builtin("list_extract", (dt.Array(dt.int64), dt.int64), dt.int64),
)
# `getvariable(name)`: a session variable, folded to a constant when the query is planned.
integers_variable = cast(
    Callable[[str], ir.ArrayValue], _builtin("getvariable", (dt.string,), dt.Array(dt.int64))
)
integer_variable = cast(
    Callable[[str], ir.IntegerValue], _builtin("getvariable", (dt.string,), dt.int64)
)
# `divide(a, b)`: DuckDB's integer division (`a // b`), exact. Ibis compiles `//` on integers
# to FLOOR(a / b), a division in floating point; every operand here is a non-negative key,
# where truncation and floor agree.
integer_divide = cast(
    Callable[[ir.Value, ir.Value], ir.IntegerValue],
    _builtin("divide", (dt.int64, dt.int64), dt.int64),
)
