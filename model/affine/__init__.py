"""Static affine checking of code that uses impl: ``python -m model.affine PATH...``.

impl raises :class:`impl.AffineViolation` when a consumed handle is used, at run time;
this package finds such uses before the program runs, flow-sensitively, over each
scope's control-flow graph (:mod:`.cfg`), with a forward may-analysis (:mod:`.lattice`,
:mod:`.dataflow`, :mod:`.evaluate`) driven by a model of impl's API (:mod:`.api`). The
codes are listed in :mod:`.rules`; :mod:`.cli` is the command line, :mod:`.flake8_plugin`
the flake8 plugin.

What it is: a bug finder, not a proof.

What it guarantees, for the handles it tracks (values of impl's classes that it sees
made: ``impl.Session(...)``, ``impl.BudgetPool(...)`` and every operation on handles;
parameters and assignments annotated with an impl class; variables a function captures
from where it is defined; handles passed to, and fresh handles returned by, functions
defined in the same module, whose bodies it analyses at each call):

- every use, on some path, of a handle consumed earlier on that path is reported
  (AFF001 when consumed on every path, AFF002 on some, AFF003 by an earlier loop
  iteration, AFF004 by a closure), under three assumptions: an exception leaves the
  state as it was before the statement that raised it (impl guarantees that for its
  own refusals); code the checker does not follow does not consume a handle it still
  holds as live (it says where it stops following: notes AFF900-AFF902); and the
  program does not rebind variables behind its back (``exec``, ``locals()``,
  ``globals()`` writes). The generated-program test checks this claim against the
  running library: every run that raises AffineViolation has its raising line
  flagged;
- every receipt, reservation, stream or refund that becomes unreachable while it may
  still be open on some path out of a function (a ``return`` or the end of its body;
  also when its last name is rebound or deleted) is reported (AFF007, AFF008), unless
  it is returned, stored, handed to other code or managed by a ``with`` block;
- copies and pickles of impl values (AFF005), handles built with their constructors
  outside impl and a second ``Session.take()`` (AFF006) are reported;
- no false positives on the documented patterns: rebinding (``b = b.spend(x)``), fresh
  handles in loops, values returned or handed to sub-agents, threads and executors,
  ``with`` blocks, refusals caught with ``except impl.InsufficientBudget`` (a refused
  call leaves the handle live, and when every amount is a literal the checker knows
  the call is refused), and violations the code itself expects (inside ``try ...
  except impl.AffineViolation`` or ``pytest.raises(impl.AffineViolation)``: note
  AFF903).

What it does not do: follow calls of methods, of functions of other modules or of
functions passed around as values (a callee it does not follow, and that consumes its
argument, is invisible at the call site), track handles through containers, attributes,
``global``/``nonlocal`` rebinding, or across modules; relate the conditions of
different branches (a handle consumed under ``if x`` and used under ``if not x`` is
reported as AFF002); know how many times a loop runs (a consumption in a loop body
that runs once is still AFF003); order threads or tasks (a closure handed to other code
is taken to run, consuming what it consumes, at that point); or check exception paths
for unresolved receipts (a ``with`` block is the remedy there).
"""

from model.affine.checker import check_file, check_paths, check_source
from model.affine.rules import CODES, Finding

__all__ = ["CODES", "Finding", "check_file", "check_paths", "check_source"]
