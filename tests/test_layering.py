"""The core never loads a chat platform's SDK or the web server (DESIGN.md), nor ``openai``
until a model is configured; the packages keep their layers and no import goes round in a
circle (the contracts in pyproject.toml, README "Layout")."""

from __future__ import annotations

import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "adapters", "policybot")

FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp", "openai")


def test_importing_every_core_module_loads_no_platform_sdk() -> None:
    script = (
        "import importlib, pkgutil, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_importing_the_core_loads_no_adapter_and_no_command_line() -> None:
    """``bot`` sits below ``adapters`` and ``policybot`` (the command line): importing every
    core module loads neither (issue 11)."""
    script = (
        "import importlib, pkgutil, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(','.join(sorted(n for n in sys.modules if n.split('.')[0] in "
        "('adapters', 'policybot'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_surface_is_sorted_and_complete() -> None:
    import bot

    assert bot.__all__ == sorted(bot.__all__)
    for name in bot.__all__:
        assert hasattr(bot, name), name


STORAGE_MODULES = (
    "bot.audit.trail",
    "bot.cases.rows",
    "bot.cases.service",
    "bot.cases.casework",
    "bot.storage.db",
    "bot.cases.outbox",
)


def test_adapters_go_through_the_assistant_only() -> None:
    """No adapter reaches past :class:`bot.assistant.Assistant` into the case work, builds
    a case request, or imports the storage side of the core (issue 11)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "adapters"
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(root.parent)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr in {"work", "casework"}:
                found.append(f"{where} .{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module in STORAGE_MODULES:
                found.append(f"{where} from {node.module}")
            elif isinstance(node, ast.Name) and node.id == "CaseRequest":
                found.append(f"{where} CaseRequest")
    assert found == []


#: The platform state's untyped key-value calls: the core's typed ones say what is kept.
UNTYPED_STATE = {"recall", "remember", "remember_card", "card"}
#: The settings that name people: who is an admin or a reviewer is decided in the core.
PEOPLE_SETTINGS = {"admins", "hr_reviewers", "comms_reviewers"}


def test_adapters_keep_no_platform_state_of_their_own_and_decide_no_people() -> None:
    """Adapters use the core's typed platform state (where a card is, names, chats, the
    service URL) and never build its keys, and never read who the configured people are
    (issue 11)."""
    import ast

    root = ROOT / "adapters"
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if not isinstance(node, ast.Attribute):
                continue
            if node.attr in PEOPLE_SETTINGS:
                found.append(f"{where} .{node.attr}")
            elif node.attr in UNTYPED_STATE and "state" in ast.unparse(node.value):
                found.append(f"{where} state.{node.attr}")
    assert found == []


def test_platform_adapters_import_neither_each_other_nor_the_server() -> None:
    """Slack and Teams share only the core and ``adapters.delivery``: no import cycle with
    the server that mounts them (issue 11)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "adapters"
    found: list[str] = []
    for platform, others in (("slack", ("teams",)), ("teams", ("slack",))):
        forbidden = {f"adapters.{name}" for name in (*others, "server", "console")}
        for path in sorted((root / platform).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                for name in names:
                    if any(name == bad or name.startswith(f"{bad}.") for bad in forbidden):
                        found.append(f"{path.relative_to(root.parent)} imports {name}")
    assert found == []


LINT_IMPORTS = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True))"
)


def test_the_import_contracts_are_kept() -> None:
    """``lint-imports`` with the contracts of pyproject.toml: the command line above the
    adapters above the core, the core's own layers, Slack and Teams independent, no cycle."""
    result = subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def sibling_cycles(graph: grimp.ImportGraph) -> list[str]:
    """Each package whose children (modules, and sub-packages taken whole) import each other
    in a circle, with the circle: ``bot: bot.cases -> bot.audit -> bot.cases``."""
    found = []
    parents = [m for m in sorted(graph.modules) if graph.find_children(m)]
    for parent in parents:
        children = sorted(graph.find_children(parent))
        edges = {
            child: [
                other
                for other in children
                if other != child
                and graph.direct_import_exists(importer=child, imported=other, as_packages=True)
            ]
            for child in children
        }
        try:
            tuple(TopologicalSorter(edges).static_order())
        except CycleError as exc:
            found.append(f"{parent}: {' -> '.join(reversed(exc.args[1]))}")
    return found


def test_no_import_cycle_between_the_parts_of_any_package() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert "bot.cases" in graph.find_children("bot")
    assert sibling_cycles(graph) == []


def test_the_cycle_check_sees_a_cycle_between_sub_packages() -> None:
    """Storage importing the case service would close a circle: cases already use storage."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph.add_import(importer="bot.storage.db", imported="bot.cases.service")
    [cycle] = sibling_cycles(graph)
    parent, _, circle = cycle.partition(": ")
    assert parent == "bot"
    assert {"bot.cases", "bot.storage"} <= set(circle.split(" -> "))
