"""The package's architecture, enforced: no import cycle between files and no import from a lower layer up to a
higher one (issue 30). Imports inside functions count too: a lazy import is still a dependency.

The walk reads the source with :mod:`ast` (nothing is imported), so it is fast and sees every import statement.
``from pkg import name`` counts as an import of ``pkg.name`` when that is a module, else of ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "hf_hybrid"

# Bottom to top. A module may import its own layer and the layers below it, never above. Within a layer the cycle
# check keeps the order honest.
LAYERS = [
    ("foundation", ["version", "errors", "hub_names", "ranges", "atomic", "locks", "text", "tables", "prompts", "config", "languages",
                    "vector_index"]),
    ("data", ["data", "plan_config", "sampling", "plan_rows"]),
    ("models", ["e5_convert", "backends", "bm25", "models", "prefix_store", "frozen_prefix"]),
    ("evaluation", ["evaluation"]),
    ("training", ["training", "pretrain", "mining"]),
    ("publishing", ["cards", "dataset_card", "dataset_folder", "build", "demo", "hub", "export", "push_space"]),
    ("experiments", ["experiments"]),
    ("check", ["check"]),
    ("commands", ["commands", "cli", "train", "evaluate", "push", "mine", "quickstart", "__main__"]),
    ("public API", [""]),  # hf_hybrid/__init__.py: the names a user's own script imports
]


def modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (relative imports resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ["hf_hybrid", *package.split(".")] if package else ["hf_hybrid"]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            named = [f"{source}.{alias.name}" for alias in node.names]
            submodules = [t for t in named if t.removeprefix("hf_hybrid.") in known]
            targets = submodules + ([source] if len(submodules) < len(named) else [])
        else:
            continue
        for target in targets:
            if target != "hf_hybrid" and not target.startswith("hf_hybrid."):
                continue
            module = target.removeprefix("hf_hybrid").removeprefix(".")
            while module and module not in known:
                module = module.rpartition(".")[0]
            if module != name:
                found.add(module)
    return found


def enclosing_packages(target: str, importer: str, known: dict[str, Path]) -> set[str]:
    """The packages Python runs on the way to ``target`` (``a.b.c`` runs ``a/__init__`` and ``a/b/__init__``), an
    import of each as far as cycles and layers go; not the importer's own packages (already running) and not
    ``hf_hybrid/__init__`` itself (every import runs it: its names are resolved lazily, on first use)."""
    parts = target.split(".")
    packages = {".".join(parts[:i]) for i in range(1, len(parts))}
    return {p for p in packages if known[p].name == "__init__.py" and importer != p and not importer.startswith(p + ".")}


def graph() -> dict[str, set[str]]:
    known = modules()
    edges = {name: imports(name, path, known) for name, path in known.items()}
    return {name: targets | {p for t in targets for p in enclosing_packages(t, name, known)}
            for name, targets in edges.items()}


def layer_of(module: str) -> int:
    if module.rpartition(".")[2] == "__main__":  # ``python -m package``: an entry point, so a command
        module = "__main__"
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or prefix and module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    assert best is not None, f"hf_hybrid.{module} belongs to no layer: add it to LAYERS in tests/test_layers.py"
    return best[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_files():
    assert cycles(graph()) == []


def test_no_import_from_a_lower_layer_up_to_a_higher_one():
    upward = sorted(f"hf_hybrid.{a} ({LAYERS[layer_of(a)][0]}) -> hf_hybrid.{b} ({LAYERS[layer_of(b)][0]})"
                    for a, targets in graph().items() for b in targets if layer_of(b) > layer_of(a))
    assert upward == []


def test_the_walk_sees_lazy_and_relative_imports(tmp_path):
    """The checker itself can fail: an import inside a function and a relative import are both found."""
    (tmp_path / "a.py").write_text("def f():\n    from hf_hybrid.cards import x\n")
    (tmp_path / "b.py").write_text("from .a import f\n")
    known = {"a": tmp_path / "a.py", "b": tmp_path / "b.py", "cards": tmp_path / "a.py"}
    assert imports("a", tmp_path / "a.py", known) == {"cards"}
    assert imports("b", tmp_path / "b.py", known) == {"a"}
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


def test_an_import_of_a_module_in_a_package_runs_the_package_first(tmp_path):
    """``import pkg.mod`` runs ``pkg/__init__.py``: a cycle through it is a cycle (x -> pkg.mod, pkg -> x)."""
    (tmp_path / "pkg").mkdir()
    init, mod, x = tmp_path / "pkg" / "__init__.py", tmp_path / "pkg" / "mod.py", tmp_path / "x.py"
    known = {"pkg": init, "pkg.mod": mod, "x": x}
    assert enclosing_packages("pkg.mod", "x", known) == {"pkg"}
    assert enclosing_packages("pkg.mod", "pkg.other", known) == set()  # inside pkg: its __init__ already runs
    assert cycles({"x": {"pkg.mod", *enclosing_packages("pkg.mod", "x", known)}, "pkg": {"x"}}) == [["pkg", "x"]]
