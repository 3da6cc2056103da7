"""The house's structure: one `mmagent` namespace, layers that import only downwards, no import
cycles, and every package folder installed (read from the source with ast; nothing is run)."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

from mmagent.tools import all_tools

REPO = Path(__file__).resolve().parents[1]
# folder -> (installed package, layer); a module may import its own layer and the ones below.
FOLDERS = {
    "core": ("mmagent.core", 0),
    "tools": ("mmagent.tools", 1),
    "planners": ("mmagent.planners", 2),
    "agent": ("mmagent", 3),
    "evals": ("mmagent.evals", 4),
    "ui": ("mmagent.ui", 5),
}
TOP = 6  # app.py and bench/ sit on everything
BARE = {"agent", "tools", "planners", "evals", "ui", "core"}


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO)
    package, _ = FOLDERS[rel.parts[0]]
    parts = [*package.split("."), *rel.parts[1:-1]] + ([] if path.stem == "__init__" else [path.stem])
    return ".".join(parts)


def layer_of(module: str) -> int:
    """The layer of an installed module name (longest package prefix wins)."""
    best, layer = "", None
    for package, rank in FOLDERS.values():
        if (module == package or module.startswith(package + ".")) and len(package) > len(best):
            best, layer = package, rank
    assert layer is not None, module
    return layer


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, also inside functions and TYPE_CHECKING;
    `from mmagent.x import y` yields mmagent.x.y when y is a module of the tree."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [
                (node.lineno, f"{node.module}.{a.name}") for a in node.names if f"{node.module}.{a.name}" in MODULES
            ]
    return out


SOURCES = sorted(p for folder in FOLDERS for p in (REPO / folder).rglob("*.py"))
MODULES = {module_name(p): p for p in SOURCES}
TOP_SOURCES = [REPO / "app.py", *sorted((REPO / "bench").rglob("*.py"))]


def test_every_import_goes_through_the_mmagent_namespace():
    bare = [
        f"{p.relative_to(REPO)}:{line} imports {m}"
        for p in SOURCES + TOP_SOURCES
        for line, m in imports(p)
        if m.split(".")[0] in BARE
    ]
    assert not bare, "\n".join(bare)


def test_layers_only_point_down():
    up = []
    for p in SOURCES:
        here = layer_of(module_name(p))
        for line, m in imports(p):
            if (m == "mmagent" or m.startswith("mmagent.")) and layer_of(m) > here:
                up.append(f"{p.relative_to(REPO)}:{line} imports {m} (layer {layer_of(m)} > {here})")
    assert not up, "\n".join(up)


def test_no_import_cycles():
    graph = {m: {t for _, t in imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_every_package_folder_is_installed_under_mmagent():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {module_name(p) for p in SOURCES if p.name == "__init__.py"}
    assert folders == set(config["packages"])
    assert {pkg: folder for folder, (pkg, _) in FOLDERS.items()} == config["package-dir"]


# -- tools describe themselves ----------------------------------------------------------------
TOOL_NAMES = {t.name for t in all_tools()}


def test_every_tool_declares_what_it_makes_and_which_arguments_are_artifacts():
    from mmagent.core.artifacts import Artifact
    from mmagent.tools import all_tools

    for tool in all_tools():
        assert isinstance(tool.makes, type) and issubclass(tool.makes, Artifact), tool.name
        for arg, kinds in tool.artifact_args.items():
            assert kinds and all(issubclass(k, Artifact) for k in kinds), (tool.name, arg)
        # a text argument described as an artifact id is typed as one (Refers), not a plain str
        for arg, f in tool.args_schema.model_fields.items():
            said = (f.description or "").lower()
            text = f.annotation in (str, str | None, list[str]) or arg in tool.artifact_args
            if text and re.search(r"\bartifact\b|\bids?\b", said) and "expression" not in arg:
                assert arg in tool.artifact_args, f"{tool.name}.{arg} is an artifact id typed as a plain value"


def test_no_tool_name_is_kept_by_hand_outside_the_tools():
    """The cache, the runner, the session and the UI derive what they need from the tools'
    declarations and the artifacts' origin, not from lists of tool names."""
    places = [
        REPO / "core" / "cache.py",
        REPO / "tools" / "runner.py",
        REPO / "agent" / "session.py",
        *sorted((REPO / "ui").rglob("*.py")),
    ]
    named = [
        f"{p.relative_to(REPO)}:{n.lineno} names the tool {n.value!r}"
        for p in places
        for n in ast.walk(ast.parse(p.read_text()))
        if isinstance(n, ast.Constant) and n.value in TOOL_NAMES
    ]
    assert not named, "\n".join(named)


# -- planners: one registry -------------------------------------------------------------------
def test_the_planner_registry_is_the_one_list_of_planners():
    """Every planner class is registered under its own name (pyproject's entry points); the
    config's choices, the CLI help and the UI read that registry."""
    from mmagent.core.config import planner_entry_points
    from mmagent.planners import make_planner

    registry = planner_entry_points()
    defined = {
        n.name
        for p in (REPO / "planners").glob("*.py")
        for n in ast.parse(p.read_text()).body
        if isinstance(n, ast.ClassDef) and n.name.endswith("Planner") and n.name != "Planner"
    }
    assert {ep.value.split(":")[1] for ep in registry.values()} == defined
    assert all(make_planner(name).name == name for name in registry)
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]["mmagent.planners"]
    installed = {name: ep.value for name, ep in registry.items()}
    assert installed == config, "the installed metadata is not the current pyproject.toml: run `make install`"
