"""Which local variables of a paused frame can still be read: a bytecode analysis.

A state key includes the local variables of every paused frame (the task's
program counter is its stack *and* its locals).  A local that the rest of the
function can never read (``live`` in ``BudgetPool.reserve`` once its critical
section is over, for instance) would only split equivalent states, so it is left out.

The analysis is conservative: a local is live if some instruction reachable from the
paused one reads it (``LOAD_FAST`` and friends), following fall-through, every jump
(loops included) and every exception handler covering a reachable instruction; writes
are not taken as kills.  Cell and free variables are always live (closures share
them), and so is everything when the function may read its locals dynamically
(``locals``, ``vars``, ``eval``, ``exec``) or when the bytecode cannot be analysed.
"""

from __future__ import annotations

import dis
from functools import cache
from types import CodeType
from typing import Any

_READS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR",
                    "LOAD_FAST_LOAD_FAST", "LOAD_CLOSURE", "LOAD_DEREF", "LOAD_CLASSDEREF",
                    "DELETE_FAST"})
_NO_FALLTHROUGH = frozenset({"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
                             "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT",
                             "JUMP", "JUMP_NO_INTERRUPT", "JUMP_ABSOLUTE"})
_JUMPS = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
_DYNAMIC = frozenset({"locals", "vars", "eval", "exec", "_getframe", "f_locals"})


#: Instructions that never fall through to the next one.
NO_FALLTHROUGH = _NO_FALLTHROUGH
#: Instructions whose argument is a jump target.
JUMPS = _JUMPS


@cache
def bytecode(code: CodeType) -> tuple[list[dis.Instruction], list[Any], dict[int, int]] | None:
    """The instructions of ``code``, its exception table, and each instruction's index by
    offset; ``None`` when the bytecode cannot be read."""
    try:
        instrs = list(dis.get_instructions(code))
        table = dis._parse_exception_table(code)  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - another interpreter's bytecode
        return None
    return instrs, list(table), {ins.offset: i for i, ins in enumerate(instrs)}


@cache
def live_locals(code: CodeType, lasti: int) -> frozenset[str] | None:
    """The locals of ``code`` that may be read after the instruction at ``lasti``;
    ``None`` when every local must be assumed live."""
    if _DYNAMIC & set(code.co_names):
        return None
    parsed = bytecode(code)
    if parsed is None:
        return None
    instrs, table, index = parsed
    handlers = [(e.start, e.end, index.get(e.target)) for e in table]
    todo = [i for i, ins in enumerate(instrs) if ins.offset > lasti][:1]
    seen: set[int] = set()
    live = set(code.co_cellvars) | set(code.co_freevars)
    while todo:
        i = todo.pop()
        if i in seen or i >= len(instrs):
            continue
        seen.add(i)
        ins = instrs[i]
        if ins.opname in _READS and isinstance(ins.argval, str):
            live.add(ins.argval)
        if ins.opcode in _JUMPS and isinstance(ins.argval, int):
            target = index.get(ins.argval)
            if target is None:
                return None
            todo.append(target)
        if ins.opname not in _NO_FALLTHROUGH:
            todo.append(i + 1)
        for start, end, target in handlers:
            if start <= ins.offset < end:
                if target is None:
                    return None
                todo.append(target)
    return frozenset(live)
