"""Rows (dicts) → table, JSON or CSV text."""

import csv
import io
import json


def _cell(value) -> str:
    """Lists of letters join tight (STRIDE letters), other lists with ' | '."""
    if isinstance(value, list):
        items = [_cell(v) for v in value]
        return "".join(items) if all(len(i) == 1 for i in items) else " | ".join(items)
    return "" if value is None else str(value)


def table(rows: list[dict], columns: list[str], titles: list[str] | None = None) -> str:
    """Aligned columns under a header (the column names upper-cased unless `titles` are given)."""
    titles = titles or [c.upper() for c in columns]
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(t)] + [len(row[i]) for row in cells]) for i, t in enumerate(titles)]
    lines = ["  ".join(t.ljust(w) for t, w in zip(titles, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def as_json(rows) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False)


def as_csv(rows: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    return out.getvalue()


def markdown(rows: list[dict], columns: list[str]) -> str:
    def cell(value):
        return _cell(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def render(rows: list[dict], fmt: str, columns: list[str]) -> str:
    if fmt == "json":
        return as_json(rows)
    if fmt == "csv":
        return as_csv(rows, columns)
    if fmt == "md":
        return markdown(rows, columns)
    return table(rows, columns)
