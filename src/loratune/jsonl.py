"""JSON Lines reading shared by user data files and exported results: errors name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError


def jsonl_objects(path: str | Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `text`, read from `path`.

    Lines end at "\\n" only (a "\\r" before it is dropped): JSON text may hold U+2028, form
    feeds and other characters that `str.splitlines` would wrongly cut a record at.
    """
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoratuneError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        except RecursionError as exc:
            raise LoratuneError(f"{path}:{number}: JSON nested too deeply") from exc
        if not isinstance(row, dict):
            raise LoratuneError(f"{path}:{number}: each line must be a JSON object")
        rows.append((number, row))
    return rows


def json_array_objects(path: str | Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each object of a JSON file holding one array of objects."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoratuneError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise LoratuneError(f"{path}: JSON nested too deeply") from exc
    if not isinstance(data, list):
        raise LoratuneError(f"{path}: a .json file must hold an array of objects (or use .jsonl)")
    # json does not report where each element starts; the element's position stands in.
    for i, row in enumerate(data, 1):
        if not isinstance(row, dict):
            raise LoratuneError(f"{path}: element {i} of the array is not a JSON object")
    return list(enumerate(data, 1))
