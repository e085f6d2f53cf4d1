"""Noise of the recorded ground truth, measured apart: training noise and data-sample noise.

A domain's noise subset is 20 configs of its grid (a Sobol subset) recorded again:

- training noise: the same data, training seeds 1 and 2 (`<domain>-seed1.jsonl`,
  `-seed2.jsonl`); with the full grid's rows (training seed 0) that is three runs per config
  differing only in adapter initialisation, dropout and batch order;
- data-sample noise: training seed 0, data seeds 1 and 2 (`<domain>-data1.jsonl`,
  `-data2.jsonl`): another draw of the generated training, validation and test examples.

Both are measured on test accuracy (what the race's judge reads) and on validation accuracy
(what every decision reads). A shift common to every config under one seed does not reorder
configs; the config x seed interaction does, and it is what the success margin competes with.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats as sps

from loratune.race.grids import NOISE_STEM
from loratune.race.run import SUCCESS_WITHIN
from loratune.space import Config, config_key

Metric = Literal["test", "validation"]
Rows = Mapping[str, Mapping[str, Any]]
KINDS = {"seed": "training", "data": "data"}  # file suffix -> noise kind
_COUNTS = {"test": ("test_correct", "test_total"), "validation": ("val_correct", "val_total")}


def read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """Complete protocol-2 rows by config key; a line caught mid-write or a row without
    counts (an old protocol) is skipped."""
    rows: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        try:
            row = json.loads(line)
            key = config_key(Config.from_dict(row["config"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if row.get("status") == "complete" and row.get("test_correct") is not None:
            rows[key] = row
    return rows


def find_noise(dirs: Sequence[Path]) -> dict[tuple[str, str], dict[str, dict[int, Path]]]:
    """{(model, domain): {"training" | "data": {seed: file}}} in `dir/<model>/` of each of
    `dirs`, with the seed-0 full grid under seed 0; an earlier folder wins a name clash."""
    found: dict[tuple[str, str], dict[str, dict[int, Path]]] = {}
    for d in dirs:
        for p in sorted(d.glob("*/*.jsonl")):
            m = NOISE_STEM.match(p.stem)
            if m is None:
                continue
            kinds = found.setdefault((p.parent.name, m["domain"]), {})
            kinds.setdefault(KINDS[m["kind"]], {}).setdefault(int(m["seed"]), p)
    for (model, domain), kinds in found.items():
        base = next(
            (
                d / model / f"{domain}.jsonl"
                for d in dirs
                if (d / model / f"{domain}.jsonl").is_file()
            ),
            None,
        )
        for files in kinds.values():
            if base is not None:
                files.setdefault(0, base)
    return found


def analyse(runs: Sequence[Rows], metric: Metric, margin: float = SUCCESS_WITHIN) -> dict[str, Any]:
    """Noise statistics of the configs every run recorded, on `metric`; `runs[i]` maps config
    keys to rows, one mapping per seed."""
    keys = sorted(set.intersection(*(set(r) for r in runs)))
    if len(runs) < 2 or len(keys) < 2:
        raise ValueError("noise needs at least 2 seeds sharing at least 2 configs")
    correct, total = _COUNTS[metric]
    exact = [[Fraction(int(r[k][correct]), int(r[k][total])) for r in runs] for k in keys]
    acc = np.array([[float(x) for x in row] for row in exact])
    n, s = acc.shape
    sd = acc.std(axis=1, ddof=1)
    msb = s * acc.mean(axis=1).var(ddof=1)
    msw = float((sd**2).mean())
    icc = (msb - msw) / (msb + (s - 1) * msw) if msb + (s - 1) * msw > 0 else float("nan")
    shift = acc.mean(axis=0) - acc.mean()
    resid = _residuals(acc)
    residual_sd = float(np.sqrt((resid**2).sum() / ((n - 1) * (s - 1))))
    pairs = list(itertools.combinations(range(s), 2))
    m = Fraction(str(margin))
    over = [abs(row[i] - row[j]) > m for row in exact for i, j in pairs]
    diffs = np.concatenate([np.abs(acc[:, i] - acc[:, j]) for i, j in pairs])
    rho = [float(sps.spearmanr(acc[:, i], acc[:, j]).statistic) for i, j in pairs]
    best = [max(range(n), key=lambda c, j=j: (exact[c][j], -c)) for j in range(s)]
    near = [{c for c in range(n) if exact[best[j]][j] - exact[c][j] <= m} for j in range(s)]
    # The config one run crowns, judged by another run of the same configs.
    regret_of_pick = [
        float(exact[best[j]][j] - exact[best[i]][j]) for i in range(s) for j in range(s) if i != j
    ]
    top = float(acc.max(axis=0).mean())
    n_total = statistics.median(int(r[k][total]) for r in runs for k in keys)
    return {
        "metric": metric,
        "configs": n,
        "seeds": s,
        "keys": keys,
        "accuracy": acc.tolist(),
        "within_config_sd": float(np.sqrt(msw)),
        "between_config_sd": float(acc.mean(axis=1).std(ddof=1)),
        "seed_shift": shift.tolist(),
        "residual_sd": residual_sd,
        "max_range": float((acc.max(axis=1) - acc.min(axis=1)).max()),
        "mean_abs_seed_diff": float(diffs.mean()),
        "share_seed_diff_over_margin": float(np.mean(over)),
        "icc": float(icc),
        "spearman_between_seeds": rho,
        "best_per_seed": [keys[b] for b in best],
        "same_best_all_seeds": len(set(best)) == 1,
        "within_margin_per_seed": [len(x) for x in near],
        "within_margin_all_seeds": len(set.intersection(*near)),
        "regret_of_single_seed_pick": {
            "mean": statistics.fmean(regret_of_pick),
            "max": max(regret_of_pick),
        },
        "examples": n_total,
        # The binomial standard error of one accuracy at the top configs' level on this split.
        "split_se_at_top": math.sqrt(top * (1 - top) / n_total),
    }


def measure(
    dirs: Sequence[Path], margin: float = SUCCESS_WITHIN, root: Path | None = None
) -> dict[str, Any]:
    """Every noise subset found: {"<model>/<domain>": {"training" | "data": {"files", "test",
    "validation"}}}; a kind with fewer than two runs sharing two configs is left out. File
    paths are given relative to `root` where they lie under it."""
    out: dict[str, Any] = {}
    for (model, domain), kinds in sorted(find_noise(dirs).items()):
        for kind, files in kinds.items():
            ordered = [files[k] for k in sorted(files)]
            runs = [read_rows(p) for p in ordered]
            try:
                result = {m: analyse(runs, m, margin) for m in ("test", "validation")}
            except ValueError:
                continue
            out.setdefault(f"{model}/{domain}", {})[kind] = {
                "seeds": sorted(files),
                "files": [_rel(p, root) for p in ordered],
                "rows": [len(r) for r in runs],
                "shared_luck": shared_luck(result["test"], result["validation"]),
                **result,
            }
    return out


def shared_luck(test: Mapping[str, Any], validation: Mapping[str, Any]) -> float | None:
    """Pearson correlation of the config x seed residuals of test and validation accuracy over
    the same runs: near 0, a run's luck is evaluation noise of each split; near 1, it is the
    adapter itself (a better or worse training run), which validation sees and test confirms."""
    t, v = _residuals(test["accuracy"]), _residuals(validation["accuracy"])
    if t.std() == 0 or v.std() == 0:
        return None
    return float(np.corrcoef(t.ravel(), v.ravel())[0, 1])


def _residuals(accuracy: Sequence[Sequence[float]]) -> np.ndarray:
    acc = np.asarray(accuracy, dtype=float)
    return acc - acc.mean(axis=1, keepdims=True) - (acc.mean(axis=0) - acc.mean())


def _rel(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


# The second success margin, set against measured training noise by a rule fixed on 2026-11-27
# (docs/protocol.md, "The noise margin") before the training-noise subset was complete and
# before the financial grid was recorded: one standard deviation of the config x training-seed
# interaction of test accuracy on this subset, rounded up to the next half point.
NOISE_SUBSET = "smollm2-135m/customer_support"
NOISE_STEP = Fraction(1, 200)


def noise_margin(noise: Mapping[str, Any], subset: str = NOISE_SUBSET) -> float | None:
    """The success margin the training noise measured on `subset` sets (see above), or None
    where no training-noise subset of it is recorded. A run that lands within it is as close
    to the grid's best as training the best config once more would be expected to land."""
    training = noise.get(subset, {}).get("training")
    if training is None:
        return None
    # The SD is a float: rounded to 1e-9 of a step first, so an SD of exactly 2.0 points that
    # numpy returns as 0.020000000000000004 stays 2 points, not 2.5.
    steps = math.ceil(round(training["test"]["residual_sd"] / float(NOISE_STEP), 9))
    return float(max(steps, 1) * NOISE_STEP)


