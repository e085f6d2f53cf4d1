"""The `loratune` command: parses, calls the Python API, shows progress. No logic of its own.

`main` is the one place where every failure takes its promised form: one line on stderr
naming the problem and what to do, exit status 2 (130 after an interrupt, saying how to
resume). `--debug` anywhere on the command line shows the traceback instead.
"""

from __future__ import annotations

import sys

from loratune.cli import deploy_cmds as _deploy_cmds  # noqa: F401  (registers its commands)
from loratune.cli import prior_cmds as _prior_cmds  # noqa: F401  (registers its commands)
from loratune.cli import study_cmds as _study_cmds  # noqa: F401  (registers its commands)
from loratune.cli.app import app
from loratune.errors import LoratuneError

RESUME_HINT = "interrupted: finished trials are saved; rerun the same command with --resume"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; bad input is one line on stderr and exit status 2, never a traceback."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
    from typer.exceptions import Abort, Exit

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        result = app(args=args, standalone_mode=False, prog_name="loratune")
    except NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(0)
    except ClickException as exc:  # usage: unknown option or command, bad value, missing one
        if debug:
            raise
        hint = " (see loratune --help)" if exc.exit_code == 2 else ""
        print(f"error: {_one_line(exc.format_message())}{hint}", file=sys.stderr)
        sys.exit(2)
    except LoratuneError as exc:
        if debug:
            raise
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, Abort):
        print(RESUME_HINT, file=sys.stderr)
        sys.exit(130)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except MemoryError:
        if debug:
            raise
        print("error: out of memory (try a smaller --n-train or batch size)", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # a bug or an environment fault: one line, the trace on --debug
        if debug:
            raise
        name = type(exc).__name__
        print(
            f"error: {name}: {_one_line(str(exc))} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(2)
    # In standalone_mode=False typer returns Ctrl-C's Exit(130) as a value instead of raising.
    if isinstance(result, int) and result == 130:
        print(RESUME_HINT, file=sys.stderr)
        sys.exit(130)
    if isinstance(result, int) and result:
        sys.exit(result)


__all__ = ["app", "main"]
