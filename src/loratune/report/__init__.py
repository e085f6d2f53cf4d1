"""The autotune report: verdict, warnings, predicted vs actual, statistics, plots.

`write_report(result, space, out_dir)` writes report.html (self-contained: plots embedded,
styles inline) and report.md (the same content, linking PNGs written beside it).
"""

from loratune.report.write import write_report

__all__ = ["write_report"]
