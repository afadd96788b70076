"""The import graph goes one way: spec <- {proofs, model engines} <- the CLI.

``impl`` imports none of the workbench; ``spec`` imports only itself; ``proofs`` and
the model engines (everything under ``model/`` but the CLI) import ``spec`` and
``impl`` but not each other and not the CLI; the CLI (``model/cli/`` and the
``model/check.py`` entry point) may import anything.  Every ``import`` statement is
read from the source (function-level ones too), so a lazy import cannot hide an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Which layers each layer may import (besides the standard library and third parties).
ALLOWED: dict[str, frozenset[str]] = {
    "impl": frozenset({"impl"}),
    "spec": frozenset({"spec"}),
    "proofs": frozenset({"proofs", "spec", "impl"}),
    "engines": frozenset({"engines", "spec", "impl"}),
    "cli": frozenset({"cli", "engines", "proofs", "spec", "impl"}),
}
PACKAGES = ("impl", "spec", "proofs", "model")


def layer(module: str) -> str | None:
    """The layer of a dotted module name, or None for anything outside the project."""
    top = module.split(".")[0]
    if top not in PACKAGES:
        return None
    if top != "model":
        return top
    if module == "model.check" or module == "model.cli" or module.startswith("model.cli."):
        return "cli"
    return "engines"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module an ``import`` statement names, relative imports resolved."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".")
                if not is_package:
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            out.append((node.lineno, base))
            # ``from model import cli`` names a module as much as ``import model.cli``
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names
                    if layer(f"{base}.{a.name}") != layer(base)]
    return out


def wrong_way_edges(root: Path) -> list[str]:
    """``file:line: A (layer) imports B (layer)`` for every edge the layers forbid."""
    bad: list[str] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = module_name(root, path)
            own = layer(module)
            assert own is not None
            tree = ast.parse(path.read_text(), str(path))
            for line, target in imported(tree, module, path.name == "__init__.py"):
                theirs = layer(target)
                if theirs is not None and theirs not in ALLOWED[own]:
                    bad.append(f"{path.relative_to(root)}:{line}: {module} ({own}) "
                               f"imports {target} ({theirs})")
    return bad


def test_the_import_graph_goes_one_way() -> None:
    assert wrong_way_edges(ROOT) == []


def test_every_layer_is_present() -> None:
    """The check is not vacuous: every layer has modules."""
    seen = {layer(module_name(ROOT, p)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    assert seen == set(ALLOWED)


@pytest.mark.parametrize(("where", "source", "edge"), [
    ("proofs/explain.py", "from model.cli.report import CheckResult\n",
     "proofs.explain (proofs) imports model.cli.report (cli)"),
    ("model/refinement.py", "def f():\n    import proofs.refinement\n",
     "model.refinement (engines) imports proofs.refinement (proofs)"),
    ("spec/handles.py", "from model import handles\n",
     "spec.handles (spec) imports model (engines)"),
    ("impl/budget.py", "from spec import LEDGER\n", "impl.budget (impl) imports spec (spec)"),
    ("model/checker.py", "from model import cli\n",
     "model.checker (engines) imports model.cli (cli)"),
    ("proofs/outcomes.py", "from ..model.cli import report\n",
     "proofs.outcomes (proofs) imports model.cli (cli)"),
])
def test_a_wrong_way_edge_is_reported(tmp_path: Path, where: str, source: str,
                                      edge: str) -> None:
    """Seeded bugs: one forbidden import in a copy of the tree is named, file and line."""
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            target = tmp_path / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text())
    assert wrong_way_edges(tmp_path) == []
    seeded = tmp_path / where
    seeded.write_text(seeded.read_text() + source)
    (bad,) = wrong_way_edges(tmp_path)
    assert bad.startswith(f"{where}:") and bad.endswith(edge), bad
