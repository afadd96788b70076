"""Users' spec files for the command-line tests: README's examples, a counter that
grows for ever (an infinite state space) and one that stops (a terminal state)."""

from __future__ import annotations

from pathlib import Path

import pytest
from readme import file_block

UP = """\
from spec import Invariant, Spec, Transition
UP = Spec('up', ('x',), lambda b0: {'x': 0},
          (Transition('inc', (), lambda s: (s.x >= 0,), lambda s: {'x': s.x + 1}),),
          (Invariant('Nat', lambda s, b0: (s.x >= 0,)),))
"""

# x counts down from B0 and stops at 0: a terminal state
DOWN = """\
from spec import Invariant, Spec, Transition
DOWN = Spec('down', ('x',), lambda b0: {'x': b0},
            (Transition('tick', (), lambda s: (s.x > 0,), lambda s: {'x': s.x - 1}),),
            (Invariant('Nat', lambda s, b0: (s.x >= 0,)),))
DOWN_OK = Spec('down_ok', DOWN.variables, DOWN.init, DOWN.transitions, DOWN.invariants,
               allow_deadlock=True)
"""


@pytest.fixture
def user_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary current directory holding cycle.py, bonus.py, tickets.py, up.py and down.py."""
    for name in ("cycle.py", "bonus.py", "tickets.py"):
        (tmp_path / name).write_text(file_block(name))
    (tmp_path / "up.py").write_text(UP)
    (tmp_path / "down.py").write_text(DOWN)
    monkeypatch.chdir(tmp_path)
    return tmp_path
