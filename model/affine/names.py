"""Which names of a module mean impl's classes, ``copy``/``pickle`` and AffineViolation.

Resolution is by the module's imports only (``import impl``, ``import impl as m``,
``from impl import Budget``, ``from impl.budget import Budget as B``, and the same for
``copy``, ``pickle``): a name bound any other way is not impl's, whatever it is called.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from model.affine.api import ERRORS, KINDS

COPIERS = {("copy", "copy"), ("copy", "deepcopy"), ("pickle", "dumps"), ("pickle", "dump")}
"""Functions that copy or serialise their argument (impl values refuse all of them)."""
IMPL_ERRORS = frozenset(ERRORS)


@dataclass
class Names:
    """The impl-related bindings of one module."""

    modules: dict[str, str] = field(default_factory=dict)
    """local name -> imported module (``impl``, ``impl.budget``, ``copy``, ``pickle``)."""
    symbols: dict[str, tuple[str, str]] = field(default_factory=dict)
    """local name -> (module, attribute) for ``from M import A``."""

    def qualified(self, node: ast.expr) -> tuple[str, str] | None:
        """(module, attribute) that ``node`` (``impl.Budget``, ``Budget``) refers to."""
        if isinstance(node, ast.Name):
            return self.symbols.get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            mod = self.modules.get(node.value.id)
            if mod is not None:
                return (mod, node.attr)
        return None

    def impl_class(self, node: ast.expr) -> str | None:
        """The impl class ``node`` names (``"Budget"``), if it names one."""
        q = self.qualified(node)
        if q is not None and _is_impl(q[0]) and q[1] in KINDS:
            return q[1]
        return None

    def is_copier(self, node: ast.expr) -> str | None:
        """``"copy.deepcopy"`` etc. when ``node`` names a copying function."""
        q = self.qualified(node)
        if q is not None and q in COPIERS:
            return f"{q[0]}.{q[1]}"
        return None

    def is_affine_violation(self, node: ast.expr | None) -> bool:
        """True when an ``except`` clause's type names impl's AffineViolation."""
        if node is None:
            return False
        if isinstance(node, ast.Tuple):
            return any(self.is_affine_violation(e) for e in node.elts)
        q = self.qualified(node)
        return q is not None and _is_impl(q[0]) and q[1] == "AffineViolation"

    def caught(self, node: ast.expr | None) -> frozenset[str] | None:
        """The impl exceptions an ``except`` clause's type catches; ``None`` when it
        may catch anything else too (a bare ``except``, a builtin or unknown class)."""
        if node is None:
            return None
        if isinstance(node, ast.Tuple):
            out: frozenset[str] = frozenset()
            for e in node.elts:
                c = self.caught(e)
                if c is None:
                    return None
                out |= c
            return out
        q = self.qualified(node)
        if q is not None and _is_impl(q[0]) and q[1] in ERRORS:
            return ERRORS[q[1]]
        return None

    def annotation_kind(self, node: ast.expr | None) -> str | None:
        """The impl class of a plain annotation (``impl.Budget``, ``"Budget"``)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        return None if node is None else self.impl_class(node)


def _is_impl(module: str) -> bool:
    return module == "impl" or module.startswith("impl.")


def collect(tree: ast.AST) -> Names:
    """Every impl/copy/pickle import anywhere in ``tree`` (function-level ones too)."""
    names = Names()
    wanted = ("impl", "copy", "pickle")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in wanted:
                    if alias.asname is not None:
                        names.modules[alias.asname] = alias.name
                    else:
                        names.modules[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in wanted:
                for alias in node.names:
                    local = alias.asname or alias.name
                    sub = f"{node.module}.{alias.name}"
                    if _is_impl(node.module) and alias.name not in KINDS | IMPL_ERRORS:
                        names.modules[local] = sub  # ``from impl import budget``
                    else:
                        names.symbols[local] = (node.module, alias.name)
    return names


def is_impl_module(path: Path) -> bool:
    """True for a file of the ``impl`` package itself: the library is the minting
    authority (it builds its own handles with ``Budget()``, ``Receipt()``)."""
    path = path.resolve()
    pkg = path.parent
    top = None
    while (pkg / "__init__.py").exists():
        top = pkg.name
        pkg = pkg.parent
    return top == "impl"