def margin_line(
    noise: Mapping[str, Any], margin: float = SUCCESS_WITHIN, subset: str = NOISE_SUBSET
) -> str:
    """The success margins beside the measured noise, in one line (the race prints it)."""
    if not noise:
        return (
            f"success margin {100 * margin:g} pt (SUCCESS_WITHIN); no protocol-2 noise subset "
            "recorded yet to set it against"
        )
    parts = []
    for label, kinds in noise.items():
        for kind, r in kinds.items():
            t, v = r["test"], r["validation"]
            parts.append(
                f"{label} {kind} noise: SD {100 * t['within_config_sd']:.2f} pt on test "
                f"(interaction {100 * t['residual_sd']:.2f} pt), "
                f"{100 * v['within_config_sd']:.2f} pt on validation"
            )
    line = f"success margin {100 * margin:g} pt (SUCCESS_WITHIN); " + "; ".join(parts)
    second = noise_margin(noise, subset)
    if second is not None:
        t = noise[subset]["training"]["test"]
        line += (
            f"; noise margin {100 * second:g} pt (one interaction SD of training noise on test, "
            f"rounded up to half a point; {subset}, {t['configs']} configs x "
            f"{t['seeds']} training seeds)"
        )
    return line


# ------------------------------------------------------------------------------ markdown

