"""Check files, folders, source strings and Markdown code blocks.

Every scope of a file is analysed: the module body, then each function, lambda and
class body (functions with the variables they capture from where they are defined,
or nothing captured when that point is unreachable).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from model.affine import scopes
from model.affine.dataflow import Analysis, FileContext
from model.affine.names import collect, is_impl_module
from model.affine.rules import Finding, Sink

SKIP_DIRS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".tox",
                       ".mypy_cache", ".ruff_cache", ".hypothesis", "build", "dist"})


def check_tree(tree: ast.Module, path: str = "<string>", *, authority: bool = False
               ) -> list[Finding]:
    """Findings and notes for a parsed module, sorted by position.

    ``authority``: the module belongs to impl itself, which may construct handles.
    """
    sink = Sink(path)
    ctx = FileContext(collect(tree), authority, sink)
    inner = list(scopes.nested(tree))
    for fn in inner:
        ctx.defs[id(fn)] = fn
    ctx.kept = frozenset().union(*(ctx.free(fn) for fn in inner)) if inner else frozenset()
    ctx.module_defs = module_functions(tree)
    Analysis(ctx, tree, {}).run()
    for fn in inner:
        if id(fn) not in ctx.analysed:
            ctx.summary(fn, {})
    return sorted(sink.items)


def module_functions(tree: ast.Module) -> dict[str, ast.AST]:
    """Functions defined at module level under a name nothing else binds there."""
    counts: dict[str, int] = {}
    defs: dict[str, ast.AST] = {}
    for node in scopes.own_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            counts[node.name] = counts.get(node.name, 0) + 1
            if not isinstance(node, ast.ClassDef) and not node.decorator_list:
                defs[node.name] = node
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            counts[node.id] = counts.get(node.id, 0) + 1
        elif isinstance(node, ast.alias):
            name = (node.asname or node.name).split(".")[0]
            counts[name] = counts.get(name, 0) + 1
    shared = scopes.shared(tree)
    return {n: d for n, d in defs.items() if counts[n] == 1 and n not in shared}


def check_source(source: str, path: str = "<string>", *, authority: bool = False
                 ) -> list[Finding]:
    """Findings and notes for Python source (a :class:`SyntaxError` propagates)."""
    return check_tree(ast.parse(source, filename=path), path, authority=authority)


_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```", re.S | re.M)


def markdown_blocks(text: str) -> Iterator[tuple[int, str]]:
    """``(first line number - 1, code)`` of every ```python block of a Markdown text."""
    for m in _FENCE.finditer(text):
        yield text.count("\n", 0, m.start(1)), m.group(1)


def check_markdown(text: str, path: str) -> list[Finding]:
    """Every ```python block, each as a module; lines are the Markdown file's."""
    out: list[Finding] = []
    for offset, code in markdown_blocks(text):
        try:
            tree = ast.parse(code)
        except SyntaxError as e:
            out.append(Finding(path, offset + (e.lineno or 1), 1, "AFF904",
                               f"skipped a python block that does not parse: {e.msg}"))
            continue
        ast.increment_lineno(tree, offset)
        out.extend(check_tree(tree, path))
    return sorted(out)


def check_file(path: Path) -> list[Finding]:
    """Findings of one ``.py`` file or one Markdown file (its python blocks).

    Raises :class:`OSError` when unreadable, :class:`SyntaxError` when a ``.py`` file
    does not parse.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".md", ".markdown"):
        return check_markdown(text, str(path))
    return check_source(text, str(path), authority=is_impl_module(path))


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The files named, and the ``.py`` files under the folders named."""
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*.py")):
                if not SKIP_DIRS.intersection(f.relative_to(p).parts[:-1]):
                    yield f
        else:
            yield p


def check_paths(paths: Iterable[Path]) -> list[Finding]:
    """Findings and notes of every file named or under a folder named."""
    out: list[Finding] = []
    for f in python_files(paths):
        out.extend(check_file(f))
    return out
