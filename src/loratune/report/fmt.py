"""Number formatting for the report: a missing statistic (None) or an undefined one (NaN, as
a predicted grid's seconds can be) prints as a dash, never as 'nan'."""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterator

DASH = "–"

# How scores print: as percentages (accuracy and the other metrics in [0, 1]) or as plain
# numbers (a loss). `build` sets it for the report it writes.
_PERCENT = contextvars.ContextVar("scores_in_percent", default=True)


@contextlib.contextmanager
def scores_in_percent(percent: bool) -> Iterator[None]:
    token = _PERCENT.set(percent)
    try:
        yield
    finally:
        _PERCENT.reset(token)


def num(x: float | None) -> float | None:
    """x as a finite float, or None (None, NaN, inf)."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) else None


def pct(x: float | None, digits: int = 1) -> str:
    """An accuracy in [0, 1] as a percentage: 0.8531 -> '85.3%'."""
    f = num(x)
    return DASH if f is None else f"{f * 100:.{digits}f}%"


def pts(x: float | None, signed: bool = False, digits: int = 1) -> str:
    """A difference of accuracies in percentage points: 0.012 -> '1.2 pts'."""
    f = num(x)
    if f is None:
        return DASH
    sign = "+" if signed else ""
    return f"{f * 100:{sign}.{digits}f} pts"


def score(x: float | None) -> str:
    """A score (the tuned metric's value): '85.3%', or '-10.356' for a loss."""
    f = num(x)
    if f is None or _PERCENT.get():
        return pct(f)
    return f"{f:.3f}"


def diff(x: float | None, signed: bool = False) -> str:
    """A difference of scores: '1.2 pts', or '0.150' for a loss."""
    f = num(x)
    if f is None or _PERCENT.get():
        return pts(f, signed=signed)
    return f"{f:+.3f}" if signed else f"{f:.3f}"


def secs(x: float | None) -> str:
    """Seconds to 0.1, with minutes or hours alongside when long."""
    f = num(x)
    if f is None:
        return DASH
    if abs(f) >= 3600:
        return f"{f:,.1f} s ({f / 3600:.1f} h)"
    if abs(f) >= 120:
        return f"{f:,.1f} s ({f / 60:.1f} min)"
    return f"{f:.1f} s"


def fixed(x: float | None, digits: int = 3) -> str:
    f = num(x)
    return DASH if f is None else f"{f:.{digits}f}"


def pval(x: float | None) -> str:
    f = num(x)
    if f is None:
        return DASH
    return "< 0.001" if f < 0.001 else f"{f:.3f}"


def p_is(x: float | None) -> str:
    """'p = 0.322', or 'p < 0.001' (not 'p = < 0.001')."""
    text = pval(x)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def factor(x: float | None) -> str:
    f = num(x)
    return DASH if f is None else f"{f:.1f}×"


def money(x: float | None) -> str:
    f = num(x)
    if f is None:
        return DASH
    return "0" if f == 0 else f"{f:,.4f}" if abs(f) < 1 else f"{f:,.2f}"


def lr(x: float | None) -> str:
    """A learning rate in compact scientific notation: 0.0003 -> '3e-4', 0.01 -> '1e-2'."""
    f = num(x)
    if f is None:
        return DASH
    if f == 0:
        return "0"
    mantissa, exponent = f"{f:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def wd(x: float | None) -> str:
    """A weight decay (or any small number) as written in a space file: 0, 0.01, 1e-06."""
    f = num(x)
    return DASH if f is None else f"{f:g}"
