"""`write_report`: the autotune report as report.html (self-contained) and report.md."""

from __future__ import annotations

from pathlib import Path

from loratune.report.content import build
from loratune.report.data import gather
from loratune.report.render import to_html, to_markdown
from loratune.results import AutotuneResult
from loratune.space import Space


def write_report(result: AutotuneResult, space: Space, out_dir: Path) -> Path:
    """Write report.html, report.md and the plots' PNGs into `out_dir`; return `out_dir`.

    report.html embeds its plots and styles, so it can be mailed or archived on its own;
    report.md links the PNG files written beside it.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    doc = build(gather(result, space))
    for image in doc.images():
        (out / image.name).write_bytes(image.png)
    (out / "report.html").write_text(to_html(doc), encoding="utf-8")
    (out / "report.md").write_text(to_markdown(doc), encoding="utf-8")
    return out
