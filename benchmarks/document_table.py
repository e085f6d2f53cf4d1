"""The user's document's 16-config table, fed to loratune's predictor as a study.

The document lists accuracy and latency for rank 4-32 x weight decay {1e-6, 1e-5, 5e-5, 1e-4}
at learning rate 5e-5 (its numbers are claims, not measurements of ours). This asks what the
predictor, fitted on those 16 rows alone, says of rank 64, and how confident it is.

    python benchmarks/document_table.py
"""

from __future__ import annotations

import optuna

from loratune.space import Config, Space
from loratune.strategies.autotune import fit_predictor, predict_grid
from loratune.study import finish_trial, open_study, records, start_trial

# (rank, weight decay, accuracy, latency seconds per epoch), as printed in the document.
DOCUMENT = [
    (4, 1e-6, 0.7245, 1.87),
    (4, 1e-5, 0.7389, 1.91),
    (4, 5e-5, 0.7456, 1.89),
    (4, 1e-4, 0.7312, 1.88),
    (8, 1e-6, 0.8123, 2.12),
    (8, 1e-5, 0.8450, 2.15),
    (8, 5e-5, 0.8398, 2.18),
    (8, 1e-4, 0.8267, 2.14),
    (16, 1e-6, 0.8567, 2.65),
    (16, 1e-5, 0.8875, 2.68),
    (16, 5e-5, 0.8823, 2.71),
    (16, 1e-4, 0.8654, 2.67),
    (32, 1e-6, 0.8734, 3.42),
    (32, 1e-5, 0.9012, 3.48),
    (32, 5e-5, 0.8978, 3.51),
    (32, 1e-4, 0.8856, 3.45),
]
SPACE = Space(
    "document",
    {"rank": (4, 8, 16, 32, 64), "weight_decay": (1e-6, 1e-5, 5e-5, 1e-4)},
    {"learning_rate": 5e-5, "alpha_ratio": 2},
)


def main() -> None:
    study = open_study(
        optuna.storages.InMemoryStorage(),
        "document",
        {"domain": "financial", "model": "document", "space": "document"},
    )
    for rank, wd, acc, latency in DOCUMENT:
        config = Config(rank=rank, alpha=2 * rank, learning_rate=5e-5, weight_decay=wd)
        trial = start_trial(study, SPACE, config, {"source": "the user's document"})
        finish_trial(study, trial, acc, {"latency": latency, "cost": 0.0})
    trials = records(study)
    predictor = fit_predictor(trials, seed=0, features=SPACE.features())
    print(f"surrogates: {predictor.chosen}")
    for target, scores in predictor.cv_scores.items():
        shown = ", ".join(f"{name} {mae:.4f}" for name, mae in scores.items())
        print(
            f"  {target}: "
            + (f"cross-validation MAE {shown}" if scores else "the physical time model, no CV")
        )
    print("\nrank 64 (never trained in the document), predicted:")
    print("| weight decay | accuracy (mean ± sd) | 90% interval | s/epoch (mean ± sd) |")
    print("| --- | --- | --- | --- |")
    for p in sorted(predict_grid(predictor, SPACE, trials), key=lambda p: p.config.weight_decay):
        if p.config.rank != 64:
            continue
        lo, hi = p.accuracy - 1.645 * p.accuracy_std, p.accuracy + 1.645 * p.accuracy_std
        print(
            f"| {p.config.weight_decay:g} | {p.accuracy:.4f} ± {p.accuracy_std:.4f} | "
            f"{lo:.3f}–{hi:.3f} | {p.latency:.2f} ± {p.latency_std:.2f} |"
        )


if __name__ == "__main__":
    main()
