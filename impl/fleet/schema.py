"""The SQL tables of a shared pool, for SQLite and PostgreSQL alike.

The ``pools`` row holds the six SEMANTICS.md fields under their paper names; its CHECK
constraints are the ledger's invariants (TypeOK: every field >= 0; Conservation: the
six sum to ``cap``; CapSoundness: ``total_charged <= cap``) and the shares' bound
(``0 <= shared <= live_sum``), so no client, however buggy, can commit a state that
breaks them. ``reservations`` keeps every reservation and how it was settled (the
record that makes settlement idempotent by id).
"""

from __future__ import annotations

COLUMNS = ("live_sum", "outstanding_receipts", "outstanding_refunds",
           "total_charged", "total_unrecoverable", "total_released")
"""The six SEMANTICS.md ledger fields, as column names, in SEMANTICS.md order."""


def tables(dialect: str, ns: str = "") -> list[str]:
    """The DDL statements (idempotent) for ``dialect`` ``"sqlite"`` or ``"postgresql"``;
    ``ns`` is the PostgreSQL schema."""
    pg = dialect == "postgresql"
    i, t, real = ("bigint", "text", "double precision") if pg else ("INTEGER", "TEXT", "REAL")
    q = f"{ns}." if pg else ""
    ref = f" REFERENCES {q}pools (name) ON DELETE CASCADE" if pg else ""
    strict = "" if pg else " STRICT"
    fields = "".join(f"  {c} {i} NOT NULL CHECK ({c} >= 0),\n" for c in COLUMNS)
    out = [f"CREATE SCHEMA IF NOT EXISTS {ns}"] if pg else []
    return [*out, f"""CREATE TABLE IF NOT EXISTS {q}pools (
  name {t} PRIMARY KEY,
  cap {i} NOT NULL CHECK (cap >= 0),
{fields}  shared {i} NOT NULL DEFAULT 0 CHECK (shared >= 0 AND shared <= live_sum),
  CHECK ({' + '.join(COLUMNS)} = cap),
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
