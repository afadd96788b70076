"""``python -m model.affine``: see :mod:`model.affine.cli`."""

from model.affine.cli import main

raise SystemExit(main())
