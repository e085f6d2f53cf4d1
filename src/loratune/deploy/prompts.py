"""A saved adapter's prompt format, rebuilt from `loratune.json` alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loratune.tasks import format_prompt


def prompt_template_for(task: Mapping[str, Any]) -> str:
    """The format a prompt had in training: user extraction data (prompt/completion rows, no
    instruction) was trained on its prompts as they are; everything else on the template."""
    if task.get("kind") == "extraction" and not task.get("instruction"):
        return "{text}"
    return str(task.get("prompt_template") or format_prompt("{instruction}", "{text}"))


def format_input(task: Mapping[str, Any], text: str) -> str:
    """`text` put in the adapter's prompt format, exactly as its training prompts were."""
    template = prompt_template_for(task)
    # str.replace, not str.format: the user's text may hold braces.
    return template.replace("{instruction}", str(task.get("instruction", ""))).replace(
        "{text}", text
    )
