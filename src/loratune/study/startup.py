"""Opening one new storage from many processes at once.

Optuna creates its schema on first open, in every process that opens a new database: started
together, the processes race (optuna/optuna#1092, #4621) and some fail with
`UNIQUE constraint failed: alembic_version.version_num` or `table studies already exists`,
though nothing is wrong with the URL. Here the first open of a SQLite file is serialised by
an advisory file lock (in the temporary folder, named by the file's absolute path, so the
user's folder is never touched), so one process creates the schema and the
others find it; for server databases, where no file is shared, an open that lost the race is
retried with a growing back-off until the winner's schema is there. Any other error is left
to the caller's one-line message.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# What losing the schema-creation race looks like in SQLite's and PostgreSQL's words.
_RACE_SIGNS = (
    "alembic_version",
    "already exists",
    "duplicate key value",
    "database is locked",
    "unique constraint failed: version_info",
)
ATTEMPTS = 8
FIRST_WAIT = 0.05  # seconds; doubled after each lost race (about 6 s in all)


def lost_schema_race(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(sign in text for sign in _RACE_SIGNS)


def _sqlite_file(url: str) -> Path | None:
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    return None if path in ("", ":memory:") else Path(path)


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive advisory lock for the database file `path` (none where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: the retry below still covers the race
        yield
        return
    if path is None:
        yield
        return
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"loratune-{digest}.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_once_schema(url: str, make: Callable[[], T]) -> T:
    """`make()` (which opens the storage and may create its schema), safe under contention."""
    wait = FIRST_WAIT
    with _file_lock(_sqlite_file(url)):
        for attempt in range(ATTEMPTS):
            try:
                return make()
            except Exception as exc:  # SQLAlchemy's errors, whatever the driver
                if attempt == ATTEMPTS - 1 or not lost_schema_race(exc):
                    raise
                time.sleep(wait)
                wait *= 2
    raise AssertionError("unreachable")  # pragma: no cover