_MEANING = {
    "training": (
        "Training the same config on the same data again moves its accuracy by this much. No "
        "strategy, exhaustive search included, can pick more reliably than one training run "
        "ranks configs: where the interaction SD is near or above the margin, a regret below "
        "the margin is partly training luck, and the single-seed pick's regret below is the "
        "floor a one-run-per-config method cannot go under."
    ),
    "data": (
        "Another draw of the generated data (training, validation and test examples) moves "
        "a config's accuracy by this much. The shift common to every config under one draw "
        "(an easier test sample) does not change regret; the interaction does: it is how far "
        "a pick that is best on one sample falls behind on another sample of the same task."
    ),
}


def _pt(x: float) -> str:
    return f"{100 * x:.2f} pt"


def _kind_lines(kind: str, r: Mapping[str, Any], margin: float) -> list[str]:
    t, v = r["test"], r["validation"]
    lines = [
        f"### {kind.capitalize()} noise ({r['rows'][0]}-row base + seeds "
        f"{', '.join(map(str, r['seeds'][1:]))}; {t['configs']} configs shared)",
        "",
        "| | test accuracy (the judge) | validation accuracy (every decision) |",
        "| --- | --- | --- |",
    ]
    rows = [
        ("examples per split", lambda x: f"{x['examples']:g}"),
        ("binomial SE of one accuracy at the top", lambda x: _pt(x["split_se_at_top"])),
        ("SD within a config, across seeds", lambda x: _pt(x["within_config_sd"])),
        (
            "shift common to all configs, per seed",
            lambda x: ", ".join(f"{100 * s:+.2f}" for s in x["seed_shift"]) + " pt",
        ),
        ("config x seed interaction SD", lambda x: _pt(x["residual_sd"])),
        ("mean absolute difference of two runs", lambda x: _pt(x["mean_abs_seed_diff"])),
        (
            f"pairs of runs differing by > {100 * margin:g} pt",
            lambda x: f"{100 * x['share_seed_diff_over_margin']:.0f}%",
        ),
        ("SD between configs", lambda x: _pt(x["between_config_sd"])),
        ("ICC (share of variance that is the config)", lambda x: f"{x['icc']:.2f}"),
        (
            "Spearman between runs",
            lambda x: ", ".join(f"{a:.2f}" for a in x["spearman_between_seeds"]),
        ),
        ("same best config in every run", lambda x: "yes" if x["same_best_all_seeds"] else "no"),
        (
            f"configs within {100 * margin:g} pt of the best, per run",
            lambda x: ", ".join(map(str, x["within_margin_per_seed"])),
        ),
        (
            "one run's best, judged by another run (mean / max regret)",
            lambda x: " / ".join(_pt(v) for v in x["regret_of_single_seed_pick"].values()),
        ),
    ]
    lines += [f"| {name} | {fmt(t)} | {fmt(v)} |" for name, fmt in rows]
    if r.get("shared_luck") is not None:
        lines.append(
            "| correlation of a run's test and validation residuals (its luck, shared?) "
            f"| {r['shared_luck']:.2f} | |"
        )
    ratio = margin / t["residual_sd"] if t["residual_sd"] > 0 else float("inf")
    lines += [
        "",
        f"What it means for the {100 * margin:g}-point success margin: {_MEANING[kind]} Here the "
        f"margin is {ratio:.2f} interaction SDs of test accuracy, and one run's best config "
        f"scores {_pt(t['regret_of_single_seed_pick']['mean'])} below another run's best on "
        "average.",
        "",
    ]
    return lines


def markdown(noise: Mapping[str, Any], margin: float = SUCCESS_WITHIN, header: str = "") -> str:
    lines = ["# Noise of the recorded ground truth (protocol 2)", "", header, ""]
    if not noise:
        lines.append(
            "Nothing to do yet: no noise subset (`<domain>-seed<k>.jsonl`, training seeds; "
            "`<domain>-data<k>.jsonl`, data seeds) recorded under protocol 2 shares two configs "
            "with its seed-0 grid. The protocol-1 figures (a data-sample SD that was reported "
            "as seed noise) are archived in `benchmarks/grids/archive/protocol-1/`."
        )
        return "\n".join(lines) + "\n"
    for label, kinds in noise.items():
        lines += [f"## {label}", ""]
        for kind in ("training", "data"):
            if kind in kinds:
                lines += _kind_lines(kind, kinds[kind], margin)
        for kind, r in kinds.items():
            lines += [f"Files ({kind}): " + ", ".join(f"`{f}`" for f in r["files"]), ""]
    return "\n".join(lines) + "\n"
