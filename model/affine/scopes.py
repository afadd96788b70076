"""Name binding facts of Python scopes: what a function binds, reads from outside,
and shares through ``global``/``nonlocal``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """Nodes of ``scope``'s own body, not of the functions and classes nested in it
    (whose names, decorators and defaults do belong to ``scope``)."""
    if isinstance(scope, ast.Lambda):
        stack: list[ast.AST] = [scope.body]
    elif isinstance(scope, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        stack = list(scope.body)
    else:
        stack = [scope]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, SCOPES):
            if not isinstance(node, ast.Lambda):
                stack.extend(node.decorator_list)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.extend(d for d in node.args.defaults + node.args.kw_defaults if d)
            continue
        stack.extend(ast.iter_child_nodes(node))


def parameters(fn: ast.AST) -> list[ast.arg]:
    """Every parameter of a function or lambda."""
    if not isinstance(fn, FUNCTIONS):
        return []
    a = fn.args
    out = a.posonlyargs + a.args + a.kwonlyargs
    return out + [x for x in (a.vararg, a.kwarg) if x is not None]


def declared(scope: ast.AST) -> set[str]:
    """Names ``scope`` declares ``global`` or ``nonlocal``."""
    out: set[str] = set()
    for node in own_nodes(scope):
        if isinstance(node, ast.Global | ast.Nonlocal):
            out.update(node.names)
    return out


def bound(scope: ast.AST) -> set[str]:
    """Names local to ``scope``: parameters and every name it assigns, imports or
    defines (minus its ``global``/``nonlocal`` declarations)."""
    out = {p.arg for p in parameters(scope)}
    for node in own_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            out.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.add(node.name)
        elif isinstance(node, ast.alias):
            out.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            out.add(node.name)
    return out - declared(scope)


def free(fn: ast.AST) -> frozenset[str]:
    """Names ``fn`` (or a function nested in it) reads but ``fn`` does not bind: the
    variables it captures from enclosing scopes (or reads as globals)."""
    loads = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Load)}
    return frozenset(loads - bound(fn))


def nested(scope: ast.AST) -> Iterator[ast.AST]:
    """Functions and classes anywhere inside ``scope`` (not ``scope`` itself)."""
    for node in ast.walk(scope):
        if node is not scope and isinstance(node, SCOPES):
            yield node


def shared(scope: ast.AST) -> frozenset[str]:
    """Names of ``scope`` that another scope may rebind: declared ``global`` or
    ``nonlocal`` here or in a nested function. The checker does not track them."""
    out = declared(scope)
    for inner in nested(scope):
        out |= declared(inner)
    return frozenset(out)
