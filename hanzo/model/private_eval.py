"""The oracle's private evaluation store: text no user can read, predict or train on.

An operator deploys it as a directory only the oracle's processes can read (created 0700):

- `private.sqlite`: passages per domain. It is seeded once from the operator's own text (locally:
  the private half of each held-out play, hanzo.model.corpus) and grows by a held-back share of
  every *paid* submission in the domain: those windows are never trained on and never returned to
  anyone. Only paid sessions give text, so junk that passed the gate never becomes the exam.
- `secret`: 32 random bytes (0600), or the environment's HANZO_ORACLE_SECRET. Each session's
  evaluation text is `chunks` windows drawn from the domain's passages with a generator seeded by
  HMAC(secret, domain | session id): a different exam every session, which no one without the
  secret can compute even knowing every passage's position.

What it guarantees: a user who has not seen the store cannot train on its text, and the text a
session is judged on depends on a secret. What it does not: a user who writes well in the domain
improves the fork on it; that is the honest work the network pays for.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import random
import secrets
import sqlite3
import time
from pathlib import Path

WINDOW = 256


class PrivateEvalError(RuntimeError):
    """The store is missing a domain or its secret is unusable; the message says which."""


class PrivateEvaluation:
    def __init__(self, folder: Path, *, chunks: int = 32, hold_back_share: float = 0.2, seed_share: float = 0.7):
        if chunks < 2:
            raise ValueError(f"chunks: expected at least 2 evaluation windows, got {chunks}")
        if not 0 <= hold_back_share < 1:
            raise ValueError(f"hold_back_share: expected a share in [0, 1), got {hold_back_share}")
        if not 0 < seed_share <= 1:
            raise ValueError(f"seed_share: expected a share in (0, 1], got {seed_share}")
        self.folder, self.chunks, self.hold_back_share = Path(folder), chunks, hold_back_share
        self.seed_share = seed_share
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        self._secret = self._load_secret()
        self.db = sqlite3.connect(self.folder / "private.sqlite", timeout=30, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS passages (id INTEGER PRIMARY KEY, domain TEXT NOT NULL, "
                        "text TEXT NOT NULL, origin TEXT NOT NULL, added REAL NOT NULL, user TEXT NOT NULL DEFAULT '')")
        self._pool: dict[tuple, str] = {}

    def _load_secret(self) -> bytes:
        env = os.environ.get("HANZO_ORACLE_SECRET")
        if env:
            if len(env) < 32:
                raise PrivateEvalError("HANZO_ORACLE_SECRET: expected at least 32 characters of secret")
            return env.encode()
        path = self.folder / "secret"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
        data = path.read_bytes()
        if len(data) != 32:
            raise PrivateEvalError(f"{path}: expected 32 bytes of secret, found {len(data)}")
        return data

    def __repr__(self) -> str:  # never the secret or a passage
        return f"PrivateEvaluation({self.folder}, domains={self.domains()})"

    def seed(self, domain: str, passages: list[str], origin: str = "seed") -> None:
        """Give a domain its first passages (once: a domain that has any is left as it is)."""
        if self.db.execute("SELECT 1 FROM passages WHERE domain = ? LIMIT 1", (domain,)).fetchone():
            return
        self.db.executemany("INSERT INTO passages (domain, text, origin, added) VALUES (?, ?, ?, ?)",
                            [(domain, p, origin, time.time()) for p in passages if p.strip()])
        self._pool = {k: v for k, v in self._pool.items() if k[0] != domain}

    def domains(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT domain FROM passages ORDER BY domain")]

    def _text(self, domain: str, held: bool, exclude_user: str = "",
              exclude_sessions: frozenset[str] = frozenset()) -> str:
        """The domain's seed text (the operator's), or its held-back text from users other than
        `exclude_user` and sessions other than `exclude_sessions`."""
        # a session's own exclusions are its alone: that text is not cached. They are left out here, not in the
        # query: an old fork's lineage names thousands of sessions, past what SQLite binds in one statement
        skip = {f"held-back:{sid}" for sid in exclude_sessions} if held else set()
        key = (domain, held, exclude_user if held else "")
        if skip or key not in self._pool:
            rows = self.db.execute("SELECT origin, text FROM passages WHERE domain = ? AND (origin = 'seed') = ? AND "
                                   "user != ? ORDER BY id",
                                   (domain, not held, exclude_user if held else "\0")).fetchall()
            if not held and not rows:
                raise PrivateEvalError(f"domain {domain!r}: the oracle holds no text for it (it holds "
                                       f"{', '.join(self.domains()) or 'none'})")
            text = "".join(t for origin, t in rows if origin not in skip)
            if skip:
                return text
            self._pool[key] = text
        return self._pool[key]

    def _rng(self, *parts: str) -> random.Random:
        key = hmac.new(self._secret, "|".join(parts).encode(), hashlib.sha256).digest()
        return random.Random(int.from_bytes(key, "big"))

    def draw(self, domain: str, session: str, exclude_user: str = "",
             exclude_sessions: frozenset[str] = frozenset()) -> str:
        """The session's evaluation text: `chunks` windows chosen by the secret and the session id
        (the same session always gets the same exam). At least `seed_share` of them come from the
        operator's own seed text, so held-back submissions can never become most of the exam; none
        from `exclude_user`'s own held-back text (its author knows it), nor from the sessions in
        `exclude_sessions`: those the session's text matched in part (hanzo.model.novelty's
        `sources`), whoever sent them. A user name is free: a sybil that rewrites someone's text,
        held-back windows included, must not meet those windows in its exam."""
        seed = self._text(domain, held=False)
        held = self._text(domain, held=True, exclude_user=exclude_user, exclude_sessions=exclude_sessions)
        if len(seed) < 2 * WINDOW:
            raise PrivateEvalError(f"domain {domain!r}: {len(seed)} characters of private text; at least "
                                   f"{2 * WINDOW} are needed")
        rng = self._rng("draw", domain, session)
        from_held = 0 if len(held) < 2 * WINDOW else self.chunks - math.ceil(self.seed_share * self.chunks)
        picks = [(seed, rng.randrange(0, len(seed) - WINDOW)) for _ in range(self.chunks - from_held)]
        picks += [(held, rng.randrange(0, len(held) - WINDOW)) for _ in range(from_held)]
        return "".join(text[s:s + WINDOW] for text, s in picks)

    def split(self, text: str, session: str) -> tuple[str, str]:
        """(text to train on, text held back): whole WINDOW-character windows, `hold_back_share` of
        them, chosen by the secret so the user cannot tell which."""
        windows = [text[i:i + WINDOW] for i in range(0, len(text), WINDOW)]
        k = int(len(windows) * self.hold_back_share)
        if k == 0 or len(windows) - k < 1:
            return text, ""
        held = set(self._rng("hold", session).sample(range(len(windows)), k))
        return ("".join(w for i, w in enumerate(windows) if i not in held),
                "".join(w for i, w in enumerate(windows) if i in held))

    def training_seed(self, session: str) -> int:
        """The seed of a session's update order: the oracle's, not the user's to choose."""
        return self._rng("train", session).getrandbits(63)

    def hold_back(self, domain: str, text: str, session: str, user: str = "") -> None:
        """Add a paid session's held-back windows to the domain's passages (once per session)."""
        if not text:
            return
        origin = f"held-back:{session}"
        if self.db.execute("SELECT 1 FROM passages WHERE origin = ?", (origin,)).fetchone():
            return
        self.db.execute("INSERT INTO passages (domain, text, origin, added, user) VALUES (?, ?, ?, ?, ?)",
                        (domain, text, origin, time.time(), user))
        self._pool = {k: v for k, v in self._pool.items() if k[0] != domain}
