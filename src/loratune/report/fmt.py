"""Number formatting and tolerant reads of the validation dict.

The validation dict comes from `loratune.api.validate`; its statistics may be missing, None
or NaN (too few verified configs), and correlations may be stored as a bare number, a
(value, p) pair or a dict. Everything here returns None rather than raising.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DASH = "–"


def num(x: Any) -> float | None:
    """x as a finite float, or None (None, NaN, inf, strings, ...)."""
    if isinstance(x, bool) or x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def pct(x: Any, digits: int = 1) -> str:
    """An accuracy in [0, 1] as a percentage: 0.8531 -> '85.3%'."""
    f = num(x)
    return DASH if f is None else f"{f * 100:.{digits}f}%"


def pts(x: Any, signed: bool = False, digits: int = 1) -> str:
    """A difference of accuracies in percentage points: 0.012 -> '1.2 pts'."""
    f = num(x)
    if f is None:
        return DASH
    sign = "+" if signed else ""
    return f"{f * 100:{sign}.{digits}f} pts"


def secs(x: Any) -> str:
    """Seconds to 0.1, with minutes or hours alongside when long."""
    f = num(x)
    if f is None:
        return DASH
    if abs(f) >= 3600:
        return f"{f:,.1f} s ({f / 3600:.1f} h)"
    if abs(f) >= 120:
        return f"{f:,.1f} s ({f / 60:.1f} min)"
    return f"{f:.1f} s"


def fixed(x: Any, digits: int = 3) -> str:
    f = num(x)
    return DASH if f is None else f"{f:.{digits}f}"


def pval(x: Any) -> str:
    f = num(x)
    if f is None:
        return DASH
    return "< 0.001" if f < 0.001 else f"{f:.3f}"


def factor(x: Any) -> str:
    f = num(x)
    return DASH if f is None else f"{f:.1f}×"


def money(x: Any) -> str:
    f = num(x)
    if f is None:
        return DASH
    return "0" if f == 0 else f"{f:,.4f}" if abs(f) < 1 else f"{f:,.2f}"


def lr(x: Any) -> str:
    """A learning rate in compact scientific notation: 0.0003 -> '3e-4', 0.01 -> '1e-2'."""
    f = num(x)
    if f is None:
        return DASH
    if f == 0:
        return "0"
    mantissa, exponent = f"{f:e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"


def wd(x: Any) -> str:
    """A weight decay (or any small number) as written in a space file: 0, 0.01, 1e-06."""
    f = num(x)
    return DASH if f is None else f"{f:g}"


def first(d: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present and not None."""
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def stat_and_p(d: Mapping[str, Any] | None, *names: str) -> tuple[float | None, float | None]:
    """(statistic, p-value) of a correlation or test stored under any of `names`.

    Accepts a number (p then read from `<name>_p`), a (value, p) pair, or a dict with
    rho/tau/statistic/value and p/pvalue/p_value.
    """
    if not isinstance(d, Mapping):
        return None, None
    for name in names:
        v = d.get(name)
        p = first(d, f"{name}_p", f"{name}_pvalue", f"{name}_p_value")
        if isinstance(v, Mapping):
            p = first(v, "p", "pvalue", "p_value")
            v = first(v, "rho", "tau", "statistic", "value", "t", "w", name)
        elif isinstance(v, (tuple, list)) and len(v) == 2:
            v, p = v
        if v is not None or p is not None:
            return num(v), num(p)
    return None, None


def interval(x: Any) -> tuple[float, float] | None:
    """A confidence interval stored as (lo, hi) or {lo, hi} / {low, high}; None if unusable."""
    lo: Any
    hi: Any
    if isinstance(x, Mapping):
        if isinstance(x.get("ci"), (tuple, list)):
            return interval(x["ci"])
        lo, hi = first(x, "lo", "low", "lower"), first(x, "hi", "high", "upper")
    elif isinstance(x, (tuple, list)) and len(x) >= 2:
        lo, hi = x[-2], x[-1]
    else:
        return None
    a, b = num(lo), num(hi)
    return None if a is None or b is None else (a, b)


def as_dict(x: Any) -> dict[str, Any]:
    return dict(x) if isinstance(x, Mapping) else {}
