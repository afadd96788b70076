"""Loading a user's spec by import path: ``pkg.mod:NAME`` or ``path/to/file.py:NAME``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from spec.format import Spec
from spec.validate import problems


class SpecLoadError(ValueError):
    """The ``--spec`` argument does not name a ``Spec`` value that can be imported."""


def load_spec(target: str) -> Spec:
    """Import ``module:NAME`` (or ``file.py:NAME``) and return the ``Spec`` it names.

    The current directory is importable, as with ``python -m``.  Every failure is
    a ``SpecLoadError`` that says what was tried and what to write instead; a spec
    that :func:`spec.validate.problems` finds malformed is one too, listing every
    problem with its transition and part.
    """
    mod_name, sep, attr = target.partition(":")
    if not sep or not mod_name or not attr:
        raise SpecLoadError(
            f"--spec {target!r}: expected MODULE:NAME, e.g. myspecs.counter:COUNTER"
        )
    if mod_name.endswith(".py") or "/" in mod_name:
        path = Path(mod_name)
        if not path.is_file():
            raise SpecLoadError(f"--spec {target!r}: no file {path}")
        spec_obj = importlib.util.spec_from_file_location(path.stem, path)
        if spec_obj is None or spec_obj.loader is None:
            raise SpecLoadError(f"--spec {target!r}: cannot import {path}")
        module = importlib.util.module_from_spec(spec_obj)
        spec_obj.loader.exec_module(module)
    else:
        if "" not in sys.path:
            sys.path.insert(0, "")
        try:
            module = importlib.import_module(mod_name)
        except ImportError as e:
            raise SpecLoadError(f"--spec {target!r}: cannot import module {mod_name!r}: {e}") from e
    try:
        value = getattr(module, attr)
    except AttributeError as e:
        raise SpecLoadError(f"--spec {target!r}: module {mod_name!r} has no {attr!r}") from e
    if not isinstance(value, Spec):
        raise SpecLoadError(
            f"--spec {target!r}: {attr} is a {type(value).__name__}, not a spec.Spec "
            "(see README, 'Writing a spec')"
        )
    found = problems(value)
    if found:
        lines = "".join(f"\n  - {p}" for p in found)
        raise SpecLoadError(f"--spec {target!r}: {attr} is malformed:{lines}")
    return value
