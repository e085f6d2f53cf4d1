"""benchmarks/DEVICE.md from the JSON that `device_check.py` wrote on the device machine."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _key(trial: dict[str, Any]) -> tuple[Any, ...]:
    c = trial["config"]
    return (c["rank"], c["alpha"], c["learning_rate"], c["weight_decay"])


def _trial_section(t: dict[str, Any]) -> list[str]:
    p = t["provenance"]
    lines = [
        "## One config, three trainings (training seeds 0, 0, 1)",
        "",
        f"`{t['config']}` on customer_support, base weights {t['dtype']} with bf16 autocast "
        f"= {t['autocast']}; loading the model took {t['load_seconds']:.1f} s. "
        f"Zero-shot validation accuracy {t['zero_shot_validation']:.3f}.",
        "",
        "| seed | validation | test | set-up s | epochs s | checks s | test s | wall s "
        "| tokens/s | peak MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in t["runs"]:
        epochs = " / ".join(f"{x:.1f}" for x in r["epoch_seconds"])
        checks = " / ".join(f"{x:.1f}" for x in r["check_seconds"])
        lines.append(
            f"| {r['seed']} | {r['val_correct']}/{r['val_total']} | "
            f"{r['test_correct']}/{r['test_total']} | {r['setup_seconds']:.2f} | {epochs} | "
            f"{checks} | {r['test_seconds']:.1f} | {r['wall_seconds']:.1f} | "
            f"{r['tokens_per_second']:.0f} | {r['peak_memory_mb']:.0f} |"
        )
    same = t["same_seed_max_abs_diff"]
    lines += [
        "",
        f"Same seed, same adapter: the largest difference between the two seed-0 adapters' "
        f"LoRA weights is **{same:g}**"
        + (" (bit for bit identical)" if same == 0 else "")
        + f"; seed 1's differ from them by up to {t['other_seed_max_abs_diff']:.3g}. "
        "The first training includes CUDA's warm-up (kernel selection, allocator growth), so "
        "its first epoch and checks are slower than the others'.",
        "",
        f"Machine: {p['gpu']}, {p['cpu']} ({p['cpu_threads']} threads), Python {p['python']}, "
        + ", ".join(f"{k} {v}" for k, v in p["packages"].items() if v)
        + f"; loratune's code at commit {p['git_commit']} (device_check.py from "
        + f"{t.get('source_commit')}).",
    ]
    return lines


def _autotune_section(local: dict[str, Any], ray: dict[str, Any] | None) -> list[str]:
    runs = [("in process", local)] + ([("Ray", ray)] if ray else [])
    lines = [
        "## The demo's autotune, in process and through Ray",
        "",
        "`"
        + " ".join(local["command"])
        + "` in process, then "
        + ("`" + " ".join(ray["command"]) + "`" if ray else "(Ray not run)")
        + " on the same machine, one after the other, nothing else running. Wall time counts "
        "the whole command: process start, model loading (each Ray worker loads its own "
        "copy), every trial, the report.",
        "",
        "| backend | exit | wall s | trials | stopped early | charged s (sum) | devices "
        "| workers |",
        "|:---|---:|---:|---:|---:|---:|:---|---:|",
    ]
    for name, run in runs:
        done = [t for t in run["trials"] if t["status"] == "complete"]
        devices = sorted({f"{t['device']} ({t['gpu']})" for t in done})
        workers = {t["worker"]["pid"] for t in done if t["worker"]["pid"] is not None}
        lines.append(
            f"| {name} | {run['returncode']} | {run['wall_seconds']:.1f} | {len(done)} | "
            f"{sum(bool(t['stopped_early']) for t in done)} | "
            f"{sum(t['charged_seconds'] for t in done):.1f} | {', '.join(devices)} | "
            f"{len(workers) or '-'} |"
        )
    if ray:
        a = {_key(t): t["val_correct"] for t in local["trials"]}
        b = {_key(t): t["val_correct"] for t in ray["trials"]}
        same = sum(a[k] == b.get(k) for k in a)
        ratio = local["wall_seconds"] / ray["wall_seconds"]
        lines += [
            "",
            f"Wall time, in process over Ray: **{ratio:.2f}x** "
            "(one machine, one run each). Validation counts equal in "
            f"{same} of {len(a)} configs trained by both; the two runs "
            + ("made the same decisions." if same == len(a) == len(b) else "differ."),
        ]
    lines += [""] + [f"- The pick ({name}): {_pick(run)}." for name, run in runs]
    return lines


def _pick(run: dict[str, Any]) -> str | None:
    """The CLI's 'best config: ...' sentence (it wraps at 80 columns: fold the lines first)."""
    said = " ".join(run["stdout_tail"].split())
    found = re.search(r"best config: (.*?) \((?:explore|verify)", said)
    return found.group(1) if found else None


def _rows(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / f"{name}.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def _warm_up_section(rows: list[dict[str, Any]]) -> list[str]:
    """What the first trial of a cold process paid, read from the in-process run's rows."""
    done = [r for r in rows if r["status"] == "complete" and r.get("epoch_seconds")]
    if len(done) < 2:
        return []
    first, rest = done[0], done[1:]
    later = sorted(x for r in rest for x in r["epoch_seconds"])
    median = later[len(later) // 2]
    verified = [r for r in rest if r.get("predicted_latency") and not r["stopped_early"]]
    lines = [
        "## The first trial pays the GPU's warm-up",
        "",
        f"In process, the first trial (rank {first['config']['rank']}) trained its epochs in "
        + " / ".join(f"{x:.1f}" for x in first["epoch_seconds"])
        + f" s; the median epoch of the {len(rest)} trials after it took {median:.1f} s.",
    ]
    if verified:
        pred = [r["predicted_latency"] for r in verified]
        got = [sum(r["epoch_seconds"]) / len(r["epoch_seconds"]) for r in verified]
        lines[-1] += (
            f" The time model, fitted on the explored trials, first among them, predicted "
            f"{min(pred):.1f}-{max(pred):.1f} s an epoch for the {len(verified)} verified "
            f"configs, which took {min(got):.1f}-{max(got):.1f} s."
        )
    lines += [
        "",
        "Since commit 3161647 the executor trains and scores a throwaway trial on 16 examples "
        "before the first real one on an accelerator (`loratune.executors.local.warm_up`), so "
        "that cost counts with the model load. Its effect has not been measured on a GPU yet: "
        "no machine was lent after it was written (`device_check.py autotune --tag warm`).",
    ]
    return lines


def write_report(folder: Path, out: Path) -> None:
    trial, local, ray = (_load(folder, n) for n in ("trial", "autotune", "ray"))
    lines = [
        "# The accelerator path, run on a GPU",
        "",
        "Generated by `python benchmarks/device_check.py report --out benchmarks/device` from "
        "the JSON the other phases wrote on a lent GPU machine (`device_check.py trial|autotune|"
        "ray`). Seconds here are that machine's; no ratio below mixes it with another machine, "
        "and accuracies differ from the CPU grids' because the GPU trains with bf16 autocast "
        "where this project's CPU trains in fp32.",
        "",
    ]
    if trial:
        lines += _trial_section(trial) + [""]
    if local:
        lines += _autotune_section(local, ray) + [""]
        lines += _warm_up_section(_rows(folder, "autotune")) + [""]
    out.write_text("\n".join(lines))
