"""A user's own examples: JSONL or CSV with prompt/completion, or text/label, columns.

text/label rows make a classification task (the label set is read from the file);
prompt/completion rows make an extraction task scored by exact match. The file is split
by a seeded shuffle into train / validation / test, with no text in two splits.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from pathlib import Path

from loratune.errors import LoratuneError
from loratune.jsonl import json_array_objects, jsonl_objects, read_utf8
from loratune.tasks.base import N_TEST, N_TRAIN, N_VAL, Example, Task, format_prompt

LABEL_COLUMNS = ("label", "category", "intent", "class")
TEXT_COLUMNS = ("text", "input", "sentence")
MAX_LISTED_LABELS = 20  # beyond this, listing labels in every prompt costs more than it helps
_FLAG = {"validation": "val", "test": "test"}  # the CLI option of each split's size


def _read_text(path: Path) -> str:
    """The file's text; a directory, an unreadable file or bad UTF-8 is one clear error."""
    if path.is_dir():
        raise LoratuneError(f"{path}: is a folder, not a data file")
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise LoratuneError(f"cannot read {path}: {exc.strerror}") from exc
    if not exists:
        raise LoratuneError(f"data file not found: {path}")
    if not path.is_file():  # a FIFO, a socket or a device would block or never end
        raise LoratuneError(f"{path}: not a regular file")
    return read_utf8(path)


def _rows(path: Path) -> list[tuple[int, dict[str, object]]]:
    """(line number, row) pairs; a row that cannot be parsed is an error naming its line."""
    text = _read_text(path)
    if not text.strip():
        raise LoratuneError(f"{path}: the file is empty")
    rows: list[tuple[int, dict[str, object]]] = []
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        rows.extend(json_array_objects(path, text))
    elif path.suffix.lower() in (".jsonl", ".json"):
        rows.extend(jsonl_objects(path, text))
    elif path.suffix.lower() in (".csv", ".tsv"):
        delim = "\t" if path.suffix.lower() == ".tsv" else ","
        # The csv module reads the whole text, so a quoted field may hold a line break.
        csv.field_size_limit(sys.maxsize)
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delim)
        try:
            if not reader.fieldnames:
                raise LoratuneError(f"{path}: no header row")
            names = [name.strip() for name in reader.fieldnames]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise LoratuneError(f"{path}:1: column {dupes[0]!r} appears twice in the header")
            for row in reader:
                n = reader.line_num
                if None in row or any(v is None for v in row.values()):
                    raise LoratuneError(f"{path}:{n}: wrong number of columns")
                rows.append((n, dict(row)))
        except csv.Error as exc:
            raise LoratuneError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from exc
    else:
        raise LoratuneError(f"{path}: use a .jsonl or .csv file")
    if not rows:
        raise LoratuneError(f"{path}: no rows (only a header?)")
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


# File names (stems) that a data folder's splits may have.
_SPLIT_FILES = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev"),
    "test": ("test",),
}


DATA_SUFFIXES = (".jsonl", ".json", ".csv", ".tsv")


def files_by_split(folder: Path) -> dict[str, Path]:
    """The split files a folder holds, by split ("train", "validation", "test"), first by name."""
    found: dict[str, Path] = {}
    for split, stems in _SPLIT_FILES.items():
        for f in sorted(folder.iterdir()):
            if f.stem.lower() in stems and f.suffix.lower() in DATA_SUFFIXES:
                found.setdefault(split, f)
    return found


def split_files(data: str | Path) -> dict[str, Path]:
    """A data file is the training pool; a folder holds train.* and maybe validation/test."""
    p = Path(data)
    if not p.is_dir():
        return {"train": p}
    found = files_by_split(p)
    if "train" not in found:
        raise LoratuneError(f"{p}: a data folder needs a train.jsonl or train.csv")
    return found


Pairs = list[tuple[str, str]]


def _pairs(path: Path, kind: str | None) -> tuple[str, Pairs]:
    """(kind, distinct (input, answer) pairs in file order) of one file."""
    rows = _rows(path)
    first = rows[0][1]
    if "prompt" in first and "completion" in first:
        found, in_col, out_col = "extraction", "prompt", "completion"
    else:
        in_col, out_col = _pick(first, TEXT_COLUMNS), _pick(first, LABEL_COLUMNS)
        if in_col is None or out_col is None:
            raise LoratuneError(
                f"{path}: need prompt/completion or text/label columns, found {', '.join(first)}"
            )
        found = "classification"
    if kind is not None and found != kind:
        raise LoratuneError(f"{path}: {found} rows, but the training file has {kind} rows")
    pairs: dict[str, str] = {}
    for n, row in rows:
        x, y = row.get(in_col), row.get(out_col)
        if isinstance(y, int) and not isinstance(y, bool):
            y = str(y)  # a label id (JSON number) is a label too
        if not isinstance(x, str) or not isinstance(y, str) or not x.strip() or not y.strip():
            raise LoratuneError(f"{path}:{n}: {in_col!r} and {out_col!r} must be non-empty text")
        pairs.setdefault(x.strip(), y.strip())
    return found, list(pairs.items())


