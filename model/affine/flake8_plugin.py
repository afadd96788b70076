"""The flake8 plugin: the same checker, the same codes (AFF0xx; AFF9xx notes with
``--affine-notes``).

Registered in pyproject.toml under ``[project.entry-points."flake8.extension"]`` as
``AFF = "model.affine.flake8_plugin:AffinePlugin"``. flake8 is not a dependency: the
class follows flake8's plugin protocol (``tree`` and ``filename`` in the constructor,
``run()`` yielding ``(line, col, message, type)``, optional ``add_options`` and
``parse_options`` class methods) and works without flake8 installed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from model.affine.checker import check_tree
from model.affine.names import is_impl_module


class AffinePlugin:
    """flake8 checker: affine misuse of impl handles (see ``python -m model.affine``)."""

    name = "affine"
    version = "0.1.0"
    notes: ClassVar[bool] = False

    def __init__(self, tree: ast.AST, filename: str = "<string>") -> None:
        self.tree = tree
        self.filename = filename

    @classmethod
    def add_options(cls, manager: Any) -> None:
        """Register ``--affine-notes`` with flake8's option manager."""
        manager.add_option("--affine-notes", action="store_true", default=False,
                           parse_from_config=True,
                           help="report AFF9xx notes (where tracking stopped) too")

    @classmethod
    def parse_options(cls, options: Any) -> None:
        """Read ``--affine-notes``."""
        cls.notes = bool(getattr(options, "affine_notes", False))

    def run(self) -> Iterator[tuple[int, int, str, type[AffinePlugin]]]:
        """``(line, col, "AFFnnn message", type)``; col 0-based as flake8 expects."""
        if not isinstance(self.tree, ast.Module):
            return
        path = Path(self.filename)
        authority = path.suffix == ".py" and path.exists() and is_impl_module(path)
        for f in check_tree(self.tree, self.filename, authority=authority):
            if self.notes or not f.is_note:
                yield f.line, f.col - 1, f"{f.code} {f.message}", type(self)
