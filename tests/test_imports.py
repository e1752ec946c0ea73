"""No import circles between the project's files.

Every module of the apps is parsed with ``ast`` (nothing is imported), and every import
counts, at module level and inside functions alike: an import moved into a function still
ties the two files together, it only hides the circle from Python's import machinery.

An import points at the most specific file it names: ``from finance import services`` at
``finance/services/__init__.py``, ``from finance.services.rollup import recompute_tco`` at
``finance/services/rollup.py``, ``from finance.services import recompute`` at the submodule.
A module importing a sibling of its own package is not counted as importing the package's
``__init__`` (Python has the package initialised by then).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("core", "portfolio", "finance", "valuestreams", "maturity", "portico")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT, apps=APPS) -> dict[str, Path]:
    modules = {}
    for app in apps:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            modules[module_name(path, root)] = path
    return modules


def imported_names(path: Path, name: str) -> list[tuple[str, int]]:
    """Every dotted name an import in ``path`` refers to, with its line; import_graph
    resolves each to the longest project module it starts with."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # ``from x import y`` names module x.y when y is a submodule, else x.
            found.extend((f"{module}.{alias.name}", node.lineno) for alias in node.names)
    return found


def import_graph(root: Path = ROOT, apps=APPS) -> tuple[dict[str, set[str]], int]:
    """Module → the project modules it imports, and how many imported names were read."""
    modules = project_modules(root, apps)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    statements = 0
    for name, path in modules.items():
        for target, _line in imported_names(path, name):
            statements += 1
            # The most specific project module the dotted name starts with.
            parts = target.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts:
                imported = ".".join(parts)
                if imported != name:
                    graph[name].add(imported)
    return graph, statements


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_import_graph_reads_function_local_and_relative_imports(tmp_path):
    """A circle hidden in a function, or written as a relative import, is still a circle."""
    package = tmp_path / "shop"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders.py").write_text("from shop import billing\n")
    (package / "billing.py").write_text(
        "import os\n\n\ndef invoice():\n    from shop.orders import Order\n"
    )
    (package / "stock.py").write_text("from . import billing\n")
    (package / "migrations" / "0001_initial.py").write_text("from shop import stock\n")
    graph, _ = import_graph(tmp_path, ("shop",))
    assert graph == {
        "shop": set(),
        "shop.billing": {"shop.orders"},
        "shop.orders": {"shop.billing"},
        "shop.stock": {"shop.billing"},
    }
    assert cycles(graph) == [["shop.billing", "shop.orders"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles_between_project_files():
    graph, statements = import_graph()
    assert len(graph) > 100 and statements > 500
    found = cycles(graph)
    modules = project_modules()
    described = [
        " <-> ".join(str(modules[name].relative_to(ROOT)) for name in component)
        for component in found
    ]
    assert not found, "Import circles between files:\n" + "\n".join(described)
