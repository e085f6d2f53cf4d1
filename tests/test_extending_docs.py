"""docs/extending.md: each worked example's file runs as written and registers what it says.

The first Python block of each "Adding a ..." section is the new file; it is executed here
as a module of its own, the registration checked, and then taken back out of the registry.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from loratune.models import MODELS, unregister_model
from loratune.space import load_space
from loratune.strategies import registry as strategies
from loratune.tasks import get_metric, get_task
from loratune.tasks.metrics import unregister_metric
from loratune.tasks.registry import REGISTRY, unregister

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def _first_block(section: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", part, flags=re.S)
    assert blocks, f"docs/extending.md: no Python example under '{section}'"
    return blocks[0]


def _run(section: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(_first_block(section), f"docs/extending.md:{name}", "exec"), module.__dict__)  # noqa: S102
    return module


def test_the_domain_example_registers_a_usable_domain():
    _run("Adding a domain", "weather_example")
    try:
        assert "weather" in REGISTRY
        task = get_task("weather", n_train=8, n_val=4, n_test=4)
        assert len(task.train) == 8
        assert {e.completion for e in task.train} <= {"sunny", "rainy", "snowy", "windy"}
    finally:
        unregister("weather")
    assert "weather" not in REGISTRY


def test_the_model_example_registers_a_loader():
    _run("Adding a model", "qwen_example")
    try:
        assert "qwen-0.5b" in MODELS  # loading it needs the hub: not done here
    finally:
        unregister_model("qwen-0.5b")


def test_the_metric_example_computes_balanced_accuracy():
    _run("Adding a metric", "balanced_example")
    try:
        answers = [("a", "a"), ("a", "a"), ("a", "a"), ("a", "b")]  # recall a 1, b 0
        assert get_metric("balanced_accuracy").value(answers) == pytest.approx(0.5)
    finally:
        unregister_metric("balanced_accuracy")


def test_the_strategy_example_builds_from_the_registry():
    _run("Adding a strategy", "reverse_example")
    try:
        space = load_space("default")
        setting = strategies.Setting(space, 4, 2, False, 64)
        made = strategies.entry("reverse-grid", setting).make()
        made.reset(space, 0)
        first = made.ask([])
        assert first == space.configs()[-1]
        assert made.budget() == 6
    finally:
        strategies.unregister("reverse-grid")
