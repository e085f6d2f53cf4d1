"""JSON Lines reading shared by user data files and exported results: errors name the line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError


def jsonl_objects(path: str | Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of `text`, read from `path`."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoratuneError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise LoratuneError(f"{path}:{number}: each line must be a JSON object")
        rows.append((number, row))
    return rows
