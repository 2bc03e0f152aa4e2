"""The design's import rules, checked on the source (an AST scan): which app may import
which, that the simulator stays out of production code, and that no two files import
each other in a loop."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("padu", "accounts", "channels_meta", "inbox", "privacy")
SIMULATOR = "channels_meta.simulator"
# The commands that play Meta: its server, and its callbacks to a running Padu.
SIMULATOR_COMMANDS = {
    "channels_meta.management.commands.meta_simulator",
    "channels_meta.management.commands.meta_callback",
}
GRAPH = "channels_meta.graph"
# What sends a request to Meta directly; everything outside the Graph layer goes
# through the modules of `channels_meta.graph.calls` instead.
GRAPH_CLIENT_NAMES = {"client", "GraphClient"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    return {
        _module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


SOURCES = _sources()


def _runtime_nodes(tree: ast.AST):
    """Every node, except what sits under `if TYPE_CHECKING:` (never imported at run time)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(module: str) -> set[str]:
    """The Padu modules `module` imports (a name imported from a package counts as its
    module when it is one)."""
    found = set()
    package = module if SOURCES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_nodes(ast.parse(SOURCES[module].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in SOURCES else base)
    return {name for name in found if name.split(".")[0] in APPS and name in SOURCES}


IMPORTS = {module: _imports(module) for module in SOURCES}


def _app(module: str) -> str:
    return module.split(".")[0]


def _inbox_may_import(imported: str) -> bool:
    """Of channels_meta, the inbox uses the models, the Graph layer, the services, the
    vault (for forwarding's signing secrets) and, of the webhooks, only the inbound
    contract (the events it records)."""
    if _app(imported) != "channels_meta":
        return True
    return (
        imported.split(".")[1] in ("models", "graph", "services", "vault")
        or imported == "channels_meta.webhooks.events"
    )


# Each rule: (module, imported) -> True when that import breaks it.
IMPORT_RULES = {
    "accounts imports no other Padu app": lambda module, imported: (
        _app(module) == "accounts" and _app(imported) not in {"accounts", "padu"}
    ),
    "inbox uses only channels_meta's models, events, graph and services": (
        lambda module, imported: _app(module) == "inbox" and not _inbox_may_import(imported)
    ),
    "nothing but padu imports privacy": lambda module, imported: (
        _app(module) not in {"padu", "privacy"} and _app(imported) == "privacy"
    ),
    "only the simulator's commands import it": lambda module, imported: (
        not module.startswith(SIMULATOR)
        and module not in SIMULATOR_COMMANDS
        and imported.startswith(SIMULATOR)
    ),
    "the simulator imports nothing of Padu": lambda module, imported: (
        module.startswith(SIMULATOR) and not imported.startswith(SIMULATOR)
    ),
}


def _breaking(rule: str, imports: dict[str, set[str]]) -> set[tuple[str, str]]:
    broken = IMPORT_RULES[rule]
    return {
        (module, imported)
        for module, imported_modules in imports.items()
        for imported in imported_modules
        if broken(module, imported)
    }


@pytest.mark.parametrize("rule", IMPORT_RULES)
def test_every_import_keeps_the_rule(rule):
    assert _breaking(rule, IMPORTS) == set()


@pytest.mark.parametrize(
    ("rule", "module", "imported"),
    [
        ("accounts imports no other Padu app", "accounts.bad", "channels_meta.models"),
        (
            "inbox uses only channels_meta's models, events, graph and services",
            "inbox.bad",
            "channels_meta.webhooks.processing",
        ),
        ("nothing but padu imports privacy", "inbox.bad", "privacy.models"),
        ("only the simulator's commands import it", "channels_meta.bad", f"{SIMULATOR}.app"),
        ("the simulator imports nothing of Padu", f"{SIMULATOR}.bad", "accounts.models"),
    ],
)
def test_a_module_breaking_the_rule_is_reported(rule, module, imported):
    imports = {**IMPORTS, module: {imported}}

    assert _breaking(rule, imports) == {(module, imported)}


@pytest.mark.parametrize(
    ("imported", "allowed"),
    [
        ("channels_meta.webhooks.events", True),
        ("channels_meta.models", True),
        ("channels_meta.graph.calls.sending", True),
        ("channels_meta.services.channels", True),
        ("channels_meta.vault", True),
        ("channels_meta.webhooks.processing", False),
        ("channels_meta.webhooks.parsers", False),
        ("channels_meta.webhooks", False),
        ("channels_meta.views", False),
    ],
)
def test_the_inbox_rule_lets_in_the_events_and_nothing_else_of_webhooks(imported, allowed):
    assert _inbox_may_import(imported) is allowed


def _in_graph(module: str) -> bool:
    return module == GRAPH or module.startswith(f"{GRAPH}.")


def _graph_client_uses(module: str) -> set[str]:
    """Where `module` reaches the Graph client itself: by importing its module, or the
    names `client` or `GraphClient` from the Graph layer, or by reading them off a
    module of the Graph layer it imported (`sending.client()`, `calls.sending.client()`)."""
    found = set()
    graph_modules: set[str] = set()
    for node in _runtime_nodes(ast.parse(SOURCES[module].read_text())):
        if isinstance(node, ast.Import):
            found.update(
                alias.name for alias in node.names if alias.name.startswith(f"{GRAPH}.client")
            )
        elif isinstance(node, ast.ImportFrom) and _in_graph(f"{node.module}.x"):
            for alias in node.names:
                if alias.name in GRAPH_CLIENT_NAMES:
                    found.add(f"{node.module}.{alias.name}")
                else:
                    graph_modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module == "channels_meta":
            graph_modules.update(
                alias.asname or "graph" for alias in node.names if alias.name == "graph"
            )
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in GRAPH_CLIENT_NAMES
            and _root_name(node) in graph_modules
        ):
            found.add(f"{_root_name(node)}.{node.attr}")
    return found


