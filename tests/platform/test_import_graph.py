"""The project's import graph runs one way: no cycle between its Django apps, and no cycle between its
modules, counting every import (at module level and inside functions, relative ones, and
``from package import submodule``), so that no function-level import hides a cycle.

Read with the standard library's ``ast`` only: nothing is imported, so a cycle cannot hide behind
import order either.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("apps", "certmate")


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages by its dotted name (a package by its own name), but
    migrations: they are history and reach models through the app registry, not imports."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def _closest(name: str, modules: dict[str, Path]) -> str | None:
    """The project module that importing ``name`` runs: itself, or the package nearest to it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_by(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports anywhere in its code."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # ``from package import name``: the submodule when ``name`` is one, else the package.
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found.update(target for name in names if (target := _closest(name, modules)) not in (None, module))
    return found


def module_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {module: imported_by(module, path, modules) for module, path in modules.items()}


def django_apps(modules) -> list[str]:
    """The project's Django apps: its packages with an ``apps.py`` (apps.accounts, certmate.<app>, ...)."""
    return sorted(module.rpartition(".")[0] for module in modules if module.endswith(".apps") and "." in module)


def app_of(module: str, apps: list[str]) -> str | None:
    return next((app for app in apps if module == app or module.startswith(app + ".")), None)


def app_graph(graph: dict[str, set[str]]) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """Which app imports which (the project package outside its apps is wiring, not an app), and for
    each such edge the imports that make it."""
    apps = django_apps(graph)
    edges, why = defaultdict(set), defaultdict(list)
    for module, targets in graph.items():
        source = app_of(module, apps)
        for target in targets:
            destination = app_of(target, apps)
            if source and destination and source != destination:
                edges[source].add(destination)
                why[(source, destination)].append(f"{module} -> {target}")
    return {app: edges[app] for app in apps}, why


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"    {source} -> {target}" for source in component for target in sorted(graph[source] & members)]
    return "\n".join([" <-> ".join(component), *edges])


def test_the_graph_sees_every_kind_of_import():
    graph = module_graph()
    # A relative import, one inside a method (AppConfig.ready), and ``from package import submodule``.
    assert "apps.certificates.models.certificates" in graph["apps.certificates.models"]
    assert "apps.accounts.signals" in graph["apps.accounts.apps"]
    assert "apps.certificates.api.views" in graph["apps.certificates.api.urls"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert not cycles({"a": {"b"}, "b": set()})


def test_apps_import_each_other_one_way():
    edges, why = app_graph(module_graph())
    assert {"apps.accounts", "apps.certificates", "apps.storage", "certmate.audit"} <= set(edges)
    # The one-way order: storage -> certificates -> accounts (and every app -> certmate.audit).
    for app, below in (("apps.accounts", "apps.certificates"), ("apps.certificates", "apps.storage")):
        assert below not in edges[app], f"{app} imports {below}: {why[(app, below)]}"
    found = cycles(edges)
    message = "\n".join(
        f"{' <-> '.join(component)} through:\n    "
        + "\n    ".join(line for a in component for b in component if a != b for line in why[(a, b)])
        for component in found
    )
    assert not found, f"the Django apps import each other in a cycle:\n{message}"


def test_no_module_is_part_of_an_import_cycle():
    graph = module_graph()
    found = cycles(graph)
    message = "\n".join(describe(component, graph) for component in found)
    assert not found, f"modules that import each other (directly or through others):\n{message}"


# Code shared by every engine: it reaches an engine through apps.certificates.engines, never directly.
ENGINE_NEUTRAL = (
    "apps.certificates.api.serializers.certificates",
    "apps.certificates.selectors",
    "apps.certificates.services.due",
    "apps.certificates.services.issuance",
    "apps.certificates.services.jobs",
    "apps.certificates.services.leases",
    "apps.certificates.services.renewals",
    "apps.certificates.services.revocation",
)


def test_shared_code_reaches_engines_only_through_their_interface():
    graph = module_graph()
    found = sorted(
        f"{module} -> {target}"
        for module in ENGINE_NEUTRAL
        for target in graph[module]
        if target.startswith("apps.certificates.acme")
    )
    assert not found, f"shared code imports an engine directly: {found}"
