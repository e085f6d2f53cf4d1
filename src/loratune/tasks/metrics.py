"""Metrics as objects: how a task's answers on a split become one number.

A metric scores the (prediction, reference) answers of a split, as the task compares them (a
label, or a normalised extraction answer), or reads the model's loss on the references. Each
says which task kinds it applies to, whether higher is better, and whether it is a proportion
of examples right (`proportion`): exact counts, the two-proportion z-test of early stopping
and McNemar's test hold only for those. Adding one is one `register_metric(Metric(...))`.

Every decision maximises one number, the metric's `score`: its value where higher is better,
the value negated where lower is (a loss), so the study, the predictor, verification and the
pick need no second code path. Reports show the value (`value_of`).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, get_args

from loratune.errors import LoratuneError
from loratune.registry import Registry

Answer = tuple[str, str]  # (prediction, reference)
# The kinds of task (the task layer's `Task.kind`): a metric says which it applies to.
TaskKind = Literal["classification", "extraction"]


class MetricOf(Protocol):
    """What `task_metric` reads of a task: its metric's name and its kind."""

    @property
    def metric(self) -> str: ...

    @property
    def kind(self) -> TaskKind: ...


KINDS: frozenset[TaskKind] = frozenset(get_args(TaskKind))
DEFAULT_METRIC = "accuracy"  # every kind's default: today's numbers, as recorded


@dataclass(frozen=True)
class Outputs:
    """What a model produced on a split: its answers, and where a metric needs it, its summed
    cross-entropy over each reference's tokens (EOS included) and their count."""

    answers: tuple[Answer, ...]
    nll: tuple[float, ...] = ()
    tokens: tuple[int, ...] = ()

    @property
    def loss(self) -> float:
        """Mean cross-entropy per reference token: the eval loss, as training's loss is."""
        n = sum(self.tokens)
        return sum(self.nll) / n if n else float("nan")

    def head(self, n: int) -> Outputs:
        """The first `n` examples' outputs (the early-stopping check subset)."""
        return Outputs(self.answers[:n], self.nll[:n], self.tokens[:n])


@dataclass(frozen=True)
class Metric:
    name: str
    compute: Callable[[Outputs], float]
    higher_is_better: bool = True
    kinds: frozenset[TaskKind] = KINDS
    proportion: bool = False  # the mean of per-example right/wrong (exact counts apply)
    needs_loss: bool = False  # the evaluation must also run the references' loss
    label: str = ""  # as a report names it; the name where empty
    unit_interval: bool = True  # values in [0, 1]: reports print them as percentages
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.kinds or not self.kinds <= KINDS:
            raise ValueError(f"metric {self.name}: kinds must be some of {sorted(KINDS)}")

    @property
    def title(self) -> str:
        return self.label or self.name

    def applies_to(self, kind: TaskKind) -> bool:
        return kind in self.kinds

    def value(
        self, answers: Sequence[Answer], nll: Sequence[float] = (), tokens: Sequence[int] = ()
    ) -> float:
        """The metric of these answers (and losses): NaN where there is nothing to score."""
        out = Outputs(tuple(answers), tuple(nll), tuple(tokens))
        return self.compute(out) if out.answers or out.tokens else float("nan")

    def score(self, value: float) -> float:
        """The value as every decision reads it: higher is better."""
        return value if self.higher_is_better else -value

    def value_of(self, score: float | None) -> float | None:
        """The value back from a recorded score (the inverse of `score`)."""
        return None if score is None else self.score(score)


METRICS: Registry[Metric] = Registry("metric", Metric)


def register_metric(metric: Metric) -> Metric:
    """Add `metric` under its name; returns it, so a module can keep it as a constant."""
    return METRICS.add(metric.name, metric)


def unregister_metric(name: str) -> Metric:
    return METRICS.remove(name)


def get_metric(name: str, kind: TaskKind | None = None) -> Metric:
    """The metric `name`, checked against the task kind when given: a one-line error else."""
    metric = METRICS.lookup(name)
    if kind is not None and not metric.applies_to(kind):
        fits = [n for n, m in METRICS.items() if m.applies_to(kind)]
        raise LoratuneError(
            f"metric {name!r} does not apply to {kind} tasks: use one of {', '.join(fits)}"
        )
    return metric


def task_metric(task: MetricOf) -> Metric:
    """The metric a task is tuned for: the one it was given, else its kind's default."""
    return get_metric(task.metric or DEFAULT_METRIC, task.kind)


# --- the built-in metrics ---


def _accuracy(out: Outputs) -> float:
    # Exactly sum(hits) / n, as the recorded grids were scored: predictions are a label or a
    # normalised answer already (`trainer.evaluate.answers`).
    return sum(p == r for p, r in out.answers) / len(out.answers)


def _macro_f1(out: Outputs) -> float:
    """Unweighted mean of each label's F1, over labels that occur as a reference or a
    prediction (scikit-learn's f1_score(average="macro")); a label with no true or predicted
    example has F1 0, so an adapter that ignores a rare class pays for it."""
    from sklearn.metrics import f1_score

    refs = [r for _, r in out.answers]
    preds = [p for p, _ in out.answers]
    return float(f1_score(refs, preds, average="macro", zero_division=0.0))


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def squad_normalise(text: str) -> str:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION))
    return " ".join(text.split())


def _exact_match(out: Outputs) -> float:
    return sum(squad_normalise(p) == squad_normalise(r) for p, r in out.answers) / len(out.answers)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD's token-overlap F1 of one answer (1 when both are empty)."""
    pred, ref = squad_normalise(prediction).split(), squad_normalise(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _token_f1(out: Outputs) -> float:
    return sum(token_f1(p, r) for p, r in out.answers) / len(out.answers)


def _val_loss(out: Outputs) -> float:
    return out.loss


ACCURACY = register_metric(
    Metric("accuracy", _accuracy, proportion=True, description="answers right (the default)")
)
MACRO_F1 = register_metric(
    Metric(
        "macro_f1",
        _macro_f1,
        kinds=frozenset({"classification"}),
        label="macro-F1",
        description="mean per-label F1: for imbalanced labels",
    )
)
EXACT_MATCH = register_metric(
    Metric(
        "exact_match",
        _exact_match,
        kinds=frozenset({"extraction"}),
        proportion=True,
        label="exact match",
        description="SQuAD-normalised exact match",
    )
)
TOKEN_F1 = register_metric(
    Metric(
        "token_f1",
        _token_f1,
        kinds=frozenset({"extraction"}),
        label="token F1",
        description="SQuAD token-overlap F1: partial credit",
    )
)
VAL_LOSS = register_metric(
    Metric(
        "val_loss",
        _val_loss,
        higher_is_better=False,
        needs_loss=True,
        unit_interval=False,
        label="cross-entropy loss",  # every use says "validation" or "test" before it
        description="cross-entropy on the answers (lower is better)",
    )
)

__all__ = [
    "DEFAULT_METRIC",
    "METRICS",
    "Answer",
    "Metric",
    "Outputs",
    "get_metric",
    "register_metric",
    "squad_normalise",
    "task_metric",
    "token_f1",
    "unregister_metric",
]
