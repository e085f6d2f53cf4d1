"""The noise-aware last step (`separate`), end to end with tiny-llama: off, it changes
nothing; on, with the top configs within noise, it trains each once more with the next
training seed and keeps the adapter with the best validation accuracy of either seed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from loratune import api, stats
from loratune.api.spec import Budget
from loratune.errors import LoratuneError
from loratune.space import config_key
from loratune.stats import PairedDifference
from loratune.study import open_study, records

LABELS = ("billing", "account", "delivery")
CUES = ("pay", "login", "ship")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rows = [(f"ticket {i} says {CUES[i % 3]} issue {i * 7}", LABELS[i % 3]) for i in range(96)]
    out = {}
    for name, part in (("train", rows[:40]), ("val", rows[40:72]), ("test", rows[72:])):
        out[name] = tmp_path / f"{name}.csv"
        out[name].write_text("text,label\n" + "".join(f"{x},{y}\n" for x, y in part))
    out["space"] = tmp_path / "mini.toml"
    out["space"].write_text(
        'name = "mini"\n[grid]\nrank = [2, 4]\nlearning_rate = [1e-3, 1e-2, 5e-2]\n'
        "[fixed]\nepochs = 2\nbatch_size = 8\nmax_length = 48\n"
    )
    return out


def _autotune(tmp_path: Path, files: dict[str, Path], study: str, **kw):
    return api.autotune(
        prior="none",
        data=files["train"],
        val_data=files["val"],
        test_data=files["test"],
        model="tiny-llama",
        space=files["space"],
        explore=3,
        verify=2,
        storage=f"sqlite:///{tmp_path}/s.db",
        study=study,
        device="cpu",
        n_train=None,
        n_val=None,
        n_test=None,
        out=tmp_path / study,
        report=False,
        **kw,
    )


def _trials(tmp_path: Path, study: str):
    return records(open_study(f"sqlite:///{tmp_path}/s.db", study, create=False))


def _row(r):
    return config_key(r.config), r.accuracy, r.curve, r.full, r.metrics.get("phase")


def test_off_changes_nothing(tmp_path, files):
    plain = _autotune(tmp_path, files, "plain")
    off = _autotune(tmp_path, files, "off", separate=0)
    assert off.separation is None and plain.separation is None
    assert [_row(r) for r in _trials(tmp_path, "off")] == [
        _row(r) for r in _trials(tmp_path, "plain")
    ]
    assert config_key(off.best.config) == config_key(plain.best.config)


def _within_noise(a: str, b: str) -> PairedDifference:
    a_only = sum(x == "1" and y == "0" for x, y in zip(a, b, strict=True))
    b_only = sum(x == "0" and y == "1" for x, y in zip(a, b, strict=True))
    return PairedDifference(a_only, b_only, len(a), 1.0)


def test_within_noise_trains_the_top_again_and_keeps_the_best_adapter(tmp_path, files, monkeypatch):
    monkeypatch.setattr(stats, "paired_difference", _within_noise)  # the top two tie
    result = _autotune(tmp_path, files, "sep", separate=2)
    trials = _trials(tmp_path, "sep")
    extra = [r for r in trials if r.metrics.get("phase") == "separate"]
    assert len(extra) == 2
    assert all(r.metrics["seed"] == 1 and r.config.seed == 1 and r.full for r in extra)
    first = [r for r in trials if r.metrics.get("phase") != "separate"]
    assert all(r.metrics["seed"] == 0 for r in first)
    # The two configs trained again are the top two of the first seed, by validation.
    top = sorted(
        (r for r in first if r.full),
        key=lambda r: (Fraction(r.metrics["val_correct"], r.metrics["val_total"]), -r.number),
        reverse=True,
    )[:2]
    assert {config_key(r.config) for r in extra} == {config_key(r.config) for r in top}
    # The pick is the adapter, of the four, with the most validation examples right; a tie
    # goes to the first seed, then to the higher first ranking.
    second = {config_key(r.config): r for r in extra}
    adapters = [(r, i, False) for i, r in enumerate(top)]
    adapters += [(second[config_key(r.config)], i, True) for i, r in enumerate(top)]
    kept, index, again = max(
        adapters, key=lambda a: (Fraction(a[0].metrics["val_correct"], 32), not a[2], -a[1])
    )
    assert result.best.number == kept.number
    sep = result.separation
    assert sep is not None
    assert sep.configs == tuple(r.config.describe() for r in top)
    assert sep.correct == tuple(r.metrics["val_correct"] for r in top) and sep.total == (32, 32)
    assert sep.second_correct == tuple(
        second[config_key(r.config)].metrics["val_correct"] for r in top
    )
    assert sep.pick == index and sep.pick_seed == (1 if again else 0)
    assert sep.p_before == 1.0 and sep.p_after == 1.0 and not sep.distinguishable
    assert sep.extra_trials == 2 and sep.seed == 1 and sep.extra_seconds > 0
    assert "2 more trials (seed 1" in sep.line() and "kept the adapter of" in sep.line()
    # The test split was read once, for that adapter, and validation names the same pick.
    v = result.validation
    assert v.pick.config == kept.config.describe() and v.pick.test_total == 24
    # A resumed run replays the same decisions and trains nothing new.
    again_run = _autotune(tmp_path, files, "sep", separate=2, resume=True)
    assert len(_trials(tmp_path, "sep")) == len(trials)
    assert again_run.best.number == result.best.number and again_run.separation == sep


def test_a_second_seed_adapter_is_kept_tested_and_deployed(tmp_path, files, monkeypatch):
    """Where the second seed's run of a config is the best adapter, that trial is the pick:
    its adapter was saved, the test split is read for it, and it is the one deployed."""
    import loratune.api.separate as step
    from loratune.strategies.separate import Kept

    monkeypatch.setattr(stats, "paired_difference", _within_noise)
    monkeypatch.setattr(step, "keep_best_adapter", lambda a, b: Kept(1, True, 0.5, False))
    result = _autotune(tmp_path, files, "seed1", separate=2)
    best = result.best
    assert best.metrics.get("phase") == "separate" and best.config.seed == 1
    assert result.separation is not None and result.separation.pick_seed == 1
    assert "trained with seed 1" in result.separation.line()
    assert result.validation.pick.config == best.config.describe()
    assert result.validation.pick.test_total == 24  # tested: its adapter was there to load
    assert result.adapter_dir == tmp_path / "seed1" / "adapter"
    assert (result.adapter_dir / "adapter_config.json").is_file()


def test_told_apart_spends_nothing(tmp_path, files, monkeypatch):
    def told_apart(a: str, b: str) -> PairedDifference:
        return PairedDifference(len(a), 0, len(a), 0.001)

    monkeypatch.setattr(stats, "paired_difference", told_apart)
    result = _autotune(tmp_path, files, "apart", separate=3)
    assert not any(r.metrics.get("phase") == "separate" for r in _trials(tmp_path, "apart"))
    sep = result.separation
    assert sep is not None and sep.distinguishable and sep.extra_trials == 0
    assert "no extra trials" in sep.line()


@pytest.mark.parametrize("bad", [1, -1])
def test_bad_value(bad):
    with pytest.raises(LoratuneError, match="--separate"):
        Budget(separate=bad)
