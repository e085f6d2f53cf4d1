"""The prior (loratune.prior), the warm start and its evidence stop (strategies.warm)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from loratune.errors import LoratuneError
from loratune.prior import (
    Prior,
    build_prior,
    load_prior,
    portfolio,
    save_prior,
    shipped_prior,
    source_from_rows,
)
from loratune.space import Config, Space, load_space
from loratune.strategies.base import Observation
from loratune.strategies.warm import WarmStart

RANKS = (4, 8, 16, 32)
LRS = (1e-4, 3e-4, 1e-3, 3e-3)


def _score(c: Config, best_rank: int, best_lr: float, level: float) -> float:
    """A smooth toy landscape peaked at (best_rank, best_lr)."""
    d = (math.log2(c.rank / best_rank) / 2) ** 2 + math.log10(c.learning_rate / best_lr) ** 2
    return level - 0.3 * d


def _rows(domain: str, best_rank: int, best_lr: float, level: float = 0.9) -> list[dict]:
    rows = []
    for r in RANKS:
        for lr in LRS:
            c = Config(rank=r, alpha=2.0 * r, learning_rate=lr)
            v = _score(c, best_rank, best_lr, level)
            rows.append(
                {
                    "domain": domain,
                    "model": "toy",
                    "study": f"sweep:{domain}:toy:default",
                    "status": "complete",
                    "config": c.to_dict(),
                    "accuracy": v,
                    "validation_accuracy": v,
                    "test_accuracy": 1.0 - v,  # never read: a prior sees validation only
                }
            )
    return rows


def _space(ranks: tuple[int, ...] = RANKS, lrs: tuple[float, ...] = LRS) -> Space:
    return Space("toy", {"rank": list(ranks), "learning_rate": list(lrs)}, {"alpha_ratio": 2})


def test_a_prior_of_two_grids_orders_a_third_as_its_sources_agree() -> None:
    prior = build_prior(
        [
            source_from_rows(_rows("a", 16, 1e-3), "a"),
            source_from_rows(_rows("b", 16, 1e-3, 0.6), "b"),
        ]
    )
    configs = _space().configs()
    shortfall = prior.shortfall(configs)
    order = np.argsort(shortfall.mean(axis=0))
    assert configs[order[0]].rank == 16 and configs[order[0]].learning_rate == 1e-3
    worst = configs[order[-1]]
    assert worst.learning_rate in (1e-4, 3e-3) and worst.rank in (4, 32)
    first = portfolio(shortfall, 1)
    assert first == [int(order[0])]


def test_portfolio_covers_sources_that_disagree() -> None:
    prior = build_prior(
        [source_from_rows(_rows("a", 4, 1e-4), "a"), source_from_rows(_rows("b", 32, 3e-3), "b")]
    )
    configs = _space().configs()
    shortfall = prior.shortfall(configs)
    picks = portfolio(shortfall, 2)
    top_by_mean = list(np.argsort(shortfall.mean(axis=0))[:2])

    def covered(cols: list[int]) -> float:  # mean over sources of the best-so-far shortfall
        return float(shortfall[:, cols].min(axis=1).mean())

    assert covered(picks) < covered(top_by_mean)
    # one pick lands on a source's own best: the portfolio hedges between the two
    assert shortfall[:, picks].min() < 1.0


def test_configs_no_source_trained_get_predictions() -> None:
    prior = build_prior(
        [source_from_rows(_rows("a", 16, 1e-3), "a"), source_from_rows(_rows("b", 16, 1e-3), "b")]
    )
    unseen = Space(
        "mine",
        {"rank": [12, 24, 48], "learning_rate": [2e-4, 7e-4, 2e-3], "epochs": [2, 4]},
        {"alpha": 24.0, "dropout": 0.1},
    ).configs()
    shortfall = prior.shortfall(unseen)
    assert shortfall.shape == (2, len(unseen)) and np.isfinite(shortfall).all()
    best = unseen[int(np.argmin(shortfall.mean(axis=0)))]
    # alpha 24 at rank 12 is twice the sources' alpha / rank: the effective lr is what counts
    assert best.learning_rate * best.alpha / best.rank == pytest.approx(2e-3 * 24 / 12) or (
        best.learning_rate in (7e-4, 2e-3)
    )


def test_test_scores_never_enter_a_prior() -> None:
    rows = _rows("a", 16, 1e-3)
    scrambled = [dict(r, test_accuracy=0.123, test_hits="1010") for r in rows]
    configs = _space().configs()
    one = build_prior([source_from_rows(rows, "a")]).shortfall(configs)
    two = build_prior([source_from_rows(scrambled, "a")]).shortfall(configs)
    assert np.array_equal(one, two)


def test_leave_one_domain_out_in_the_race() -> None:
    """Each grid's warm start gets a prior of the other grids only: even when the target's own
    rows are handed in among the others, none of them reaches its prior."""
    from loratune.strategies import registry
    from loratune.strategies.builtin import setting_prior

    grids = {d: _rows(d, 16, 1e-3) for d in ("a", "b", "c")}
    configs = _space().configs()
    for target in grids:
        others = {f"toy/{d}": rows for d, rows in grids.items() if d != target}
        setting = registry.Setting(_space(), 12, 5, True, 32, None, target, others)
        clean = setting_prior(setting)
        assert clean is not None and target not in clean.domains
        # The target's rows, poisoned, slipped in under another label: filtered by domain.
        leaked = dict(others, **{"toy/x": [dict(r, accuracy=0.0) for r in grids[target]]})
        prior = setting_prior(dataclasses.replace(setting, others=leaked))
        assert prior is not None and target not in prior.domains
        assert prior.shortfall(configs).tolist() == clean.shortfall(configs).tolist()


def test_a_prior_without_its_target_domain() -> None:
    prior = build_prior(
        [source_from_rows(_rows("a", 16, 1e-3), "a"), source_from_rows(_rows("b", 8, 1e-3), "b")]
    )
    assert prior.without("a").domains == ("b",)
    with pytest.raises(LoratuneError):
        prior.without("a").without("b")


def test_prior_files_round_trip(tmp_path) -> None:
    prior = build_prior([source_from_rows(_rows("a", 16, 1e-3), "a")], {"command": "x"})
    save_prior(prior, tmp_path / "p.json")
    back = load_prior(tmp_path / "p.json")
    assert back == prior
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LoratuneError, match="cannot read prior file"):
        load_prior(tmp_path / "bad.json")


def test_the_shipped_prior_names_its_sources() -> None:
    prior = shipped_prior()
    assert isinstance(prior, Prior) and prior.models == ("smollm2-135m",)
    assert len(prior.domains) >= 4 and all(s.commit for s in prior.sources)
    assert "command" in prior.built


class _Result:
    """The fields of a TrialResult the warm start reads."""

    def __init__(self, acc: float, epochs: int = 3, stopped: bool = False) -> None:
        self.accuracy, self.val_total, self.stopped_early = acc, 256, stopped
        self.curve = [acc] * epochs
        self.epochs_run = 1 if stopped else epochs


def _run(strategy: WarmStart, space: Space, score, limit: int = 100) -> list[Observation]:
    strategy.reset(space, 0)
    history: list[Observation] = []
    for _ in range(limit):
        config = strategy.ask(history)
        if config is None:
            return history
        value = score(config)
        history.append(Observation(config, None if value is None else _Result(value)))  # type: ignore[arg-type]
    raise AssertionError("the strategy never stopped")


def _toy_prior() -> Prior:
    return build_prior(
        [source_from_rows(_rows("a", 16, 1e-3), "a"), source_from_rows(_rows("b", 16, 1e-3), "b")]
    )


def test_the_evidence_stop_waits_for_a_validation_score() -> None:
    """Every trial fails: no score exists, so the evidence never stops it; the ceiling does."""
    s = WarmStart(_toy_prior(), portfolio=2, ceiling=5, p_stop=0.5)
    history = _run(s, _space(), lambda c: None)
    assert len(history) == 5 and s.stop_reason.startswith("ceiling")


@pytest.mark.parametrize("ceiling", [1, 3, 7, 16])
def test_the_search_always_stops_at_the_ceiling(ceiling: int) -> None:
    # A flat, noisy-looking landscape: nothing is ever clearly settled.
    s = WarmStart(_toy_prior(), portfolio=1, ceiling=ceiling, p_stop=1e-9)
    history = _run(s, _space(), lambda c: 0.5 + 0.001 * (hash(c.rank) % 3))
    assert len(history) == min(ceiling, len(_space().configs()))


def test_the_evidence_stop_stops_when_the_prior_is_right() -> None:
    s = WarmStart(_toy_prior(), portfolio=2, ceiling=16, p_stop=0.1)
    history = _run(s, _space(), lambda c: _score(c, 16, 1e-3, 0.95))
    assert 2 <= len(history) < 16 and s.stop_reason.startswith("evidence")
    best = max(history, key=lambda o: o.result.accuracy)
    assert (best.config.rank, best.config.learning_rate) == (16, 1e-3)


def test_stopped_trials_are_censored_not_scored_by_their_check() -> None:
    """A stopped trial never becomes the incumbent and is never asked for again."""
    s = WarmStart(_toy_prior(), portfolio=3, ceiling=8, p_stop=0.05)
    s.reset(_space(), 0)
    history: list[Observation] = []
    for _ in range(8):
        config = s.ask(history)
        if config is None:
            break
        assert config not in [o.config for o in history]
        stopped = config.learning_rate == 1e-4
        r = _Result(0.99 if stopped else _score(config, 16, 1e-3, 0.9), stopped=stopped)
        history.append(Observation(config, r))  # type: ignore[arg-type]
    assert s.stop_reason or len(history) == 8


def test_the_default_space_uses_the_shipped_prior() -> None:
    prior = shipped_prior()
    assert prior is not None
    configs = load_space("default").configs()
    first = configs[portfolio(prior.without("customer_support").shortfall(configs), 1)[0]]
    assert first.rank >= 32 and first.learning_rate >= 1e-3
