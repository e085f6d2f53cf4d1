"""A user's own examples: JSONL or CSV with prompt/completion, or text/label, columns.

text/label rows make a classification task (the label set is read from the file);
prompt/completion rows make an extraction task scored by exact match. The file is split
by a seeded shuffle into train / validation / test, with no text in two splits.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from loratune.errors import LoratuneError
from loratune.jsonl import jsonl_objects
from loratune.tasks.base import Example, Task, format_prompt

LABEL_COLUMNS = ("label", "category", "intent", "class")
TEXT_COLUMNS = ("text", "input", "sentence")
MAX_LISTED_LABELS = 20  # beyond this, listing labels in every prompt costs more than it helps


def _rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    """(line number, row) pairs; a row that cannot be parsed is an error naming its line."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise LoratuneError(f"{path}: the file is empty")
    rows: list[tuple[int, dict[str, object]]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        rows.extend(jsonl_objects(path, text))
    elif path.suffix.lower() in (".csv", ".tsv"):
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.DictReader(text.splitlines(), delimiter=delim)
        if not reader.fieldnames:
            raise LoratuneError(f"{path}: no header row")
        for row in reader:
            n = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise LoratuneError(f"{path}:{n}: wrong number of columns")
            rows.append((n, dict(row)))
    else:
        raise LoratuneError(f"{path}: use a .jsonl or .csv file")
    if not rows:
        raise LoratuneError(f"{path}: no rows")
    return rows


def _pick(row: dict[str, object], names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in row:
            return name
    return None


# File stems that say which split a file is, not what data it holds.
_SPLIT_STEMS = {"train", "training", "test", "dev", "valid", "validation", "data", "all"}


def data_label(path: str | Path) -> str:
    """A study/task name for a data file: `user-<stem>`, or `user-<folder>` when the stem only
    names a split, so `banking77/train.csv` is `user-banking77`, not `user-train`."""
    p = Path(path)
    stem = p.stem
    if stem.lower() in _SPLIT_STEMS and p.resolve().parent.name:
        stem = p.resolve().parent.name
    return f"user-{stem}"


def load_user_task(
    data: str | Path, seed: int = 0, n_train: int = 100, n_val: int = 32, n_test: int = 200
) -> Task:
    path = Path(data)
    if not path.is_file():
        raise LoratuneError(f"data file not found: {path}")
    rows = _rows(path)
    first = rows[0][1]
    if "prompt" in first and "completion" in first:
        kind, in_col, out_col = "extraction", "prompt", "completion"
    else:
        in_col, out_col = _pick(first, TEXT_COLUMNS), _pick(first, LABEL_COLUMNS)
        if in_col is None or out_col is None:
            raise LoratuneError(
                f"{path}: need prompt/completion or text/label columns, found {', '.join(first)}"
            )
        kind = "classification"
    pairs: dict[str, str] = {}
    for n, row in rows:
        x, y = row.get(in_col), row.get(out_col)
        if not isinstance(x, str) or not isinstance(y, str) or not x.strip() or not y.strip():
            raise LoratuneError(f"{path}:{n}: {in_col!r} and {out_col!r} must be non-empty text")
        pairs.setdefault(x.strip(), y.strip())
    labels = tuple(sorted(set(pairs.values()))) if kind == "classification" else ()
    if kind == "classification" and len(labels) < 2:
        raise LoratuneError(f"{path}: a classification file needs at least 2 distinct labels")
    instruction = _instruction(kind, labels)
    items = sorted(pairs.items())
    random.Random(seed).shuffle(items)
    need = n_train + n_val + n_test
    if len(items) < n_train + 2:
        raise LoratuneError(f"{path}: {len(items)} distinct rows, need at least {n_train + 2}")
    if len(items) < need:  # small file: keep the train size, share the rest
        rest = len(items) - n_train
        n_val, n_test = rest // 3, rest - rest // 3

    def make(chunk: list[tuple[str, str]]) -> tuple[Example, ...]:
        if kind == "extraction":
            return tuple(Example(x, y) for x, y in chunk)
        return tuple(Example(format_prompt(instruction, x), y) for x, y in chunk)

    train = make(items[:n_train])
    val = make(items[n_train : n_train + n_val])
    test = make(items[n_train + n_val : n_train + n_val + n_test])
    return Task(data_label(path), kind, train, val, test, labels, source=str(path))


def _instruction(kind: str, labels: tuple[str, ...]) -> str:
    if kind == "extraction":
        return ""
    if len(labels) <= MAX_LISTED_LABELS:
        return f"Classify the text as one of: {', '.join(labels)}."
    return "Classify the text by its intent."
