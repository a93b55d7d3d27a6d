"""The package's shape: imports flow one way, modules and functions stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "va_mood"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under the package folder ``root``."""
    modules = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules that module ``name`` imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in known and m != name}


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module of the package at ``root`` and the package modules it imports."""
    modules = _modules(root)
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (its modules in order, the first repeated), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle_in_the_package():
    graph = import_graph(PACKAGE)
    assert len(graph) > 30
    assert (
        "va_mood.features.registry" in graph["va_mood.features.clip"]
    )  # the walk sees real imports
    assert find_cycle(graph) is None


def test_cycle_finder_finds_a_cycle_through_a_function_level_import(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import thing\n")
    (pkg / "b.py").write_text("def thing():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from .. import a\n")
    cycle = find_cycle(import_graph(pkg))
    assert cycle is not None and set(cycle) >= {"pkg.a", "pkg.b", "pkg.sub.c"}


STAGES = {  # README's layout, top to bottom: a module imports from its own stage or above
    "va_mood": [
        ["util", "errors", "vocabulary", "quadrant"],
        ["audio"],
        ["features"],
        ["config", "locations"],
        ["extraction"],
        ["labels"],
        ["model"],
        ["evaluation"],
        ["tuning"],
        ["outputs"],
        ["api"],
        ["cli"],
    ],
    "va_mood.util": [["atomic", "digest", "memory", "processes", "threads", "lazy", "moved"]],
    "va_mood.audio": [["discover"], ["loudness", "decode"]],
    "va_mood.features": [
        ["registry"],
        ["analysis", "musicnn"],
        ["energy", "pitch", "timbre", "harmony", "embedding", "quality"],
        ["clip"],
    ],
    "va_mood.extraction": [["segments", "table", "cache"], ["long_files"], ["batch"]],
    "va_mood.labels": [["files"], ["augment"]],
    "va_mood.model": [
        ["calibration", "trees"],
        ["heads"],
        ["estimator"],
        ["schema", "card"],
        ["bundle"],
    ],
    "va_mood.evaluation": [["metrics"], ["cross_validation"]],
    "va_mood.tuning": [["interrupts", "space"], ["objective"], ["studies"], ["results"]],
    "va_mood.outputs": [["scales", "tag_formats"], ["tagging", "playlist", "plots"], ["page"]],
    "va_mood.cli": [
        ["progress"],
        ["common", "options"],
        ["predict", "train", "tune", "library", "page"],
    ],
}
"""Each package's stages: its modules (or subpackages), in the order data flows through them."""


def _stage(module: str, package: str = "va_mood") -> int:
    """The stage, within ``package``, of ``module`` or of the part of ``package`` that holds it."""
    part = module.removeprefix(package + ".").split(".")[0]
    return next(k for k, names in enumerate(STAGES[package]) if part in names)


def _upward(name: str, target: str) -> bool:
    """Whether ``name`` importing ``target`` goes against the flow, at the top or in a package."""
    if target == "va_mood" or name == "va_mood":
        return False  # the package itself: its lazy exports
    if _stage(target) != _stage(name):
        return _stage(target) > _stage(name)
    package = name.rpartition(".")[0]
    if package not in STAGES or not target.startswith(package + ".") or name.endswith("__main__"):
        return False  # a stage's index (its __init__) offers what its modules do
    return _stage(target, package) > _stage(name, package)


def test_imports_flow_one_way_through_the_stages():
    graph = import_graph(PACKAGE)
    upward = [f"{n} -> {t}" for n, targets in graph.items() for t in targets if _upward(n, t)]
    assert upward == []


def test_every_module_has_a_stage():
    graph = import_graph(PACKAGE)
    for package, stages in STAGES.items():
        inside = {
            m.removeprefix(package + ".").split(".")[0]
            for m in graph
            if m.startswith(package + ".")
        }
        assert inside - {"__main__"} == {n for s in stages for n in s}, package


def test_stage_checks_catch_an_upward_import():
    assert _upward("va_mood.features.energy", "va_mood.model.heads")
    assert _upward("va_mood.features.registry", "va_mood.features.clip")
    assert not _upward("va_mood.features.clip", "va_mood.features.registry")
    assert not _upward("va_mood.api", "va_mood.audio.decode")


def test_the_top_level_holds_few_files():
    assert len(list(PACKAGE.glob("*.py"))) <= 8


def test_no_library_module_imports_test_or_benchmark_helpers():
    forbidden = {"pytest", "hypothesis", "playwright", "tests", "benchmarks", "conftest"}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            assert not {n.split(".")[0] for n in names} & forbidden, path


def test_importing_any_part_of_the_features_sees_every_group():
    """The registry is complete however it is reached: the package's index registers the groups."""
    code = (
        "import va_mood.extraction.long_files as lf;"
        "from va_mood.features.registry import REGISTRY;"
        "print(len(REGISTRY), len(lf.SAMPLED_PER_BLOCK))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n_groups, n_sampled = map(int, out.stdout.split())
    assert n_groups >= 20 and n_sampled == 2


def test_old_module_paths_still_import_with_a_warning():
    code = "import warnings; warnings.simplefilter('error');import va_mood.registry"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "va_mood.registry moved to va_mood.features.registry" in out.stderr
    with pytest.warns(DeprecationWarning, match="va_mood.output_scales moved to va_mood.outputs"):
        sys.modules.pop("va_mood.output_scales", None)
        from va_mood.output_scales import as_rows
    from va_mood.outputs.scales import as_rows as new

    assert as_rows is new


def test_the_registry_and_the_vocabulary_import_nothing_above_them():
    graph = import_graph(PACKAGE)
    assert graph["va_mood.features.registry"] <= {"va_mood.errors"}
    assert graph["va_mood.vocabulary"] == set()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_and_functions_stay_small(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}: {node.name} has {length} lines"


def test_no_private_name_imported_across_modules():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from .{node.module}"
