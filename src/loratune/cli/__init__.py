"""The `loratune` command: parses, calls the Python API, shows progress. No logic of its own."""

from __future__ import annotations

import sys

from loratune.cli.app import app
from loratune.errors import LoratuneError


def main() -> None:
    """Run the CLI; bad input is one line on stderr and exit status 2, never a traceback."""
    try:
        app(standalone_mode=False)
    except LoratuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: finished trials are saved; rerun with --resume", file=sys.stderr)
        sys.exit(130)
    except _click_errors() as exc:
        exc.show()
        sys.exit(exc.exit_code)


def _click_errors() -> type[Exception]:
    import click

    return click.ClickException


__all__ = ["app", "main"]
