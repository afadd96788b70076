"""``python -m model.check``: the workbench's command line (see :mod:`model.cli.main`)."""

from __future__ import annotations

import sys

from model.cli.main import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
