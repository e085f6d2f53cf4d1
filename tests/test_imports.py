"""Imports run one way, downwards (docs: DESIGN.md, "Layers"): no module of loratune imports a
module of a layer above its own, not at the top, not inside a function, not for type checking.

The package is read with `ast`, never imported, so the test sees every import, lazy ones
included. A module or package not in LAYERS fails the test: a new one must be placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "loratune"

# Higher numbers sit higher. Modules of one layer may import each other.
# Where the odd ones belong, by what they import and who imports them:
# - errors, jsonl, provenance: import nothing of loratune but errors; everything may use them.
# - claims: the study's trial claims and heartbeats (imports errors only; study uses it).
# - results: the records a run returns (Prediction, Validation, AutotuneResult); they hold
#   the study's TrialRecords, so they sit beside the study, below strategies and report.
# - deploy: the tuned adapter out; it loads models and the trainer's adapters and is used by
#   the API (model cards) and the CLI, so it sits beside strategies, executors and report.
# - the package root and __main__: entry points (lazy `loratune.autotune`, the CLI).
LAYERS: dict[str, int] = {
    "errors": 0,
    "registry": 0,  # the generic name -> entry registry every layer's registry is built on
    "jsonl": 1,
    "provenance": 1,
    "space": 1,
    "stats": 1,
    "tasks": 1,
    "models": 1,
    "gemma3": 1,  # the gemma3-270m loader (GGUF chunk wheels, cache); models registers it
    "claims": 2,
    "study": 2,
    "trainer": 2,
    "predictor": 2,
    "prior": 2,  # what earlier grids say: reads space and study records, used by strategies
    "results": 2,
    "strategies": 3,
    "executors": 3,
    "report": 3,
    "deploy": 3,
    "api": 4,
    "race": 4,  # the benchmark wing: replays grids through the loop, beside the API
    "cli": 5,
    "__init__": 6,
    "__main__": 6,
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    """The layer of a module `loratune.x.y...`: that of `x` (the root package is `__init__`)."""
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    if key not in LAYERS:
        raise KeyError(f"{module}: not placed in a layer; add it to LAYERS in {__file__}")
    return LAYERS[key]


def _imports(source: str, package: str, names: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every loratune module `source` imports, wherever the import stands
    (in a function, under TYPE_CHECKING); `package` resolves relative imports."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            # `from loratune import api` imports loratune.api, not the package root; with
            # `names`, `from pkg import x` gives pkg.x (a module, or a name the graph resolves).
            named = (
                [f"{module}.{a.name}" for a in node.names] if names or module == "loratune" else []
            )
            out += [(node.lineno, m) for m in named or [module]]
    return [(line, m) for line, m in out if m == "loratune" or m.startswith("loratune.")]


def _module_of(name: str, known: set[str]) -> str | None:
    """The module file an imported name resolves to: itself, or for `from pkg import name`
    where `name` is not a module, the package; None outside the package's files."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _graph(files: dict[str, tuple[str, str]]) -> dict[str, set[str]]:
    """Module -> the modules it imports, for `files` (module -> (source, package)). The implicit
    import of a parent package's `__init__` is not an edge: a package that re-exports its
    submodules is not a circle, a submodule importing its sibling back is."""
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, (source, package) in files.items():
        targets = {_module_of(m, known) for _, m in _imports(source, package, names=True)}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package_files() -> dict[str, tuple[str, str]]:
    out = {}
    for path in _modules():
        here = _name(path)
        package = here if path.name == "__init__.py" else here.rpartition(".")[0]
        out[here] = (path.read_text(encoding="utf-8"), package)
    return out


def test_no_import_circle() -> None:
    circles = _circles(_graph(_package_files()))
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_a_planted_circle_is_found() -> None:
    files = {
        "loratune.cli.app": ("from loratune.cli import deploy_cmds\n", "loratune.cli"),
        "loratune.cli.deploy_cmds": (
            "def f():\n    from loratune.cli.app import x\n",
            "loratune.cli",
        ),
        "loratune.cli": ("from loratune.cli.app import main\n", "loratune.cli"),
    }
    assert _circles(_graph(files)) == [["loratune.cli.app", "loratune.cli.deploy_cmds"]]
    files["loratune.cli.deploy_cmds"] = ("import loratune.errors\n", "loratune.cli")
    assert _circles(_graph(files)) == []


def test_a_planted_upward_import_is_found() -> None:
    source = "def f():\n    from loratune.race.bench import run_bench\n"
    found = [m for _, m in _imports(source, "loratune.strategies")]
    assert [m for m in found if _layer(m) > _layer("loratune.strategies.search")] == [
        "loratune.race.bench"
    ]


def test_every_module_is_placed() -> None:
    for path in _modules():
        _layer(_name(path))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_import_runs_upwards(path: Path) -> None:
    here = _name(path)
    level = _layer(here)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    upward = [
        f"{path.relative_to(SRC.parent)}:{line} imports {m} (layer {_layer(m)} > {level})"
        for line, m in _imports(path.read_text(encoding="utf-8"), package)
        if _layer(m) > level
    ]
    assert not upward, "\n".join(upward)


def test_the_walk_sees_every_kind_of_import() -> None:
    """The checker itself: lazy, type-checking, root and relative imports are all seen."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "import numpy\n"
        "if TYPE_CHECKING:\n    from loratune.api.autotune import AutotuneResult\n"
        "def f():\n    from loratune import stats, cli\n    import loratune.study\n"
        "from .data import gather\n"
    )
    found = sorted(m for _, m in _imports(source, "loratune.report"))
    assert found == [
        "loratune.api.autotune",
        "loratune.cli",
        "loratune.report.data",
        "loratune.stats",
        "loratune.study",
    ]
    assert _layer("loratune.api.autotune") > _layer("loratune.report.write")
