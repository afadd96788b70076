"""The values a paused frame keeps on its evaluation stack, for the state key.

In ``self.x = self.shared + self._locked_read()`` the value of ``self.shared`` is
read, then the call pauses (at the lock inside ``_locked_read``).  That value is on
the caller's *evaluation stack*, not in a local, so a key made of locals alone cannot
tell the state where it read 0 from the state where it read 1: caching would merge
them.  :func:`stack_values` returns those pending values.

How: the depth of the stack before the instruction the frame is executing comes from
a static analysis of the bytecode (``dis.stack_effect`` along every path, exception
handlers included; one depth per instruction or the analysis gives up); the operands
of that instruction (a call's callable and arguments, an attribute's owner...) are
not pending values and are left out; the values below them are read from the frame's
memory (CPython 3.11's ``_PyInterpreterFrame`` layout, checked against the frame's
code object before anything is read).  Wherever a step of this cannot be done (another
interpreter or version, an instruction whose operands are not known, a depth that
differs between paths), the answer is ``None``: the caller must then not cache the
state.
"""

from __future__ import annotations

import ctypes
import dis
import sys
from functools import cache
from types import CodeType, FrameType

from model.interleave.liveness import JUMPS, NO_FALLTHROUGH, bytecode

#: Operands an instruction holds on the stack while a Python-level call it makes is
#: running (the values below them are the frame's pending values), by opcode name.
_OPERANDS: dict[str, int | None] = {
    "CALL": None,  # computed from the argument count: see _operands
    "CALL_FUNCTION_EX": None,
    "BEFORE_WITH": 1, "BEFORE_ASYNC_WITH": 1, "WITH_EXCEPT_START": 0,
    "LOAD_ATTR": 1, "LOAD_METHOD": 1, "STORE_ATTR": 2, "DELETE_ATTR": 1,
    "BINARY_OP": 2, "COMPARE_OP": 2, "CONTAINS_OP": 2, "BINARY_SUBSCR": 2,
    "STORE_SUBSCR": 3, "DELETE_SUBSCR": 2, "FOR_ITER": 1, "GET_ITER": 1,
    "UNARY_NEGATIVE": 1, "UNARY_INVERT": 1, "UNARY_NOT": 1, "UNARY_POSITIVE": 1,
    "SEND": 2, "YIELD_VALUE": 1, "GET_AWAITABLE": 1, "END_ASYNC_FOR": 2,
}


def _operands(ins: dis.Instruction) -> int | None:
    if ins.opname == "CALL":
        return int(ins.arg or 0) + 2  # NULL or self, the callable, the arguments
    if ins.opname == "CALL_FUNCTION_EX":
        return 3 + (int(ins.arg or 0) & 1)  # NULL, callable, args tuple, kwargs dict
    return _OPERANDS.get(ins.opname)


def _effect(ins: dis.Instruction, jump: bool) -> int:
    if ins.opname == "RETURN_GENERATOR":
        return 1  # a generator resumes with the sent value on its stack
    arg = ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None
    return dis.stack_effect(ins.opcode, arg, jump=jump)


@cache
def pending_depth(code: CodeType, lasti: int) -> int | None:
    """How many values the frame keeps below the operands of the instruction at
    ``lasti`` (the one it is executing); ``None`` when that cannot be told."""
    parsed = bytecode(code)
    if parsed is None:
        return None
    instrs, table, index = parsed
    depth: dict[int, int] = {}
    todo: list[tuple[int, int]] = [(0, 0)]
    while todo:
        i, d = todo.pop()
        if d < 0:
            return None
        if i >= len(instrs):
            continue
        if i in depth:
            if depth[i] != d:
                return None
            continue
        depth[i] = d
        ins = instrs[i]
        for e in table:
            if e.start <= ins.offset < e.end:
                target = index.get(e.target)
                if target is None:
                    return None
                todo.append((target, e.depth + int(e.lasti) + 1))
        if ins.opcode in JUMPS and isinstance(ins.argval, int):
            target = index.get(ins.argval)
            if target is None:
                return None
            todo.append((target, d + _effect(ins, jump=True)))
        if ins.opname not in NO_FALLTHROUGH:
            todo.append((i + 1, d + _effect(ins, jump=False)))
    # during a call ``f_lasti`` points into the instruction's inline cache entries
    at = max((i for i, ins in enumerate(instrs) if ins.offset <= lasti), default=None)
    if at is None or at not in depth:
        return None
    d = depth[at]
    if instrs[at].opname == "CALL" and at and instrs[at - 1].opname == "PRECALL":
        d = depth[at - 1]  # 3.11 counts a call's arguments off at PRECALL; they are still there
    operands = _operands(instrs[at])
    if operands is None or operands > d:
        return None
    return d - operands


class _InterpreterFrame(ctypes.Structure):
    """CPython 3.11's ``_PyInterpreterFrame`` (Include/internal/pycore_frame.h)."""

    _fields_ = [("f_func", ctypes.c_void_p), ("f_globals", ctypes.c_void_p),
                ("f_builtins", ctypes.c_void_p), ("f_locals", ctypes.c_void_p),
                ("f_code", ctypes.c_void_p), ("frame_obj", ctypes.c_void_p),
                ("previous", ctypes.c_void_p), ("prev_instr", ctypes.c_void_p),
                ("stacktop", ctypes.c_int), ("is_entry", ctypes.c_bool),
                ("owner", ctypes.c_char), ("localsplus", ctypes.c_void_p * 1)]


_SUPPORTED = sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)
#: ``PyFrameObject.f_frame`` follows the object header and ``f_back``.
_F_FRAME = 2 * ctypes.sizeof(ctypes.c_void_p) + ctypes.sizeof(ctypes.c_void_p)
_SLOT = ctypes.sizeof(ctypes.c_void_p)


def _nlocalsplus(code: CodeType) -> int:
    # an argument that is also a cell variable has one slot, not two
    return len(set(code.co_varnames) | set(code.co_cellvars)) + len(code.co_freevars)


def stack_values(frame: FrameType) -> tuple[object, ...] | None:
    """The values ``frame`` keeps on its evaluation stack below the operands of the
    instruction it is executing (``NULL`` slots come back as ``None``), bottom first;
    ``None`` when they cannot be read safely (see the module doc)."""
    depth = pending_depth(frame.f_code, frame.f_lasti)
    if depth is None or (depth and not _SUPPORTED):
        return None
    if depth == 0:
        return ()
    address = ctypes.c_void_p.from_address(id(frame) + _F_FRAME).value
    if not address:
        return None
    data = _InterpreterFrame.from_address(address)
    if data.f_code != id(frame.f_code):
        return None
    base = address + _InterpreterFrame.localsplus.offset + _nlocalsplus(frame.f_code) * _SLOT
    out: list[object] = []
    for i in range(depth):
        pointer = ctypes.c_void_p.from_address(base + i * _SLOT).value
        out.append(None if not pointer else ctypes.cast(pointer, ctypes.py_object).value)
    return tuple(out)
