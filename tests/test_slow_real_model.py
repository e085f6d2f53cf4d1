"""Real training of SmolLM2-135M on the CPU: minutes, so behind the `slow` marker."""

import pytest

from loratune.models import load_base_model
from loratune.space import Config
from loratune.tasks import get_task
from loratune.trainer import run_trial, zero_shot_accuracy

pytestmark = pytest.mark.slow


def test_lora_beats_zero_shot_on_customer_support():
    base = load_base_model("smollm2-135m")
    task = get_task("customer_support", seed=0)
    floor = zero_shot_accuracy(base, task)
    result = run_trial(base, task, Config(rank=16, alpha=32, learning_rate=1e-3))
    assert result.accuracy > floor + 0.1, (floor, result.accuracy)
    assert result.curve[-1] >= result.curve[0]
