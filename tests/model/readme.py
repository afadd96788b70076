"""Code blocks of README.md, so the tests run exactly what the README shows."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def file_block(name: str) -> str:
    """The code block announced by ``<!-- file: NAME -->`` in README.md."""
    text = README.read_text()
    m = re.search(rf"<!-- file: {re.escape(name)} -->\n```\w*\n(.*?)```", text, re.S)
    if m is None:
        raise LookupError(f"README.md has no block marked <!-- file: {name} -->")
    return m.group(1)


def python_blocks_containing(marker: str) -> list[str]:
    """Every ```python block of README.md that contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return [b for b in blocks if marker in b]
