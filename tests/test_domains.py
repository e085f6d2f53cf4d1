"""The twelve domain generators: order, determinism, split hygiene, label balance, answers
derivable from the text, prompt length and variety."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from loratune.tasks import build_task, format_prompt
from loratune.tasks.domains import DOMAINS

NAMES = [
    "financial",
    "legal",
    "medical",
    "ecommerce",
    "real_estate",
    "customer_support",
    "marketing",
    "code_review",
    "hr",
    "supply_chain",
    "insurance",
    "education",
]
MAX_PROMPT_CHARS = 400
MAX_TEXT_WORDS = 45
MAX_INSTRUCTION_WORDS = 25
N_DRAWN = 332  # 100 train + 32 validation + 200 test


@pytest.fixture(scope="module", params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def task(name: str):
    return build_task(DOMAINS[name], seed=0)


def _draw(name: str, n: int = N_DRAWN, seed: int = 1) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [DOMAINS[name].sample(rng) for _ in range(n)]


def _text(prompt: str) -> str:
    return prompt.split("\nInput: ", 1)[1].rsplit("\nAnswer:", 1)[0]


def test_names_and_order() -> None:
    assert list(DOMAINS) == NAMES
    assert all(DOMAINS[n].name == n for n in NAMES)


def test_kinds_mix() -> None:
    kinds = Counter(spec.kind for spec in DOMAINS.values())
    assert kinds == {"classification": 7, "extraction": 5}


def test_spec_shape(name: str) -> None:
    spec = DOMAINS[name]
    assert spec.description
    assert len(spec.instruction.split()) <= MAX_INSTRUCTION_WORDS
    if spec.kind == "classification":
        assert 4 <= len(spec.labels) <= 8
        assert len(set(spec.labels)) == len(spec.labels)
        for label in spec.labels:
            assert re.fullmatch(r"[a-z]+(_[a-z]+)*", label), label
            assert label in spec.instruction  # a zero-shot model is told the choices
    else:
        assert spec.labels == ()
        assert "'" in spec.instruction  # the exact answer format is quoted


def test_deterministic(name: str, task) -> None:
    again = build_task(DOMAINS[name], seed=0)
    assert again == task
    other = build_task(DOMAINS[name], seed=1)
    assert other.train != task.train
    assert _draw(name) == _draw(name)


def test_sizes_and_no_shared_text(task) -> None:
    assert (len(task.train), len(task.validation), len(task.test)) == (100, 256, 800)
    train = {_text(e.prompt) for e in task.train}
    val = {_text(e.prompt) for e in task.validation}
    test = {_text(e.prompt) for e in task.test}
    assert len(train) == 100 and len(val) == 256 and len(test) == 800
    assert not train & test and not train & val and not val & test


def test_prompt_format(name: str, task) -> None:
    spec = DOMAINS[name]
    for e in task.train + task.validation + task.test:
        assert e.prompt == format_prompt(spec.instruction, _text(e.prompt))
        assert e.completion == e.completion.strip() and "\n" not in e.completion
        text = _text(e.prompt)
        assert not re.search(r"\$[A-Za-z_{]", text), text  # no template leftovers


def test_classification_labels(name: str, task) -> None:
    spec = DOMAINS[name]
    if spec.kind != "classification":
        pytest.skip("extraction domain")
    for e in task.train + task.validation + task.test:
        assert e.completion in spec.labels
    counts = Counter(e.completion for e in task.test)
    assert set(counts) == set(spec.labels)
    assert max(counts.values()) <= 0.5 * len(task.test)
    # No label dominates training either: roughly uniform draws.
    train_counts = Counter(e.completion for e in task.train)
    assert max(train_counts.values()) <= 0.4 * len(task.train)


ANSWER_FORMATS = {
    "financial": r"revenue: \$\d+\.\dM, growth: [+-]\d+(\.\d)?%",
    "real_estate": r"price: \$\d{1,3}(,\d{3})+, bedrooms: \d",
    "marketing": r"channel: [a-z]+, ctr: \d\.\d%",
    "hr": r"role: [a-z ]+, years: \d+",
    "supply_chain": r"sku: [A-Z]{2,3}-\d{4}, quantity: \d{1,3}(,\d{3})?",
}


def _values(answer: str) -> list[str]:
    return [part.split(": ", 1)[1] for part in answer.split(", ")]


def test_extraction_answers_derivable(name: str, task) -> None:
    spec = DOMAINS[name]
    if spec.kind != "extraction":
        pytest.skip("classification domain")
    for e in task.train + task.validation + task.test:
        assert re.fullmatch(ANSWER_FORMATS[name], e.completion), e.completion
        text = _text(e.prompt).lower()
        for value in _values(e.completion):
            value = value.lstrip("+-").lower()  # a growth sign is read from rose / fell
            assert re.search(rf"(?<![\w.,]){re.escape(value)}(?![\w]|[.,]\d)", text), (
                value,
                text,
            )


def test_financial_sign_matches_direction() -> None:
    up = ("up ", "increase", "rose", "grew", "higher", "climbed")
    down = ("down ", "decrease", "fell", "shrank", "lower", "slipped", "dropped", "decline")
    for text, answer in _draw("financial"):
        growth = answer.split("growth: ")[1]
        revenue = answer.split("revenue: ")[1].split(",")[0]
        rate = growth.lstrip("+-")
        sentence = next(s for s in re.split(r"(?<=\.) ", text) if revenue in s and rate in s)
        words = up if growth.startswith("+") else down
        assert any(w in sentence.lower() for w in words), (sentence, answer)


def test_marketing_answer_is_the_highest_ctr() -> None:
    for text, answer in _draw("marketing"):
        best = float(answer.split("ctr: ")[1].rstrip("%"))
        channel = answer.split("channel: ")[1].split(",")[0]
        assert channel in text.lower()
        rates = re.sub(r"Conversion rate was \d\.\d%", "", text)
        assert max(float(r) for r in re.findall(r"(\d\.\d)%", rates)) == best, text


def test_prompt_length(name: str, task) -> None:
    spec = DOMAINS[name]
    examples = task.train + task.validation + task.test
    assert max(len(e.prompt) for e in examples) < MAX_PROMPT_CHARS
    for text, _ in _draw(name, seed=2):
        assert 3 <= len(text.split()) <= MAX_TEXT_WORDS, text
        assert len(format_prompt(spec.instruction, text)) < MAX_PROMPT_CHARS


def test_variety(name: str) -> None:
    spec = DOMAINS[name]
    samples = _draw(name)
    assert len({text for text, _ in samples}) >= 300
    if spec.kind == "extraction":
        assert len({answer for _, answer in samples}) >= 150
