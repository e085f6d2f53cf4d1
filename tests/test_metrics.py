"""Metrics as objects: each built-in metric's value on small hand-computed answers, and a
metric chosen with `--metric` deciding a real tiny-llama autotune end to end (study, report
and export name it); a metric registered here, in the test, is taken by the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sklearn.metrics import f1_score
from typer.testing import CliRunner

from loratune.cli.app import app
from loratune.errors import LoratuneError
from loratune.study import open_study, records
from loratune.tasks import METRICS, Metric, Outputs, get_metric, register_metric
from loratune.tasks.metrics import task_metric, token_f1, unregister_metric

LABELS = [("a", "a"), ("b", "a"), ("a", "b"), ("c", "c"), ("c", "c"), ("a", "a")]


def test_accuracy_counts_answers_right() -> None:
    assert get_metric("accuracy").value(LABELS) == 4 / 6


def test_macro_f1_by_hand_and_as_sklearn() -> None:
    # a: tp 2, fp 1, fn 1 -> F1 2/3; b: tp 0 -> 0; c: tp 2 -> 1. Mean: (2/3 + 0 + 1) / 3.
    value = get_metric("macro_f1").value(LABELS)
    assert value == pytest.approx((2 / 3 + 0 + 1) / 3)
    refs, preds = [r for _, r in LABELS], [p for p, _ in LABELS]
    assert value == pytest.approx(f1_score(refs, preds, average="macro"))


def test_exact_match_and_token_f1_normalise_as_squad() -> None:
    answers = [("The Paris.", "paris"), ("new york city", "new york"), ("x", "y")]
    assert get_metric("exact_match").value(answers) == pytest.approx(1 / 3)
    # "new york city" vs "new york": precision 2/3, recall 1, F1 0.8.
    assert token_f1("new york city", "new york") == pytest.approx(0.8)
    assert get_metric("token_f1").value(answers) == pytest.approx((1 + 0.8 + 0) / 3)


def test_val_loss_is_the_token_mean_and_lower_is_better() -> None:
    loss = get_metric("val_loss")
    # 3 + 1 nats over 2 + 2 tokens: 1.0 per token (not the mean of per-example means, 1.0 too
    # here, so use unequal counts): 3 nats / 1 token and 1 nat / 3 tokens -> 4 / 4.
    assert loss.value([("a", "a")] * 2, nll=[3.0, 1.0], tokens=[1, 3]) == 1.0
    assert not loss.higher_is_better and loss.score(1.0) == -1.0 and loss.value_of(-1.0) == 1.0
    assert Outputs((("a", "a"),) * 2, (3.0, 1.0), (1, 3)).head(1).loss == 3.0


def test_each_metric_says_where_it_applies() -> None:
    assert get_metric("macro_f1", "classification").name == "macro_f1"
    with pytest.raises(LoratuneError, match="does not apply to extraction"):
        get_metric("macro_f1", "extraction")
    with pytest.raises(LoratuneError, match="unknown metric 'bleu'"):
        get_metric("bleu")
    assert list(METRICS)[:5] == ["accuracy", "macro_f1", "exact_match", "token_f1", "val_loss"]
    assert {n for n, m in METRICS.items() if m.proportion} >= {"accuracy", "exact_match"}


def test_a_task_defaults_to_accuracy(data_csv: Path) -> None:
    from loratune.tasks import get_task

    task = get_task(data=data_csv, n_train=20, n_val=10, n_test=10)
    assert task.metric == "" and task_metric(task).name == "accuracy"


SPACE = (
    "[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 3e-3]\n[fixed]\nepochs = 1\nmax_length = 48\n"
)


def _autotune(tmp: Path, data: Path, metric: str, study: str) -> list[str]:
    (tmp / "space.toml").write_text(SPACE)
    return [
        "autotune",
        *("--data", str(data), "--space", str(tmp / "space.toml"), "--metric", metric),
        *("--model", "tiny-llama", "--device", "cpu", "--n-train", "12", "--n-val", "12"),
        *("--n-test", "12", "--explore", "2", "--verify", "1", "--save", "none"),
        *("--prior", "none"),
        *("--storage", f"sqlite:///{tmp}/m.db", "--study", study, "--out", str(tmp / study)),
    ]


def test_autotune_tunes_for_macro_f1_end_to_end(tmp_path: Path, data_csv: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, _autotune(tmp_path, data_csv, "macro_f1", "f1"))
    assert res.exit_code == 0, res.output
    assert "validation macro-F1" in " ".join(res.output.split())  # rich wraps at 80 columns
    study = open_study(f"sqlite:///{tmp_path}/m.db", "f1", create=False)
    assert study.user_attrs["metric"] == "macro_f1"
    done = [r for r in records(study) if r.ok]
    assert done and all(r.metric == "macro_f1" for r in done)
    html = (tmp_path / "f1" / "report.html").read_text()
    assert "macro-F1" in html and "macro_f1" in html
    out = tmp_path / "rows.jsonl"
    res = runner.invoke(app, ["export", str(out), "--storage", f"sqlite:///{tmp_path}/m.db"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    ok = [row for row in rows if row["status"] == "complete"]
    assert ok and all(row["metric"] == "macro_f1" for row in ok)
    assert all(row["validation_macro_f1"] == row["value"] for row in ok)
    assert all(row["accuracy"] == row["val_correct"] / row["val_total"] for row in ok)
    # The pick's test macro-F1 was read once, at the end.
    assert sum(row["test_macro_f1"] is not None for row in ok) <= 1
    # A study tuned for macro-F1 is not resumed for another metric.
    again = runner.invoke(app, [*_autotune(tmp_path, data_csv, "accuracy", "f1"), "--resume"])
    assert again.exit_code != 0 and "macro_f1" in str(again.exception or again.output)


@pytest.fixture
def label_count() -> Iterator[Metric]:
    """A metric of this test's own: how many different labels the model predicted."""
    metric = register_metric(
        Metric(
            "labels_used",
            lambda out: float(len({p for p, _ in out.answers})),
            kinds=frozenset({"classification"}),
        )
    )
    yield metric
    unregister_metric(metric.name)