def load_user_task(
    data: str | Path,
    seed: int = 0,
    n_train: int | None = N_TRAIN,
    n_val: int | None = N_VAL,
    n_test: int | None = N_TEST,
    val_data: str | Path | None = None,
    test_data: str | Path | None = None,
) -> Task:
    """A task from the user's files. Validation and test come from their own files where
    given (`val_data`, `test_data`, or validation.* / test.* in a data folder), otherwise from
    the training file by a seeded shuffle, with no input text in two splits. A size of None
    takes every row there is (for the training pool: all rows left after the other splits).
    """
    files = split_files(data)
    if val_data is not None:
        files["validation"] = Path(val_data)
    if test_data is not None:
        files["test"] = Path(test_data)
    kind, pool = _pairs(files["train"], None)
    own = {
        split: _pairs(files[split], kind)[1] for split in ("validation", "test") if split in files
    }
    held = {x for pairs in own.values() for x, _ in pairs}
    pool = [pair for pair in sorted(pool) if pair[0] not in held]  # no test text in training
    rng = random.Random(seed)
    rng.shuffle(pool)
    sizes = {"validation": n_val, "test": n_test}
    # Splits drawn from the pool: keep the training size, share what is left (a small file).
    from_pool = [split for split in ("test", "validation") if split not in own]
    if n_train is not None and from_pool:
        rest = len(pool) - n_train
        wanted = sum(len(pool) if sizes[s] is None else sizes[s] for s in from_pool)
        if rest < 2 * len(from_pool):
            raise LoratuneError(
                f"{files['train']}: {len(pool)} distinct rows, need at least "
                f"{n_train + 2 * len(from_pool)} (--n-train {n_train}, and 2 for each of "
                f"{' and '.join(from_pool)}): "
                + (
                    "pass a smaller --n-train, or --n-train all "
                    + " ".join(f"--n-{_FLAG[s]} {max(1, len(pool) // 5)}" for s in from_pool)
                    if len(pool) >= 2 + 2 * len(from_pool)  # 2 to train, 2 for each split
                    else "add rows"
                )
            )
        if wanted > rest:
            share = rest // len(from_pool)
            sizes = {s: share for s in from_pool} | {s: sizes[s] for s in own}
    split_rows: dict[str, Pairs] = {}
    for split in ("test", "validation"):
        if split in own:
            rows = sorted(own[split])
            rng.shuffle(rows)
            split_rows[split] = rows[: sizes[split]]
        else:
            take = sizes[split] if sizes[split] is not None else len(pool) // 2
            split_rows[split], pool = pool[:take], pool[take:]
    train = pool[:n_train]
    if len(train) < 2:
        drawn = {s: len(split_rows[s]) for s in from_pool}
        total = len(train) + sum(drawn.values())
        took = ", ".join(f"{s} took {n}" for s, n in drawn.items())
        fits = max(1, total // 5)
        flags = " ".join(f"--n-{_FLAG[s]} {fits}" for s in drawn)
        hint = f" ({flags} leave {total - len(drawn) * fits})" if drawn else ""
        raise LoratuneError(
            f"{files['train']}: {total} distinct rows to split, {took or 'none drawn'}, "
            f"{len(train)} left to train on: give smaller --n-val/--n-test{hint}, or more rows"
        )
    # The label set is every label in the files, not only in the rows drawn: a rare label
    # stays a possible answer.
    everything = [p for pairs in (*own.values(), pool, train) for p in pairs]
    everything += split_rows["validation"] + split_rows["test"]
    labels = tuple(sorted({y for _, y in everything})) if kind == "classification" else ()
    if kind == "classification" and len(labels) < 2:
        raise LoratuneError(
            f"{files['train']}: a classification file needs at least 2 distinct labels"
        )
    instruction = _instruction(kind, labels)

    def make(chunk: Pairs) -> tuple[Example, ...]:
        if kind == "extraction":
            return tuple(Example(x, y) for x, y in chunk)
        return tuple(Example(format_prompt(instruction, x), y) for x, y in chunk)

    return Task(
        data_label(data),
        kind,  # type: ignore[arg-type]
        make(train),
        make(split_rows["validation"]),
        make(split_rows["test"]),
        labels,
        source=", ".join(f"{k}={v}" for k, v in files.items()),
        instruction=instruction,
        data_seed=seed,
    )


def _instruction(kind: str, labels: tuple[str, ...]) -> str:
    if kind == "extraction":
        return ""
    if len(labels) <= MAX_LISTED_LABELS:
        return f"Classify the text as one of: {', '.join(labels)}."
    return "Classify the text by its intent."
