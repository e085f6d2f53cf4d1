"""A tiny document model: the report's content once, rendered to both HTML and Markdown.

Text is plain; `**bold**` is the only markup and both renderers understand it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Callout:
    """A box that must not be missed: the evidence warnings."""

    title: str
    items: list[str]
    kind: str = "warn"  # "warn" or "ok"


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    align: str = ""  # one letter per column, "l" or "r"; missing letters mean "l"
    note: str = ""

    def alignment(self, i: int) -> str:
        return self.align[i] if i < len(self.align) else "l"


@dataclass(frozen=True)
class Image:
    name: str  # file name of the PNG next to report.md
    caption: str
    png: bytes


@dataclass(frozen=True)
class Gallery:
    """Plots laid out side by side in HTML, one after another in Markdown."""

    images: list[Image]


Block = Para | Callout | Table | Image | Gallery


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    headline: str  # the answer: best config and its accuracy
    sections: list[Section]
    footer: list[str]

    def images(self) -> list[Image]:
        out: list[Image] = []
        for s in self.sections:
            for b in s.blocks:
                if isinstance(b, Image):
                    out.append(b)
                elif isinstance(b, Gallery):
                    out.extend(b.images)
        return out
