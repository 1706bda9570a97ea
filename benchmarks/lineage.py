"""What the gate's admission costs as the network's history grows: the lineage query (whose held-back windows a
session must never be examined on: every submission on its fork, what the fork's pieces and letter runs name
all together, Gate._lineage_sources) reads the fork's whole history at every admission, so its cost grows with
the fork's age. This measures by how much.

One gate on the local public corpus. Sessions of about 1,000 characters (new text from a word-pair chain over
`--writing`: the public plays, whose sessions name each other as rarely as honest writing does, or the
held-out plays' users' writing, whose small pool of pieces makes every fork name the whole network: the
pessimistic case) are admitted and recorded paid in rounds: each round adds `--per-round` sessions to
one long-lived fork and as many to other forks (the rest of the network). At each checkpoint, `--probe`
fresh sessions on the long-lived fork are timed: the whole admission (Gate.admit, the novelty channels included)
and the lineage query alone, against the same at the first checkpoint (the reference, measured in the same
run); the probes are then undone (Gate.forget) so the history grows only by the rounds. The last line is one
JSON object.

Usage: python benchmarks/lineage.py [--writing public|users] [--checkpoints 50,200,500,1000] [--per-round 25]
                                   [--probe 10]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hanzo.econ.params import DEFAULT  # noqa: E402
from hanzo.model.corpus import LOCAL  # noqa: E402
from hanzo.model.quality import PAID, Gate, Rejected  # noqa: E402

SESSION_CHARS = 1000
LONG_FORK = 1


WRITING = {
    # every word pair a public one (its only pieces are new 3-word bags): strangers' sessions name each other no more
    # than honest writing does (none of 1,262 pairs of 3,000-character texts of one play, red team 32)
    "public": lambda: "\n".join(LOCAL.public_texts().values()),
    # every word pair one of the held-out plays' users wrote (216,411 characters): a small pool of pieces, so
    # every session shares some with every other and a fork's history soon names the whole network; the
    # pessimistic case for the lineage query
    "users": lambda: "".join(LOCAL.users_text(d) for d in LOCAL.domains),
}


class WritingChain:
    """New text: each next word drawn from the words that follow the last one in `source`'s text, so every word
    pair is one of its and the runs of three or more are mostly new."""

    def __init__(self, seed: int, source: str = "public"):
        words = re.findall(r"[A-Za-z']+[,.;:!?]?", WRITING[source]())
        self.follows: dict[str, list[str]] = {}
        for a, b in zip(words, words[1:]):
            self.follows.setdefault(a, []).append(b)
        self.starts = [w for w in self.follows if w[0].isupper()]
        self.rng = random.Random(seed)

    def text(self, chars: int) -> str:
        out, word = [], self.rng.choice(self.starts)
        while sum(len(w) + 1 for w in out) < chars:
            out.append(word)
            word = self.rng.choice(self.follows.get(word) or self.starts)
        return " ".join(out)


class History:
    """The gate and the sessions admitted to it, each from its own adapter (a fork's head has one paid child)."""

    def __init__(self, folder: Path, chain: WritingChain):
        self.gate = Gate(folder / "gate.sqlite", LOCAL.public_texts().values(), DEFAULT)
        self.chain = chain
        self.sessions = {"long": 0, "network": 0}
        self.refused: dict[str, int] = {}
        self.serial = 0

    def admit(self, user: str, fork: int):
        """One new session admitted (a refused text is replaced by another), with its admission's seconds."""
        while True:
            self.serial += 1
            text = self.chain.text(SESSION_CHARS)
            t0 = time.perf_counter()
            try:
                admission = self.gate.admit(user, fork, text, 8192, parent=self.serial.to_bytes(8, "big"))
            except Rejected as e:
                self.refused[e.reason] = self.refused.get(e.reason, 0) + 1
                continue
            return admission, time.perf_counter() - t0

    def grow(self, per_round: int) -> None:
        for _ in range(per_round):
            fork = 100 + self.sessions["network"]
            for user, on, part in (("owner", LONG_FORK, "long"), (f"user-{fork}", fork, "network")):
                a, _ = self.admit(user, on)
                self.gate.record(a.submission, {"quality": {"outcome": PAID}})
                self.sessions[part] += 1

    def probe(self, n: int) -> dict:
        """n fresh sessions on the long-lived fork, timed, then undone."""
        admit_s, lineage_s, named = [], [], []
        for _ in range(n):
            a, seconds = self.admit("owner", LONG_FORK)
            admit_s.append(seconds)
            t0 = time.perf_counter()
            self.gate._lineage_sources(LONG_FORK, [a.submission], a.novelty.sources)
            lineage_s.append(time.perf_counter() - t0)
            named.append(len(a.lineage_sources))
            self.gate.forget(a.submission)
        return {"admit_ms": 1000 * statistics.median(admit_s), "lineage_ms": 1000 * statistics.median(lineage_s),
                "named": statistics.median(named)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", default="50,200,500,1000",
                    help="sessions on the long-lived fork at which admission is timed (comma-separated, rising)")
    ap.add_argument("--per-round", type=int, default=25, help="sessions added to the long-lived fork per round")
    ap.add_argument("--probe", type=int, default=10, help="timed sessions per checkpoint (undone after)")
    ap.add_argument("--writing", choices=sorted(WRITING), default="public",
                    help="the text the sessions' word pairs come from (public: like honest writing; users: a small "
                         "pool, the pessimistic case)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    try:
        checkpoints = [int(c) for c in args.checkpoints.split(",")]
    except ValueError:
        ap.error(f"--checkpoints: expected comma-separated whole numbers, got {args.checkpoints!r}")
    if not checkpoints or checkpoints != sorted(set(checkpoints)) or checkpoints[0] < 1:
        ap.error(f"--checkpoints: expected rising positive numbers, got {args.checkpoints!r}")
    if args.per_round < 1 or args.probe < 1:
        ap.error("--per-round and --probe: expected at least 1")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        history = History(Path(tmp), WritingChain(args.seed, args.writing))
        print(f"public index built in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for target in checkpoints:
            while history.sessions["long"] < target:
                history.grow(min(args.per_round, target - history.sessions["long"]))
                print(f"  {history.sessions['long']} sessions on the long-lived fork, "
                      f"{history.sessions['network']} on others", file=sys.stderr)
            row = {"fork_sessions": history.sessions["long"], "network_sessions": sum(history.sessions.values()),
                   **history.probe(args.probe)}
            rows.append(row)
            print(f"  timed at {row['fork_sessions']} sessions: admission {row['admit_ms']:.1f} ms, lineage "
                  f"{row['lineage_ms']:.2f} ms, {row['named']:.0f} sessions named", file=sys.stderr)
        refused = dict(history.refused)

    ref = rows[0]
    print(f"{'fork sessions':>13} {'all sessions':>12} {'admit ms':>9} {'x first':>8} {'lineage ms':>11} "
          f"{'x first':>8} {'lineage share':>13} {'named':>6}")
    for r in rows:
        r["admit_x"] = r["admit_ms"] / ref["admit_ms"]
        r["lineage_x"] = r["lineage_ms"] / ref["lineage_ms"]
        r["lineage_share"] = r["lineage_ms"] / r["admit_ms"]
        print(f"{r['fork_sessions']:>13} {r['network_sessions']:>12} {r['admit_ms']:>9.1f} {r['admit_x']:>7.2f}x "
              f"{r['lineage_ms']:>11.2f} {r['lineage_x']:>7.2f}x {r['lineage_share']:>12.0%} {r['named']:>6.0f}")
    print(f"texts the chain wrote that the gate refused (replaced): {refused or 'none'}")
    last = rows[-1]
    print(json.dumps({"writing": args.writing, "rows": rows, "refused": refused, "admit_ms_last": last["admit_ms"],
                      "admit_x_last": last["admit_x"], "lineage_ms_last": last["lineage_ms"],
                      "lineage_x_last": last["lineage_x"]}))


if __name__ == "__main__":
    main()
