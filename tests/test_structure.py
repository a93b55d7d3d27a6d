"""The package's shape: imports flow one way, modules and functions stay small."""

from __future__ import annotations

import ast
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
    assert "va_mood.registry" in graph["va_mood.features"]  # the walk sees real imports
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


STAGES = [  # README's layout, top to bottom: a module imports from its own stage or above
    ["_atomic", "_digest", "_malloc", "_threads", "errors", "vocabulary", "quadrant"],
    ["audio", "loudness"],
    ["registry"],
    ["analysis", "musicnn"],
    ["energy", "pitch", "timbre", "harmony", "embedding", "quality", "features"],
    ["config", "locations"],
    ["extract", "cache", "feature_table", "long_files", "segments"],
    ["labels", "augment"],
    ["calibration", "trees", "fitted", "model"],
    ["metrics", "evaluate", "tuning", "bundle_schema", "bundle", "card"],
    ["output_scales", "api"],
    ["tag_formats", "tagging", "playlist", "plots", "page", "cli"],
]


def _stage(module: str) -> int:
    top = module.split(".")[1]
    return next(k for k, names in enumerate(STAGES) if top in names)


def test_imports_flow_one_way_through_the_stages():
    graph = import_graph(PACKAGE)
    upward = [
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name != "va_mood"
        for target in targets - {"va_mood"}  # the package itself: its lazy exports
        if _stage(target) > _stage(name)
    ]
    assert upward == []
    assert {m.split(".")[1] for m in graph if m != "va_mood"} == {n for s in STAGES for n in s}


def test_the_registry_and_the_vocabulary_import_nothing_above_them():
    graph = import_graph(PACKAGE)
    assert graph["va_mood.registry"] <= {"va_mood.errors"}
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
