"""The layers hold: the import contracts in pyproject.toml, no import cycle, pages that only
lay out, and none of the library internals the code once leaned on."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("dashboard", "domain", "loaders")
PAGE_MAY_IMPORT = ("dashboard.ui", "dashboard.views", "dashboard.briefing", "dashboard.queries",
                   "dashboard.store", "domain", "loaders")
"""What a page may use: what sits below it (the Import page shows the importer's own
declarations and report); never the entrypoint or an engine."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            if "." in node.module:  # ``from dashboard import store`` imports the store only
                names.append(node.module)
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in PACKAGES)
    return found


def modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


def test_the_import_contracts_hold() -> None:
    run = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command;"
                          "lint_imports_command()"], cwd=ROOT, capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_no_module_imports_itself_back() -> None:
    known = modules()
    graph = {name: {m for m in project_imports(path) if m in known and m != name}
             for name, path in known.items()}
    # a package's __init__ is imported on the way to its modules: not an edge of its own
    graph = {name: {m for m in edges if not name.startswith(m + ".")}
             for name, edges in graph.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_pages_import_only_what_lies_below_them() -> None:
    for page in sorted((ROOT / "pages").glob("*.py")):
        for name in project_imports(page):
            assert name.startswith(PAGE_MAY_IMPORT), f"{page.name} imports {name}"
        source = page.read_text(encoding="utf-8")
        assert "import duckdb" not in source and "import ibis" not in source, page.name


def test_no_private_hooks_and_nothing_set_process_wide() -> None:
    banned = ["_get" + "frame", "setswitch" + "interval", "_run_pre_" + "execute_hooks",
              "import " + "*", "warnings." + "filterwarnings", "sys.setrecursion" + "limit"]
    for package in (*PACKAGES, "pages", "bench"):
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for word in banned:
                assert word not in text, f"{path.relative_to(ROOT)} uses {word}"


def test_core_modules_do_not_set_the_environment() -> None:
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:  # module level: runs at import
                text = ast.unparse(node)
                assert "os.environ[" not in text and "setdefault" not in text.split("(")[0], (
                    f"{path.relative_to(ROOT)} sets something at import: {text[:80]}")
