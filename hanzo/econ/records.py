"""The SQLite records the money paths keep (the reward hook's sessions, the oracle's admitted
submissions): how a change to them is made atomic, and how an older file gains new columns.

Both are shared by every worker of their service (processes and threads): `immediate` takes
SQLite's write lock at BEGIN, so a read-then-write (the next nonce, "was this text admitted?") is
never interleaved with another worker's, and an optional in-process lock keeps two threads from
interleaving transactions on one connection.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Iterator


@contextlib.contextmanager
def immediate(db: sqlite3.Connection, lock: threading.RLock | None = None) -> Iterator[None]:
    """One atomic change: committed when the block ends, rolled back if it raises (anything,
    KeyboardInterrupt included). `db` must be in autocommit mode (isolation_level=None)."""
    with lock if lock is not None else contextlib.nullcontext():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def add_columns(db: sqlite3.Connection, table: str, columns: dict[str, str]) -> None:
    """Give a table written by an older version the columns it lacks (name -> SQL type and default)."""
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    for name, kind in columns.items():
        if name not in have:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
