"""Shared fixtures: a tiny random-init model and a small generated task, both fast on a CPU."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from loratune.tasks import DomainSpec, Task, build_task

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"

LABELS = ("billing", "technical", "shipping", "account")
CUES = {
    "billing": ["charged twice", "invoice is wrong", "payment failed"],
    "technical": ["app crashes", "error code shows", "screen freezes"],
    "shipping": ["package is late", "tracking is stuck", "parcel lost"],
    "account": ["cannot log in", "reset my password", "change my email"],
}


def _sample(rng: random.Random) -> tuple[str, str]:
    label = rng.choice(LABELS)
    return f"Customer {rng.randint(1, 9999)}: {rng.choice(CUES[label])}.", label


TOY_SPEC = DomainSpec(
    "toy",
    "classification",
    "Classify the ticket as one of: billing, technical, shipping, account.",
    _sample,
    LABELS,
)


def _extract_sample(rng: random.Random) -> tuple[str, str]:
    amount = rng.randint(1, 99)
    return f"Order {rng.randint(100, 999)} costs ${amount} today.", f"${amount}"


TOY_EXTRACT_SPEC = DomainSpec("toy_extract", "extraction", "Extract the price.", _extract_sample)


@pytest.fixture(scope="session")
def tiny_base():
    from loratune.models import load_base_model

    return load_base_model("tiny-llama", device="cpu", bf16=False)


@pytest.fixture(scope="session")
def toy_task() -> Task:
    return build_task(TOY_SPEC, seed=0, n_train=16, n_val=8, n_test=16)


@pytest.fixture(scope="session")
def toy_extract_task() -> Task:
    return build_task(TOY_EXTRACT_SPEC, seed=0, n_train=16, n_val=8, n_test=12)


def ground_truth_fields(
    val_acc: float,
    curve: list[float],
    latency: float,
    test_acc: float | None = None,
    n_val: int = 200,
    n_test: int = 400,
    n_check: int = 50,
    setup: float = 1.0,
    check_s: float = 0.25,
    final_s: float = 1.0,
) -> dict[str, object]:
    """The protocol-2 fields of a recorded ground-truth row (exact counts, split timings), for
    fake grids: validation decides (`accuracy`), the test counts judge."""
    test_acc = val_acc if test_acc is None else test_acc
    val_correct, test_correct = round(val_acc * n_val), round(test_acc * n_test)
    curve = [round(a * n_check) / n_check for a in curve]
    epochs = [latency] * len(curve)
    checks = [check_s] * (len(curve) - 1) + [final_s]
    charged = setup + sum(epochs) + sum(checks)
    return {
        "accuracy": val_correct / n_val,
        "val_correct": val_correct,
        "val_total": n_val,
        "check_total": n_check,
        "curve": curve,
        "test_accuracy": test_correct / n_test,
        "test_correct": test_correct,
        "test_total": n_test,
        "latency": latency,
        "setup_seconds": setup,
        "epoch_seconds": epochs,
        "check_seconds": checks,
        "charged_seconds": charged,
        "wall_seconds": charged + 2.0,
        "test_seconds": 2.0,
    }


def write_data_csv(
    path: Path, n: int = 80, labels: tuple[str, ...] = ("refund", "login", "delivery")
) -> Path:
    """A small labelled CSV of user data at `path`, as `--data` reads it: `n` rows, the
    labels in turn, each text naming its label."""
    rows = ["text,label"]
    for i in range(n):
        label = labels[i % len(labels)]
        rows.append(f"message {i} about my {label} problem number {i * 7},{label}")
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def make_data_csv():
    """`write_data_csv`, for a test or fixture that needs another size, labels or place."""
    return write_data_csv


@pytest.fixture
def data_csv(tmp_path: Path) -> Path:
    """A small three-label CSV of user data, as `--data` reads it."""
    return write_data_csv(tmp_path / "tickets.csv")
