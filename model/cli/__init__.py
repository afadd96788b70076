"""The driver: ``python -m model.check`` and everything only it needs.

Every checker below it (``proofs``, ``model.checker``, ``model.refinement``,
``model.interleave``) returns its own result type; the modules here turn those into
report rows (:class:`~model.cli.report.CheckResult`), one adapter per check, and
print the table or the JSON.  Nothing outside this package imports it.

- :mod:`~model.cli.main`: argument parsing, exit codes;
- :mod:`~model.cli.checks`: the checks ``--only`` can name;
- :mod:`~model.cli.report`: the table and the JSON;
- :mod:`~model.cli.loader`: ``--spec MODULE:NAME``;
- one adapter per checker: :mod:`~model.cli.proofs`, :mod:`~model.cli.explore`,
  :mod:`~model.cli.refinement`, :mod:`~model.cli.crosshair`,
  :mod:`~model.cli.interleavings`, :mod:`~model.cli.mutants`.
"""
