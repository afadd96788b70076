"""The key of a state of a run, for state caching: two states with one key must have
the same future.

For every task: its status and step count, and either its outcome (finished) or its
pending operation and program counter.  The program counter is the task's whole paused
stack: for every frame, the code, the instruction, the values of the locals the rest
of the function may read (:mod:`model.interleave.liveness`) and the values the frame
keeps on its evaluation stack (:mod:`model.interleave.stack`: ``self.shared`` in
``self.shared + self._locked_read()``, read before the call paused).  Then the owner
of every lock, the event-loop holder, and the instance's fingerprint.

A value enters the key as itself when it is an int, string, bool, float, bytes or
``None`` (or a tuple of those), as its type and remaining length when it is an
iterator that tells it (a ``for`` loop's position), and as its type otherwise: what
such an object holds is the instance fingerprint's business (see
:mod:`model.interleave.program`).  When a key cannot be made complete (no
fingerprint, a lock needed by the fingerprint held by a paused task, a frame whose
stack cannot be read), there is no key and the state is not cached.
"""

from __future__ import annotations

import operator
from collections.abc import Hashable

from model.interleave.liveness import live_locals
from model.interleave.program import Outcome
from model.interleave.runtime import DONE, PC, LockBusy, Run, TaskState
from model.interleave.stack import stack_values

_SIMPLE = (int, str, bool, float, bytes, type(None))
_PKG = __file__.rsplit("/", 1)[0] + "/"


def value_key(v: object) -> Hashable:
    """How a value enters a state key (see the module doc)."""
    if isinstance(v, _SIMPLE):
        return v
    if type(v) is tuple and all(isinstance(x, _SIMPLE) for x in v):
        return v
    kind = (v.__class__.__qualname__, v.__class__.__module__)
    if hasattr(v, "__next__") and hasattr(v, "__length_hint__"):
        return kind, operator.length_hint(v, -1)
    return kind


class Incomplete(Exception):
    """A frame's evaluation stack cannot be read: the state gets no key."""


def pc_key(pc: PC) -> Hashable:
    """The program counter of a paused task: for every frame of its stack, the code,
    the instruction, the live locals' keys and the stack values' keys (frames of the
    explorer itself are identified by code and instruction alone).  Raises
    :class:`Incomplete` when a frame's stack cannot be read."""
    out: list[Hashable] = []
    for f in pc.frames:
        code, lasti = f.f_code, f.f_lasti
        if code.co_filename.startswith(_PKG):
            out.append((code, lasti))
            continue
        live = live_locals(code, lasti)
        stack = stack_values(f)
        if stack is None:
            raise Incomplete(f"{code.co_qualname} at {lasti}")
        out.append((code, lasti,
                    tuple((k, value_key(v)) for k, v in f.f_locals.items()
                          if live is None or k in live),
                    tuple(value_key(v) for v in stack)))
    return tuple(out)


def state_key(run: Run) -> Hashable | None:
    """The key of ``run``'s current state (see the module doc), or ``None``."""
    try:
        fp = run.instance.fingerprint()
    except LockBusy:
        return None
    if fp is None:
        return None
    parts: list[object] = []
    try:
        for t in run.tasks:
            if t.status == DONE:
                parts.append((DONE, t.nevents, outcome_key(t.outcome)))
            else:
                parts.append((t.status, t.nevents, pc_key(t.pc), t.pending.key()))
    except Incomplete:
        return None
    owners = tuple(owner_key(lk.owner) for lk in run.locks)
    return (tuple(parts), owners, run.loop_holder, fp)


def owner_key(owner: object) -> int:
    """A lock's owner in a key: the task's index, -1 for none, -2 for the scheduler."""
    if owner is None:
        return -1
    if isinstance(owner, TaskState):
        return owner.index
    return -2


def outcome_key(outcome: Outcome | None) -> Hashable:
    """A finished task's outcome in a key: what it returned, or what it raised."""
    if outcome is None:
        return None
    if outcome.error is not None:
        return ("raised", type(outcome.error), str(outcome.error))
    return ("returned", value_key(outcome.value))
