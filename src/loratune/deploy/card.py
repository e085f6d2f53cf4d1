"""The model card: a README.md beside a saved adapter that says what it is and how to redo it.

Written from `loratune.json` alone, so it works for any saved adapter: one the trainer saved
during autotune (which adds the run's regret and speedup through `extra`) or one exported by
`loratune deploy`. The front matter follows Hugging Face's model-card convention
(`library_name: peft`, `base_model`), so hubs and tools that read it show the right thing.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from loratune.models import model_info
from loratune.stats import wilson

CARD_FILE = "README.md"
REPRODUCE_SPACE = "reproduce.toml"

# Config fields a one-config space file must pin so a sweep trains exactly this adapter.
_SPACE_FIXED = (
    "alpha",
    "weight_decay",
    "dropout",
    "epochs",
    "batch_size",
    "max_length",
    "target_modules",
)


def _accuracy_line(acc: float | None, n: int | None) -> str:
    if acc is None:
        return "not measured"
    if not n:
        return f"{acc:.3f}"
    k = round(acc * n)  # accuracies are exact fractions of the split, so this recovers k
    low, high = wilson(k, n)
    return f"{acc:.3f} ({k}/{n}; 95% Wilson interval {low:.3f}-{high:.3f})"


def reproduce_space(config: dict[str, Any]) -> str:
    """A space TOML holding this one config: `rank` is the grid (a space needs one), the
    rest fixed, so `loratune sweep --space` trains this config and no other."""
    lines = ["# The one config of this adapter; see README.md for the command.", "[grid]"]
    lines.append(f"rank = [{int(config['rank'])}]")
    lines += ["", "[fixed]", f"learning_rate = {float(config['learning_rate'])!r}"]
    for key in _SPACE_FIXED:
        if key in config:
            lines.append(f"{key} = {json.dumps(config[key])}")
    return "\n".join(lines) + "\n"


def reproduce_command(meta: dict[str, Any]) -> str:
    """The command that trains this adapter again: the one recorded, or one built from meta."""
    recorded = meta.get("command") or (meta.get("provenance") or {}).get("command")
    if isinstance(recorded, str) and recorded.strip():
        return recorded
    task = meta.get("task") or {}
    seed = int(meta.get("seed", meta["config"].get("seed", 0)))
    source = task.get("source", "generator")
    parts = ["loratune", "sweep"]
    if source and source != "generator":
        parts += ["--data", str(source)]
    else:
        parts += ["--domain", str(task.get("name", "?"))]
    parts += ["--model", str(meta["model"]), "--space", REPRODUCE_SPACE, "--seed", str(seed)]
    data_seed = task.get("data_seed")
    if data_seed is not None and int(data_seed) != seed:
        parts += ["--data-seed", str(data_seed)]
    if task.get("n_train"):
        parts += ["--n-train", str(task["n_train"])]
    return shlex.join(parts)


# How to run each form of the adapter; the PEFT folder's is the default.
USAGE = {
    "peft": [
        'loratune try --adapter . "your text"',
        "loratune evaluate --adapter . --data FILE",
        "loratune deploy --adapter . --format merged|gguf --out DIR",
    ],
    "merged": [
        "from transformers import AutoModelForCausalLM, AutoTokenizer",
        'model = AutoModelForCausalLM.from_pretrained(".")',
        'tokenizer = AutoTokenizer.from_pretrained(".")',
    ],
    "gguf": [
        'ollama create NAME -f Modelfile && ollama run NAME "your text"',
        'llama-cli -m BASE.gguf --lora adapter.gguf --temp 0 -p "PROMPT"',
    ],
}


def model_card(
    meta: dict[str, Any], extra: dict[str, Any] | None = None, usage: str = "peft"
) -> str:
    """The card's Markdown text (front matter included)."""
    task = meta.get("task") or {}
    config = meta["config"]
    labels = task.get("labels") or []
    # The trainer records the examples scored; the split sizes stand in for older adapters.
    val_n = meta.get("val_total") or task.get("n_val")
    test_n = meta.get("test_total") or task.get("n_test")
    front = [
        "---",
        "library_name: peft",
        f"base_model: {meta['model']}",
        "tags: [lora, loratune]",
        "---",
    ]
    body = [
        f"# LoRA adapter: {task.get('name', '?')} on {meta['model']}",
        "",
        "Trained and picked by loratune.",
        "",
    ]
    terms = model_info(str(meta["model"])).terms  # e.g. the Gemma terms of use
    if terms:
        body += ["## Terms of use", "", terms, ""]
    body += [
        "## Task",
        "",
        f"- name: `{task.get('name', '?')}` ({task.get('kind', '?')})",
        f"- data: {task.get('source', '?')}, data seed {task.get('data_seed', '?')}",
        f"- data sha256: `{task.get('data_sha256', '?')}`",
        f"- splits: train {task.get('n_train', '?')}, validation {task.get('n_val', '?')}, "
        f"test {task.get('n_test', '?')}",
    ]
    if labels:
        body.append(f"- labels ({len(labels)}): {', '.join(str(lab) for lab in labels)}")
    template = task.get("prompt_template", "")
    body += [
        f"- prompt format: `{json.dumps(template)}`",
        f"- instruction: {task.get('instruction') or '(none: the input is the whole prompt)'}",
        "",
        "## Accuracy",
        "",
        f"- validation: {_accuracy_line(meta.get('validation_accuracy'), val_n)}",
        f"- test: {_accuracy_line(meta.get('test_accuracy'), test_n)}",
        "",
        "Validation accuracy is what loratune decides by; the test split only reports.",
        "",
        "## Config",
        "",
        "| parameter | value |",
        "| --- | --- |",
    ]
    body += [f"| {k} | {_fmt(v)} |" for k, v in config.items()]
    body += [
        "",
        f"Seeds: training {meta.get('seed', config.get('seed', '?'))}, "
        f"data {task.get('data_seed', '?')}.",
    ]
    where = [f"study `{meta['study']}`" if meta.get("study") else "", _trial(meta)]
    if any(where):
        body.append("Recorded as " + ", ".join(w for w in where if w) + ".")
    if extra:
        body += ["", "## Run", "", "| measure | value |", "| --- | --- |"]
        body += [f"| {k} | {_fmt(v)} |" for k, v in extra.items()]
    body += [
        "",
        "## Reproduce",
        "",
        f"With `{REPRODUCE_SPACE}` (beside this card) in the current folder:",
        "",
        "```",
        reproduce_command(meta),
        "```",
        "",
        "## Use",
        "",
        "```",
        *USAGE[usage],
        "```",
    ]
    prov = meta.get("provenance")
    if prov:
        body += ["", "## Provenance", "", "```json", json.dumps(prov, indent=2, default=str), "```"]
    return "\n".join(front + body) + "\n"


def _trial(meta: dict[str, Any]) -> str:
    return f"trial {meta['trial']}" if meta.get("trial") is not None else ""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def write_model_card(
    folder: str | Path,
    meta: dict[str, Any],
    extra: dict[str, Any] | None = None,
    usage: str = "peft",
) -> Path:
    """Write README.md (and the one-config space its reproduce command names) into `folder`.

    `extra` carries run-level measures that `loratune.json` does not hold, such as the
    autotune run's regret and speedup; each key becomes a row of the card's Run table.
    `usage` (peft, merged or gguf) picks the card's "Use" lines.
    """
    folder = Path(folder)
    path = folder / CARD_FILE
    path.write_text(model_card(meta, extra, usage))
    (folder / REPRODUCE_SPACE).write_text(reproduce_space(meta["config"]))
    return path
