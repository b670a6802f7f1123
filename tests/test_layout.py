"""The folder tree is the architecture: metrics/'s packages are layers, and the code keeps to them.

- Each package of metrics/ imports only from the layers before it in LAYERS (and from itself), so there
  are no import cycles between packages; and none between modules either.
- No function-level import of the project's own modules unless the line before says why (a comment).
- metrics/ never imports Streamlit.
- README.md's layout section names every package.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Bottom to top: a layer may use any layer before it.
LAYERS = ("errors", "sql", "catalogue", "access", "formatting", "store", "compute", "ingest", "voice", "features",
          "present", "deliver", "demo", "cli", "__main__")
APP = ("app_cache", "session", "widgets", "dashboard")


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "metrics").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, module: str) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level?) for every import of the project's own code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(id(n) for n in tree.body) | {id(n) for n in ast.walk(tree) if isinstance(n, (ast.If, ast.Try))
                                           and n in tree.body}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in _modules() else base for a in node.names]
        for name in names:
            if name.split(".")[0] in ("metrics", *APP):
                found.append((name, node.lineno, id(node) in top))
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_is_a_known_layer():
    layers = {_layer(m) for m in _modules()} - {"__init__"}
    assert layers <= set(LAYERS), f"packages not in LAYERS: {sorted(layers - set(LAYERS))}"


def test_packages_import_only_the_layers_before_them():
    wrong = []
    for module, path in _modules().items():
        if module == "metrics":
            continue                       # the public API re-exports lazily (no import at load time)
        mine = LAYERS.index(_layer(module))
        for name, line, _ in _imports(path, module):
            if name.split(".")[0] != "metrics" or name == "metrics":
                wrong += [f"{path.relative_to(ROOT)}:{line} imports {name}"] if name != "metrics" else []
                continue
            theirs = _layer(name)
            if theirs != "__init__" and LAYERS.index(theirs) > mine:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({_layer(module)}) imports {name} ({theirs})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {m: {n for n, _, _ in _imports(p, m) if n in modules} for m, p in modules.items()}   # lazy imports too
    seen, on_path, cycles = set(), [], []

    def visit(m):
        if m in on_path:
            cycles.append(" → ".join(on_path[on_path.index(m):] + [m]))
            return
        if m in seen:
            return
        seen.add(m)
        on_path.append(m)
        for n in sorted(graph[m]):
            visit(n)
        on_path.pop()

    for m in sorted(graph):
        visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_function_level_imports_of_our_own_code_say_why():
    files = list(_modules().values()) + [ROOT / f"{a}.py" for a in APP] + sorted((ROOT / "pages").glob("*.py"))
    unexplained = []
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, line, top in _imports(path, ""):
            if not top and not lines[line - 2].strip().startswith("#"):
                unexplained.append(f"{path.relative_to(ROOT)}:{line} imports {name} inside a function")
    assert not unexplained, "\n".join(unexplained)


def test_the_library_never_imports_streamlit():
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] == "streamlit" for n in names), f"{module} imports streamlit"


def test_the_readme_layout_names_every_package():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):readme.index("## Command line")]
    packages = sorted({p.parent.name for p in (ROOT / "metrics").rglob("__init__.py")} - {"metrics"})
    missing = [p for p in packages if f"{p}/" not in layout]
    assert not missing, f"README.md's layout section does not name: {missing}"


def test_the_public_api_resolves_every_name_it_states():
    import metrics
    assert {"load_config", "Engine", "Viewer", "Role", "Scope", "Period", "MetricsError"} <= set(metrics.__all__)
    for name in metrics.__all__:
        assert getattr(metrics, name).__module__.startswith("metrics."), name