def _root_name(node: ast.Attribute) -> str:
    """The name an attribute chain starts from: `calls` in `calls.sending.client`."""
    value = node.value
    while isinstance(value, ast.Attribute):
        value = value.value
    return value.id if isinstance(value, ast.Name) else ""


def test_only_the_graph_layer_uses_the_graph_client():
    offenders = {
        (module, use)
        for module in SOURCES
        if not _in_graph(module)
        for use in _graph_client_uses(module)
    }

    assert offenders == set()


@pytest.mark.parametrize(
    "source",
    [
        "from channels_meta.graph.client import client\nclient().get('me')",
        "from channels_meta.graph.client import GraphClient",
        "from channels_meta.graph import client as graph_client\ngraph_client.client()",
        "import channels_meta.graph.client",
        "from channels_meta.graph.calls import sending\nsending.client().post('1/messages')",
        "from channels_meta.graph import calls\ncalls.sending.client().post('1/messages')",
        "from channels_meta import graph\ngraph.client",
        "from channels_meta import graph\ngraph.calls.sending.client()",
    ],
)
def test_the_scan_finds_a_module_that_calls_meta_around_the_graph_layer(
    tmp_path, monkeypatch, source
):
    monkeypatch.setitem(SOURCES, "inbox.services.replies", tmp_path / "replies.py")
    (tmp_path / "replies.py").write_text(source)

    assert _graph_client_uses("inbox.services.replies") != set()


@pytest.mark.parametrize(
    "source",
    [
        "from channels_meta.graph.calls import sending\nsending.message_send(text='Hi')",
        "from channels_meta.graph.errors import GraphError, RateLimited",
        "from channels_meta.graph.ids import node_id",
        "from django.test import Client\nclient = Client()\nclient.get('/')",
    ],
)
def test_the_scan_lets_modules_go_through_graph_calls(tmp_path, monkeypatch, source):
    monkeypatch.setitem(SOURCES, "inbox.services.replies", tmp_path / "replies.py")
    (tmp_path / "replies.py").write_text(source)

    assert _graph_client_uses("inbox.services.replies") == set()


def _cycle() -> list[str]:
    """One import loop between files, or [] when there is none."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = "open"
        path.append(module)
        for imported in sorted(IMPORTS[module]):
            if state.get(imported) == "open":
                return [*path[path.index(imported) :], imported]
            if imported not in state and (loop := visit(imported)):
                return loop
        state[module] = "done"
        path.pop()
        return []

    for module in sorted(IMPORTS):
        if module not in state and (loop := visit(module)):
            return loop
    return []


def test_no_two_files_import_each_other_in_a_loop():
    assert _cycle() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from accounts import services", {"accounts.services"}),
        ("from accounts.models import User", {"accounts.models"}),
        ("import inbox.models", {"inbox.models"}),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import inbox.models", set()),
    ],
)
def test_the_scan_reads_imports_as_python_does(tmp_path, monkeypatch, source, expected):
    monkeypatch.setitem(SOURCES, "accounts.views.auth", tmp_path / "auth.py")
    (tmp_path / "auth.py").write_text(source)

    assert _imports("accounts.views.auth") == expected


def test_the_scan_finds_a_loop(monkeypatch):
    monkeypatch.setitem(IMPORTS, "inbox.models", {"inbox.services"})
    monkeypatch.setitem(IMPORTS, "inbox.services", {"inbox.models"})

    loop = _cycle()

    assert set(loop) == {"inbox.models", "inbox.services"}
    assert loop[0] == loop[-1]
