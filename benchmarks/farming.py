"""What a greedy user earns from the quality oracle against honest work (issue 15).

Every strategy runs through the real oracle (hanzo.model.oracle: the gate, the novelty index, the
trainer on the shipped base model, the private evaluation store) with the chain's rules beside
it: an adapter is paid once per fork, and a fork's starting point is the last adapter the ledger
paid for it (resetting the NFT's adapter changes nothing). Text roles are the local ones
(hanzo.model.corpus): honest users write from the "users' writing" half of the held-out plays;
greedy users read only the public plays, what honest users have published through the oracle
(their accepted text), and the base model.

For each strategy: HANZO per session (the user's and the owner's share together), per 1,000
characters of the user's text, and per CPU-second of the oracle, and each against honest work:
per session against honest sessions of the same length, per 1,000 characters against all honest
sessions. The last line is one JSON object.

Usage: python benchmarks/farming.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hanzo.econ.params import DEFAULT, WEI  # noqa: E402
from hanzo.econ.reference import training_payout  # noqa: E402

FARM_CHARS = 3000


class Ledger:
    """The chain's side, as TrainingRewards keeps it: (fork, adapter) paid once; a fork's head is
    its last paid adapter."""

    def __init__(self):
        self.paid: set[tuple[int, bytes]] = set()
        self.head: dict[int, bytes] = {}

    def settle(self, fork: int, verdict) -> int:
        """Wei the user and the owner receive for a judged session."""
        if not verdict.needs_op:
            return 0
        key = (fork, verdict.session.adapter_hash)
        if key in self.paid:
            return 0  # OpReplayed: the contract refuses a second payment of an adapter on a fork
        self.paid.add(key)
        if verdict.low_quality:
            return 0
        self.head[fork] = verdict.session.adapter_hash
        return training_payout(DEFAULT, verdict.multiplier, verdict.interactions, False).paid


class Bench:
    def __init__(self, folder: Path, trainer=None):
        from hanzo.model.forks import ForkTrainer
        from hanzo.model.oracle import OracleConfig, QualityOracle

        self.trainer = trainer or ForkTrainer(forks=folder / "forks")
        self.oracle = QualityOracle(self.trainer, OracleConfig(folder / "oracle"))
        self.ledger = Ledger()
        self.rows: dict[str, list[dict]] = defaultdict(list)
        self.forks = 0

    def new_fork(self) -> int:
        self.forks += 1
        return self.forks

    def session(self, strategy: str, user: str, fork: int, domain: str, text: str, *, head_override=None,
                chars_of_own_text: int | None = None) -> dict:
        from hanzo.model.quality import Rejected

        start = time.process_time()
        head = self.ledger.head.get(fork) if head_override is None else (head_override or None)
        try:
            v = self.oracle.judge(user, fork, domain, text, fork_head=head)
            wei = self.ledger.settle(fork, v)
            if v.outcome == "paid" and wei:
                self.trainer.promote(v.session)
            outcome = v.outcome if wei or v.outcome != "paid" else "replay refused"
            detail = f"{v.quality.score:+.4f}±{v.quality.score_se:.4f} base {v.quality.base_change:+.4f}"
            new, paid_chars = v.new_chars, (v.new_chars + v.carried_chars) if wei else 0
        except Rejected as r:
            wei, outcome, detail, new, paid_chars = 0, f"refused: {r.reason}", "", 0, 0
        row = {"strategy": strategy, "chars": chars_of_own_text if chars_of_own_text is not None else len(text),
               "hanzo": wei / WEI, "outcome": outcome, "cpu_s": time.process_time() - start, "detail": detail,
               "new_chars": new, "paid_chars": paid_chars}
        self.rows[strategy].append(row)
        return row


def run(quick: bool, folder: Path) -> dict:
    from hanzo.model.corpus import LOCAL
    from hanzo.model.hllm.train import generate
    from hanzo.model.rewrites import REWRITES, fragment_salad, interleave, pieces_with_a_random_word, word_salad

    b = Bench(folder)
    # a second oracle (its own gate and private store) for paired controls: a padder's own text judged
    # alone, which the first oracle's gate would refuse as a copy once the padded text is admitted
    control = Bench(folder / "control", b.trainer)
    rng = random.Random(1)
    domains = list(LOCAL.domains)
    public = LOCAL.public_texts()
    names = sorted(public)

    def public_slice(n: int) -> str:
        t = public[rng.choice(names)]
        s = rng.randrange(0, len(t) - n)
        return t[t.index("\n", s) + 1:][:n]

    # a warm-up, so the first timed session does not pay for torch's start
    b.trainer.chunk_losses(b.trainer.encode(LOCAL.base_text()[:600]))

    # ---- honest users: each writes a series of sessions from its domain's unpublished writing
    lengths = {1000: 2, 3000: 2, 6000: 1} if quick else {1000: 4, 3000: 3, 6000: 2}
    honest_texts = []
    for domain in (domains[:2] if quick else domains):
        text, pos = LOCAL.users_text(domain), 0
        for n, count in lengths.items():
            fork = b.new_fork()
            for j in range(count):
                piece = text[pos:pos + n]
                pos += n
                b.session(f"honest {n}", f"honest{fork}", fork, domain, piece)["first"] = j == 0
                honest_texts.append((domain, piece))
        print(f"honest users of {domain}: done", flush=True)
    # one honest user's long series on one fork: how the paid share falls as the fork learns
    if not quick:
        text, fork = LOCAL.users_text(domains[0]), b.new_fork()
        for j in range(7):
            b.session("honest 3000, 7 sessions on one fork", f"series{fork}", fork, domains[0],
                      text[40_000 + j * 3000:43_000 + j * 3000])

    sessions = 1 if quick else 3
    farm_domains = [domains[i % len(domains)] for i in range(sessions)]
    # ---- the public corpus, as it is and rewritten
    for k in range(sessions):
        b.session("public corpus", f"farmer{k}", b.new_fork(), farm_domains[k], public_slice(FARM_CHARS))
    for name, rewrite in REWRITES.items():
        for k in range(sessions):
            b.session(f"public, {name}", f"rewriter{k}", b.new_fork(), farm_domains[k],
                      rewrite(public_slice(FARM_CHARS), rng))
    for k in range(sessions):
        half = public_slice(FARM_CHARS // 2)
        b.session("public, interleaved with another play", f"interleaver{k}", b.new_fork(), farm_domains[k],
                  interleave(half, public_slice(FARM_CHARS // 2)))
    # ---- red team, this round: public text cut into 2-word pieces and shuffled (from a long stretch,
    # so no region of it survives), alone and as padding for a little of one's own writing
    everything = "\n".join(public[n] for n in names)

    def salad(n: int, k: int = 2) -> str:
        s = rng.randrange(0, len(everything) - 200_000)
        return fragment_salad(everything[s:s + 150_000], rng, k)[:n]

    for k in range(sessions):
        b.session("public, cut into 2-word pieces, shuffled", f"salad{k}", b.new_fork(), farm_domains[k],
                  salad(FARM_CHARS))
    # red team, the next round: short salad, where a few updates' noise outweighs the exam's se
    for n in (300, 800):
        for k in range(sessions):
            b.session(f"public, 2-word pieces shuffled, {n} characters", f"short-salad{n}_{k}", b.new_fork(),
                      farm_domains[k], salad(n), chars_of_own_text=n)
    # the red team's third round: 3-word pieces (no 4-word bag survives inside a piece, and at 4 words one
    # does), at the length honest users write
    for k in range(2 * sessions):
        b.session("public, 3-word pieces shuffled, 1,000 characters", f"salad3_{k}", b.new_fork(),
                  domains[k % len(domains)], salad(1000, 3))
    # padding is a lottery if noise can pay: each padded text against the same own text alone (a paired
    # control, same domain), over every domain; a quick run once paid one padded session 1.33x honest
    for k in range(2 * sessions):
        domain = domains[k % len(domains)]
        mine = LOCAL.users_text(domain)[-(k // len(domains) + 1) * 1000:][:1000]
        b.session("own 1,000 characters padded with 2,000 of that salad", f"saladpad{k}", b.new_fork(),
                  domain, mine + "\n" + salad(2000), chars_of_own_text=len(mine))
        control.session("own 1,000 characters padded with 2,000 of that salad", f"saladpad{k}",
                        control.new_fork(), domain, mine)
    # ---- honest users' published (accepted) text, copied and rewritten, on sybil forks
    for k in range(sessions):
        domain, accepted = honest_texts[k * 3]
        b.session("copy of an honest user's text", f"copier{k}", b.new_fork(), domain, accepted)
        for j, (name, rewrite) in enumerate(list(REWRITES.items())[:4]):
            b.session("sybils: own rewrite each of an honest text", f"sybil{k}_{j}", b.new_fork(), domain,
                      rewrite(accepted, rng))
    # ---- red team 15: a paid honest text re-sold by a sybil in 3-word pieces, a random word after each
    # (it matched the paid text nowhere, and was examined on its held-back windows, until the pieces channel)
    paid_3000 = [(d, t) for d, t in honest_texts if len(t) == 3000]
    for k in range(sessions):
        domain, accepted = paid_3000[(k * 3) % len(paid_3000)]
        b.session("sybils: an honest text re-sold in 3-word pieces, a random word after each", f"reseller{k}",
                  b.new_fork(), domain, pieces_with_a_random_word(accepted, rng))
    # ---- honest text interleaved with public lines (a real author padding with copies)
    own = LOCAL.users_text(domains[0])[-20000:]
    for k in range(sessions):
        mine = own[k * 1600:(k + 1) * 1600]
        b.session("own text padded with public lines", f"padder{k}", b.new_fork(), domains[0],
                  interleave(mine, public_slice(1600)), chars_of_own_text=len(mine))
        control.session("own text padded with public lines", f"padder{k}", control.new_fork(), domains[0], mine)
    # ---- reset and replay: a paid session submitted again after the NFT's adapter is reset
    for k in range(sessions):
        fork = b.new_fork()
        piece = own[10000 + k * FARM_CHARS:10000 + (k + 1) * FARM_CHARS]
        b.session("reset and replay (first, honest)", f"resetter{k}", fork, domains[0], piece)
        b.rows.pop("reset and replay (first, honest)")
        b.session("reset and replay", f"resetter{k}", fork, domains[0], piece, head_override=b"\0" * 32)
    # ---- many sessions judged from one head before the first is paid (a fresh fork's gains each)
    racing = LOCAL.users_text(domains[1])[-12_000:]
    for k in range(sessions):
        fork = b.new_fork()
        for j in range(3):
            piece = racing[(k * 3 + j) * 1000:(k * 3 + j + 1) * 1000]
            b.session("sessions judged from one head before any is paid", f"racer{k}", fork, domains[1], piece,
                      head_override=b"")
    # ---- more updates than text: the same new text repeated to earn more windows
    for k in range(sessions):
        piece = own[16000 + k * 700:16000 + (k + 1) * 700]
        b.session("more updates than text (text repeated)", f"repeater{k}", b.new_fork(), domains[0], piece * 4,
                  chars_of_own_text=len(piece))
        control.session("more updates than text (text repeated)", f"repeater{k}", control.new_fork(), domains[0],
                        piece)
    # ---- text the model writes (a new fork's: the public start; and the bare base), and noise
    from hanzo.model import lora

    for k in range(sessions):
        b.trainer.load_fork("generator", 1, None, None)  # a fork with no history: the public start
        text = generate(b.trainer.model, b.trainer.tok, "\n", n=FARM_CHARS, seed=100 + k)
        b.session("text the public start generates", f"generator{k}", b.new_fork(), farm_domains[k], text)
    for k in range(sessions):
        lora.reset(b.trainer.model, 0)  # B = 0: the bare base model
        text = generate(b.trainer.model, b.trainer.tok, "\n", n=FARM_CHARS, seed=200 + k)
        b.session("text the bare base model generates", f"base-generator{k}", b.new_fork(), farm_domains[k], text)
    for k in range(sessions):
        noise = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz   \n") for _ in range(FARM_CHARS))
        b.session("noise", f"spammer{k}", b.new_fork(), farm_domains[k], noise)
    for k in range(sessions):
        b.session("word salad (random words of the plays)", f"salad-spammer{k}", b.new_fork(), farm_domains[k],
                  word_salad(FARM_CHARS, rng))
    return b.rows, control.rows


def summarise(rows: dict[str, list[dict]], controls: dict[str, list[dict]]) -> dict:
    def per(rs):
        n, chars, hanzo = len(rs), sum(r["chars"] for r in rs), sum(r["hanzo"] for r in rs)
        cpu = sum(r["cpu_s"] for r in rs)
        return {"sessions": n, "per_session": hanzo / n, "per_kchar": 1000 * hanzo / max(1, chars),
                "per_cpu_s": hanzo / max(1e-9, cpu), "paid_share": sum(r["outcome"] == "paid" for r in rs) / n}

    honest_rows = [r for s, rs in rows.items() if s.startswith("honest") for r in rs]
    honest = per(honest_rows)
    by_length = {int(s.split()[1]): per(rs) for s, rs in rows.items() if re.fullmatch(r"honest \d+", s)}

    def honest_session_at(chars: float) -> float:
        n = min(by_length, key=lambda k: abs(k - chars))
        return by_length[n]["per_session"]

    # every farm runs on a fresh fork: against honest users' first sessions of the same length too
    first_by_length = {int(s.split()[1]): per([r for r in rs if r.get("first")]) for s, rs in rows.items()
                       if re.fullmatch(r"honest \d+", s)}

    def honest_first_at(chars: float) -> float:
        n = min(first_by_length, key=lambda k: abs(k - chars))
        return first_by_length[n]["per_session"]

    table = []
    print(f"\n{'strategy':<56}{'n':>3}{'HANZO/session':>15}{'/1k chars':>11}{'/CPU-s':>9}{'x honest/sess':>14}"
          f"{'x first':>8}{'x honest/kch':>13}  outcomes")
    for s, rs in rows.items():
        f = per(rs)
        mean_chars = sum(r["chars"] for r in rs) / len(rs)
        f["ratio_session"] = f["per_session"] / honest_session_at(mean_chars)
        f["ratio_session_first"] = f["per_session"] / honest_first_at(mean_chars)
        f["ratio_kchar"] = f["per_kchar"] / honest["per_kchar"]
        f["ratio_cpu"] = f["per_cpu_s"] / honest["per_cpu_s"]
        outcomes = defaultdict(int)
        for r in rs:
            outcomes[r["outcome"]] += 1
        f["outcomes"] = dict(outcomes)
        table.append((s, f))
        print(f"{s:<56}{f['sessions']:>3}{f['per_session']:>15.4f}{f['per_kchar']:>11.4f}{f['per_cpu_s']:>9.4f}"
              f"{f['ratio_session']:>14.2f}{f['ratio_session_first']:>8.2f}{f['ratio_kchar']:>13.2f}  "
              + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    farms = [(s, f) for s, f in table if not s.startswith("honest")]
    long_honest = [r for r in honest_rows if r["chars"] >= 1000]
    result = {
        "max_farm_ratio_per_session": round(max(f["ratio_session"] for _, f in farms), 4),
        "max_farm_ratio_per_kchar": round(max(f["ratio_kchar"] for _, f in farms), 4),
        "max_farm_ratio_per_cpu_s": round(max(f["ratio_cpu"] for _, f in farms), 4),
        "max_farm_ratio_per_session_vs_first": round(max(f["ratio_session_first"] for _, f in farms), 4),
        "best_farm": max(farms, key=lambda t: t[1]["ratio_kchar"])[0],
        "honest_paid_share": round(sum(r["outcome"] == "paid" for r in long_honest) / len(long_honest), 4),
        # a neutral session's new text is carried into its author's next session on the fork: the
        # share of honest new characters that were paid for, in their own session or a later one
        "honest_new_chars_paid_share": round(sum(r["paid_chars"] for r in honest_rows)
                                             / max(1, sum(r["new_chars"] for r in honest_rows)), 4),
        "honest_sessions": len(long_honest),
        "honest_hanzo_per_session": round(honest["per_session"], 4),
        "honest_hanzo_per_kchar": round(honest["per_kchar"], 4),
        "honest_low_quality": sum(r["outcome"] == "low quality" for r in honest_rows),
        "strategies": len(farms),
    }
    # padding, paired: what the padded texts earned against the same own texts judged alone
    print(f"\n{'padding, against the same own text alone':<58}{'padded':>9}{'alone':>9}{'ratio':>7}")
    pairs = {}
    for s, alone_rows in controls.items():
        padded, alone = sum(r["hanzo"] for r in rows[s]), sum(r["hanzo"] for r in alone_rows)
        pairs[s] = {"padded": round(padded, 4), "alone": round(alone, 4), "sessions": len(alone_rows),
                    "ratio": round(padded / alone, 4) if alone else (0.0 if padded == 0 else None)}
        print(f"{s:<58}{padded:>9.4f}{alone:>9.4f}{pairs[s]['ratio'] if pairs[s]['ratio'] is not None else 'inf':>7}")
    ratios = [p["ratio"] for p in pairs.values()]
    # None: a padded text was paid while its own text alone never was (padding created the pay)
    result["max_padding_ratio_vs_own_text"] = None if None in ratios else max(ratios, default=0.0)
    result["padding_pairs"] = pairs
    print(f"\nhonest: {result['honest_sessions']} sessions of >= 1,000 characters, "
          f"{result['honest_paid_share']:.0%} paid; "
          f"the best farm ({result['best_farm']}) earns {result['max_farm_ratio_per_kchar']:.2f}x honest per 1,000 "
          f"characters; the most per session {result['max_farm_ratio_per_session']:.2f}x")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one session per strategy, two domains (a smoke run)")
    ap.add_argument("--out", type=Path, default=None, help="keep the oracle's folder and write rows.json here")
    args = ap.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="hanzo-farming-"))
    t0 = time.perf_counter()
    rows, controls = run(args.quick, folder)
    result = summarise(rows, controls)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.out:
        (args.out / "rows.json").write_text(json.dumps({"rows": rows, "controls": controls}, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
