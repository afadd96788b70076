"""Output formats: flake8-style lines, and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from model.affine.rules import Finding


def text(findings: Sequence[Finding]) -> str:
    """One ``path:line:col: CODE message`` line per finding (flake8's format)."""
    return "".join(f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}\n" for f in findings)


def as_json(findings: Sequence[Finding], files: int) -> str:
    """``{"files": n, "findings": k, "notes": m, "results": [...]}``; each result has
    path, line, col, code, message and kind (``finding`` or ``note``)."""
    return json.dumps({
        "files": files,
        "findings": sum(not f.is_note for f in findings),
        "notes": sum(f.is_note for f in findings),
        "results": [f.as_dict() for f in findings],
    }, indent=2) + "\n"
