"""The SQL tables of a shared pool, for SQLite and PostgreSQL alike.

The ``pools`` row holds the six SEMANTICS.md fields under their paper names; its CHECK
constraints are the ledger's invariants (TypeOK: every field >= 0; Conservation: the
six sum to ``cap``; CapSoundness: ``total_charged <= cap``) and the shares' bound
(``0 <= shared <= live_sum``), so no client, however buggy, can commit a state that
breaks them. Outside the six fields, ``overdraft`` is what reconciliation could not
absorb (``> 0``: the pool is closed) and ``reconciled`` the last billed total a
reconciliation accepted (``NULL``: none yet). ``reservations`` keeps every reservation
and how it was settled (the record that makes settlement idempotent by id).
"""

from __future__ import annotations

COLUMNS = ("live_sum", "outstanding_receipts", "outstanding_refunds",
           "total_charged", "total_unrecoverable", "total_released")
"""The six SEMANTICS.md ledger fields, as column names, in SEMANTICS.md order."""


RECONCILE_COLUMNS = {
    "overdraft": "{i} NOT NULL DEFAULT 0 CHECK (overdraft >= 0)",
    "reconciled": "{i} CHECK (reconciled IS NULL OR reconciled >= 0)",
}
"""The columns reconciliation added to ``pools``: :func:`tables` creates them, and
:func:`missing_columns` tells an older store's ``pools`` what to add."""


def missing_columns(dialect: str, have: set[str], ns: str = "") -> list[str]:
    """The ``ALTER TABLE`` statements adding to a ``pools`` table that has the columns
    ``have`` the ones it lacks (a store created before reconciliation existed). For
    PostgreSQL every column is listed, as ``ADD COLUMN IF NOT EXISTS``."""
    pg = dialect == "postgresql"
    i, q, cond = ("bigint", f"{ns}.", "IF NOT EXISTS ") if pg else ("INTEGER", "", "")
    return [f"ALTER TABLE {q}pools ADD COLUMN {cond}{col} {decl.format(i=i)}"
            for col, decl in RECONCILE_COLUMNS.items() if pg or col not in have]


def tables(dialect: str, ns: str = "") -> list[str]:
    """The DDL statements (idempotent) for ``dialect`` ``"sqlite"`` or ``"postgresql"``;
    ``ns`` is the PostgreSQL schema."""
    pg = dialect == "postgresql"
    i, t, real = ("bigint", "text", "double precision") if pg else ("INTEGER", "TEXT", "REAL")
    q = f"{ns}." if pg else ""
    ref = f" REFERENCES {q}pools (name) ON DELETE CASCADE" if pg else ""
    strict = "" if pg else " STRICT"
    fields = "".join(f"  {c} {i} NOT NULL CHECK ({c} >= 0),\n" for c in COLUMNS)
    extra = "".join(f"  {c} {d.format(i=i)},\n" for c, d in RECONCILE_COLUMNS.items())
    out = [f"CREATE SCHEMA IF NOT EXISTS {ns}"] if pg else []
    return [*out, f"""CREATE TABLE IF NOT EXISTS {q}pools (
  name {t} PRIMARY KEY,
  cap {i} NOT NULL CHECK (cap >= 0),
{fields}  shared {i} NOT NULL DEFAULT 0 CHECK (shared >= 0 AND shared <= live_sum),
{extra}  CHECK ({' + '.join(COLUMNS)} = cap),
  CHECK (total_charged <= cap)
){strict}""", f"""CREATE TABLE IF NOT EXISTS {q}shares (
  pool {t} NOT NULL{ref},
  name {t} NOT NULL,
  live {i} NOT NULL CHECK (live >= 0),
  PRIMARY KEY (pool, name)
){strict}""", f"""CREATE TABLE IF NOT EXISTS {q}reservations (
  pool {t} NOT NULL{ref},
  id {t} NOT NULL,
  share {t},
  amount {i} NOT NULL CHECK (amount > 0),
  deadline {real} NOT NULL,
  state {t} NOT NULL CHECK (state IN ('o', 'c', 'x', 'f', 'e')),
  actual {i} CHECK (actual IS NULL OR (actual >= 0 AND actual <= amount)),
  PRIMARY KEY (pool, id)
){strict}""", f"""CREATE INDEX IF NOT EXISTS reservations_open
  ON {q}reservations (pool, deadline) WHERE state = 'o'"""]
