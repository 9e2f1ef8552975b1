"""Markdown tables: the one way the kit's result objects print as a table (and render in Jupyter).

Example
-------
>>> from dip_teach.tables import markdown_table
>>> print(markdown_table(["method", "PSNR (dB)"], [["TV", "27.10"], ["DIP", "28.40"]], align="lr"))
| method | PSNR (dB) |
|---|---:|
| TV | 27.10 |
| DIP | 28.40 |
"""
from __future__ import annotations

from typing import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> str:
    """A Markdown table from a header and rows of cells (each cell printed with ``str``).

    Parameters
    ----------
    header : sequence of str
        The column titles.
    rows : iterable of sequences
        One sequence of cells per row, as many as the header has (format numbers before).
    align : str, optional
        One letter per column: ``"l"`` (left, the default) or ``"r"`` (right, for numbers).
    """
    align = "l" * len(header) if align is None else align
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align needs one of 'l' or 'r' per column ({len(header)}), got {align!r}")
    lines = [_row(header), "|" + "".join("---:|" if a == "r" else "---|" for a in align)]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells, the header {len(header)}: {row}")
        lines.append(_row(row))
    return "\n".join(lines)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
