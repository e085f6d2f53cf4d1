"""The document as one self-contained HTML page and as Markdown with PNGs beside it."""

from __future__ import annotations

import base64
import html
import re

from loratune.report.document import (
    Block,
    Callout,
    Document,
    Gallery,
    Image,
    Para,
    Table,
)

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")

CSS = """
:root { --ink: #1d2327; --muted: #5f6b76; --line: #dde2e6; --accent: #0b6bcb; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 40px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 30px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
.subtitle { color: var(--muted); margin: 0 0 18px; font-size: 14px; }
.headline { font-size: 19px; background: #eef5fc; border-left: 5px solid var(--accent);
  padding: 12px 16px; margin: 0 0 8px; border-radius: 4px; }
.callout { border-radius: 6px; padding: 12px 18px; margin: 8px 0; }
.callout.warn { background: #fff4e0; border: 1px solid #f0b54a; border-left: 6px solid #e08a00; }
.callout.ok { background: #edf8ee; border: 1px solid #9bd3a0; border-left: 6px solid #2e9d3a; }
.callout strong.title { display: block; margin-bottom: 4px; font-size: 16px; }
.callout ul { margin: 4px 0 0; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; font-size: 13.5px; }
th, td { padding: 5px 9px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f1f3f5; text-align: left; font-weight: 600; white-space: nowrap; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
.note { color: var(--muted); font-size: 12.5px; margin: 2px 0 10px; }
.gallery { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr));
  gap: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; }
figure img { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 6px; }
code { background: #f1f3f5; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
footer { margin-top: 34px; padding-top: 10px; border-top: 1px solid var(--line);
  color: var(--muted); font-size: 12.5px; }
footer p { margin: 2px 0; }
"""


# --- HTML -----------------------------------------------------------------------------------


def _inline(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return _CODE.sub(r"<code>\1</code>", out)


def _html_table(t: Table) -> str:
    head = "".join(
        f'<th class="{t.alignment(i)}">{_inline(h)}</th>' for i, h in enumerate(t.header)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{t.alignment(i)}">{_inline(c)}</td>' for i, c in enumerate(row))
        + "</tr>"
        for row in t.rows
    )
    note = f'<p class="note">{_inline(t.note)}</p>' if t.note else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"


def _html_image(im: Image) -> str:
    data = base64.b64encode(im.png).decode("ascii")
    alt = html.escape(im.caption)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{_inline(im.caption)}</figcaption></figure>"
    )


def _html_block(b: Block) -> str:
    if isinstance(b, Para):
        return f"<p>{_inline(b.text)}</p>"
    if isinstance(b, Callout):
        items = "".join(f"<li>{_inline(i)}</li>" for i in b.items)
        title = f'<strong class="title">{_inline(b.title)}</strong>'
        return f'<div class="callout {b.kind}">{title}<ul>{items}</ul></div>'
    if isinstance(b, Table):
        return _html_table(b)
    if isinstance(b, Image):
        return _html_image(b)
    assert isinstance(b, Gallery)
    return '<div class="gallery">' + "".join(_html_image(i) for i in b.images) + "</div>"


def to_html(doc: Document) -> str:
    sections = "".join(
        f"<section><h2>{_inline(s.title)}</h2>{''.join(_html_block(b) for b in s.blocks)}</section>"
        for s in doc.sections
    )
    footer = "".join(f"<p>{_inline(line)}</p>" for line in doc.footer)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(doc.title)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{_inline(doc.title)}</h1><p class="subtitle">{_inline(doc.subtitle)}</p>'
        f'<p class="headline">{_inline(doc.headline)}</p>{sections}'
        f"<footer>{footer}</footer></main></body></html>\n"
    )


# --- Markdown -------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(t: Table) -> str:
    lines = [
        "| " + " | ".join(_md_cell(h) or " " for h in t.header) + " |",
        "|"
        + "|".join("---:" if t.alignment(i) == "r" else ":---" for i in range(len(t.header)))
        + "|",
        *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows),
    ]
    if t.note:
        lines += ["", f"*{t.note}*"]
    return "\n".join(lines)


def _md_image(im: Image) -> str:
    alt = im.name.rsplit(".", 1)[0].replace("_", " ")
    return f"![{alt}]({im.name})\n\n*{im.caption}*"


def _md_block(b: Block) -> str:
    if isinstance(b, Para):
        return b.text
    if isinstance(b, Callout):
        mark = "⚠️" if b.kind == "warn" else "✅"
        return "\n".join([f"> {mark} **{b.title}**", ">", *(f"> - {i}" for i in b.items)])
    if isinstance(b, Table):
        return _md_table(b)
    if isinstance(b, Image):
        return _md_image(b)
    assert isinstance(b, Gallery)
    return "\n\n".join(_md_image(i) for i in b.images)


def to_markdown(doc: Document) -> str:
    parts = [f"# {doc.title}", f"*{doc.subtitle}*", doc.headline]
    for s in doc.sections:
        parts.append(f"## {s.title}")
        parts.extend(_md_block(b) for b in s.blocks)
    parts.append("---")
    parts.extend(f"<sub>{line}</sub>  " for line in doc.footer)
    return "\n\n".join(parts) + "\n"