def test_a_registered_metric_is_taken_by_the_cli(
    tmp_path: Path, data_csv: Path, label_count: Metric
) -> None:
    res = CliRunner().invoke(app, _autotune(tmp_path, data_csv, "labels_used", "mine"))
    assert res.exit_code == 0, res.output
    study = open_study(f"sqlite:///{tmp_path}/m.db", "mine", create=False)
    assert study.user_attrs["metric"] == "labels_used"
    assert all(r.accuracy in (1.0, 2.0, 3.0) for r in records(study) if r.ok)


def test_metric_titles_read_after_the_split_names():
    """The CLI and the report write "validation <title>" and "test <title>"."""
    from loratune.tasks.metrics import METRICS

    for name in METRICS:
        title = METRICS.lookup(name).title
        assert not title.lower().startswith(("validation", "test")), title


def test_a_loss_reads_as_a_loss_in_the_report(tmp_path: Path, data_csv: Path) -> None:
    """val_loss is not in [0, 1]: its scores print as numbers, not as -1035.6% accuracy."""
    res = CliRunner().invoke(app, _autotune(tmp_path, data_csv, "val_loss", "loss"))
    assert res.exit_code == 0, res.output
    assert "validation cross-entropy loss" in " ".join(res.output.split())
    md = (tmp_path / "loss" / "report.md").read_text()
    headline = next(line for line in md.splitlines() if line.startswith("**Best config:**"))
    assert "validation cross-entropy loss" in headline and "%" not in headline
    assert "pts" not in md.split("## Read this first")[0]  # the verdict: no percentage points
    assert "plain numbers" in md and "percentage points" not in md
