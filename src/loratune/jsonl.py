"""Text and JSON Lines reading shared by user data files, space files and exported results.

Errors name the file and, where there is one, the line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loratune.errors import LoratuneError

NUL_BYTE = "{where}:{line}: a NUL byte (binary or UTF-16? save it as UTF-8)"
NOT_UTF8 = "{where}:{line}: not UTF-8 text ({reason})"


def read_utf8(
    path: str | Path,
    where: str | None = None,
    *,
    nul: str | None = NUL_BYTE,
    not_utf8: str = NOT_UTF8,
) -> str:
    """The file's text, decoded as UTF-8 with a leading BOM dropped (as spreadsheets save it).

    Errors are one LoratuneError, worded by the caller: `where` is the file as its messages
    name it (default: the path); `nul` and `not_utf8` are templates filled with `where`,
    `line` and, for `not_utf8`, the decoder's `reason`. `nul=None` leaves NUL bytes to the
    parser. A NUL byte is checked first: UTF-16 text is mostly valid UTF-8 bytes plus NULs.
    """
    where = str(path) if where is None else where
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise LoratuneError(f"cannot read {where}: {exc.strerror}") from exc
    if nul is not None and b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise LoratuneError(nul.format(where=where, line=line))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LoratuneError(not_utf8.format(where=where, line=line, reason=exc.reason)) from exc


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
