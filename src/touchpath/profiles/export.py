"""CSV exports that a spreadsheet cannot run: a cell that starts with `=`, `+`, `-`, `@`, a tab
or a carriage return is prefixed with `'` (OWASP's advice against formula injection), so an
email like `=HYPERLINK(...)` stays text.

>>> safe_cell("=1+1"), safe_cell("-2"), safe_cell("ann@shop.io"), safe_cell(None)
("'=1+1", "'-2", 'ann@shop.io', None)
>>> safe_cell("+1"), safe_cell("@SUM(A1)"), safe_cell("\\tx"), safe_cell("\\rx")
("'+1", "'@SUM(A1)", "'\\tx", "'\\rx")
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

__all__ = ["safe_cell", "write_csv"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with a leading `'` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def write_csv(out: TextIO, fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Rows as CSV with a header, every cell made safe."""
    w = csv.DictWriter(out, fieldnames=list(fieldnames), extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: safe_cell(row.get(k)) for k in fieldnames})
