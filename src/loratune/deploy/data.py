"""A whole data file as one evaluation split, in a saved adapter's prompt format.

Rows are read by `loratune.tasks.userdata` (the same parser, the same line-numbered errors
as training data); unlike `load_user_task` nothing is shuffled, split or de-duplicated: every
row is one example, as a test set should be.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loratune.deploy.prompts import format_input
from loratune.errors import LoratuneError
from loratune.tasks import Example
from loratune.tasks.userdata import (
    DATA_SUFFIXES,
    LABEL_COLUMNS,
    TEXT_COLUMNS,
    _pick,
    _rows,
    files_by_split,
)


def _columns(first: dict[str, object], kind: str, path: Path) -> tuple[str, str]:
    """(input column, answer column). Either shape is accepted for either kind: the input
    goes through the adapter's prompt format, the answer is compared by the task's metric."""
    if "prompt" in first and "completion" in first:
        return "prompt", "completion"
    text, label = _pick(first, TEXT_COLUMNS), _pick(first, LABEL_COLUMNS)
    if text is None or label is None:
        want = "text/label" if kind == "classification" else "prompt/completion"
        raise LoratuneError(f"{path}: need {want} columns, found {', '.join(first)}")
    return text, label


def read_examples(data_file: str | Path, task: Mapping[str, Any]) -> tuple[Example, ...]:
    """Every row of `data_file` as an Example in the adapter's prompt format.

    A classification row whose label the adapter does not know is refused: it could never
    be answered right, and counting it wrong would blame the adapter for the file.
    """
    path = Path(data_file)
    if path.is_dir():
        # A held-out file is what one evaluates: name the test file, then validation, then any.
        found = files_by_split(path)
        named = found.get("test") or found.get("validation")
        others = sorted(f for f in path.iterdir() if f.suffix.lower() in DATA_SUFFIXES)
        example = f" (e.g. {named or others[0]})" if named or others else ""
        raise LoratuneError(f"{path}: is a folder; evaluate reads one data file{example}")
    if not path.is_file():
        raise LoratuneError(f"data file not found: {path}")
    rows = _rows(path)
    kind = str(task.get("kind", "classification"))
    in_col, out_col = _columns(rows[0][1], kind, path)
    known = {str(lab) for lab in task.get("labels", [])}
    examples = []
    unknown: dict[str, int] = {}
    for n, row in rows:
        x, y = row.get(in_col), row.get(out_col)
        if not isinstance(x, str) or not isinstance(y, str) or not x.strip() or not y.strip():
            raise LoratuneError(f"{path}:{n}: {in_col!r} and {out_col!r} must be non-empty text")
        if kind == "classification" and y.strip() not in known:
            unknown.setdefault(y.strip(), n)
        examples.append(Example(format_input(task, x.strip()), y.strip()))
    if unknown:
        label, line = next(iter(unknown.items()))
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise LoratuneError(
            f"{path}:{line}: label {label!r}{more} is not one of the adapter's {len(known)} labels"
        )
    return tuple(examples)
