"""The document as one self-contained HTML page and as Markdown with PNGs beside it."""

from __future__ import annotations

import base64
import functools
import html
import re

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

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


# --- HTML -----------------------------------------------------------------------------------


def _inline(text: str) -> Markup:
    """Escaped text with its `**bold**` and `code` marked up (names from data are escaped)."""
    out = html.escape(str(text), quote=False)
    out = _BOLD.sub(r"<strong>\1</strong>", out)
    return Markup(_CODE.sub(r"<code>\1</code>", out))


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("loratune.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=False,
    )
    env.filters["inline"] = _inline
    env.filters["b64"] = lambda png: base64.b64encode(png).decode("ascii")
    for name, kind in (("para", Para), ("callout", Callout), ("table", Table), ("image", Image)):
        env.tests[name] = lambda b, kind=kind: isinstance(b, kind)
    return env


def to_html(doc: Document) -> str:
    """One self-contained page from templates/report.html.j2."""
    return _environment().get_template("report.html.j2").render(doc=doc)


# --- Markdown -------------------------------------------------------------------------------


def _md_text(text: str) -> str:
    """Markdown renderers pass raw HTML through: names from data must not carry any."""
    return html.escape(str(text), quote=False)


def _md_cell(text: str) -> str:
    return _md_text(text).replace("|", "\\|").replace("\n", " ")


def _md_table(t: Table) -> str:
    lines = [
        "| " + " | ".join(_md_cell(h) or " " for h in t.header) + " |",
        "|"
        + "|".join("---:" if t.alignment(i) == "r" else ":---" for i in range(len(t.header)))
        + "|",
        *("| " + " | ".join(_md_cell(c) for c in row) + " |" for row in t.rows),
    ]
    if t.note:
        lines += ["", f"*{_md_text(t.note)}*"]
    return "\n".join(lines)


def _md_image(im: Image) -> str:
    alt = im.name.rsplit(".", 1)[0].replace("_", " ")
    return f"![{alt}]({im.name})\n\n*{_md_text(im.caption)}*"


def _md_block(b: Block) -> str:
    if isinstance(b, Para):
        return _md_text(b.text)
    if isinstance(b, Callout):
        mark = "⚠️" if b.kind == "warn" else "✅"
        items = (f"> - {_md_text(i)}" for i in b.items)
        return "\n".join([f"> {mark} **{_md_text(b.title)}**", ">", *items])
    if isinstance(b, Table):
        return _md_table(b)
    if isinstance(b, Image):
        return _md_image(b)
    assert isinstance(b, Gallery)
    return "\n\n".join(_md_image(i) for i in b.images)


def to_markdown(doc: Document) -> str:
    parts = [f"# {_md_text(doc.title)}", f"*{_md_text(doc.subtitle)}*", _md_text(doc.headline)]
    for s in doc.sections:
        parts.append(f"## {_md_text(s.title)}")
        parts.extend(_md_block(b) for b in s.blocks)
    parts.append("---")
    parts.extend(f"<sub>{_md_text(line)}</sub>  " for line in doc.footer)
    return "\n\n".join(parts) + "\n"
