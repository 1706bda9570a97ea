"""What the appraisal (the score a session is paid on) gives text that teaches nothing, against
honest writing, by length: the evidence behind the verdict's threshold (0 nats) and its discount
(quality_z standard errors).

For each length and domain, three texts are appraised exactly as the oracle appraises a session
(hanzo.model.forks.ForkTrainer.appraise: the public start trained on the text, measured on a
secret draw of the domain's private text), each on its own draw:
  salad   public text cut into 2-word pieces and shuffled (new to the gate, worthless to a reader)
  salad3  the same with 3-word pieces (the longest no 4-word bag of the gate survives inside)
  public  a slice of a public play (what the public start already learnt)
  honest  the domain's users' writing (the honest user's text)
A worthless text whose score minus quality_z standard errors exceeds 0 would be paid (if long
enough): the script counts them. The last line is one JSON object.

Usage: python benchmarks/appraisal.py [--per-length N] [--lengths 800,1500,3000,6000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-length", type=int, default=4, help="texts of each kind per length (one per domain)")
    ap.add_argument("--lengths", default="800,1500,3000,6000", help="characters, comma-separated")
    args = ap.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    if args.per_length < 1 or any(n < 256 for n in lengths):
        sys.exit("error: --per-length: expected >= 1; --lengths: expected >= 256 characters each")

    from hanzo.econ.params import DEFAULT, WEI
    from hanzo.model.corpus import LOCAL
    from hanzo.model.forks import ForkTrainer
    from hanzo.model.oracle import OracleConfig, QualityOracle
    from hanzo.model.quality import _mean_se
    from hanzo.model.rewrites import fragment_salad

    t0 = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="hanzo-appraisal-"))
    trainer = ForkTrainer(forks=folder / "forks")
    config = OracleConfig(folder / "oracle")
    oracle = QualityOracle(trainer, config)
    z = DEFAULT.quality_z / WEI
    rng = random.Random(7)
    domains = list(LOCAL.domains)
    public = LOCAL.public_texts()
    names = sorted(public)
    everything = "\n".join(public[n] for n in names)

    def salad(n: int, k: int = 2) -> str:
        s = rng.randrange(0, len(everything) - 200_000)
        return fragment_salad(everything[s:s + 150_000], rng, k)[:n]

    def public_slice(n: int) -> str:
        t = public[rng.choice(names)]
        s = rng.randrange(0, len(t) - n)
        return t[t.index("\n", s) + 1:][:n]

    draws = 0

    def appraise(text: str, domain: str) -> tuple[float, float]:
        nonlocal draws
        draws += 1
        sid = f"appraisal-benchmark-{draws}"
        sets = {"domain": trainer.encode(oracle.private.draw(domain, sid)), "base": oracle._base_ids}
        a = trainer.appraise(text, sets, config.passes, seed=draws, lr=config.appraisal_lr)
        return _mean_se(a.before["domain"] - a.after["domain"])

    rows, pos = [], dict.fromkeys(domains, 0)
    for n in lengths:
        for i in range(args.per_length):
            domain = domains[i % len(domains)]
            honest = LOCAL.users_text(domain)[pos[domain]:pos[domain] + n]
            pos[domain] += n
            for kind, text in (("salad", salad(n)), ("salad3", salad(n, 3)), ("public", public_slice(n)),
                               ("honest", honest)):
                score, se = appraise(text, domain)
                rows.append({"chars": n, "kind": kind, "domain": domain, "score": score, "se": se,
                             "would_pay": score - z * se > 0})
            print(f"{n} characters, {domain}: " + ", ".join(f"{r['kind']} {r['score']:+.4f}±{r['se']:.4f}"
                                                            for r in rows[-4:]), flush=True)

    print(f"\n{'characters':>10} {'kind':<7}{'n':>3}{'mean':>9}{'sd':>8}{'min':>9}{'max':>9}{'beyond z·se':>12}")
    table = {}
    for n in lengths:
        for kind in ("salad", "salad3", "public", "honest"):
            s = [r["score"] for r in rows if r["chars"] == n and r["kind"] == kind]
            paid = sum(r["would_pay"] for r in rows if r["chars"] == n and r["kind"] == kind)
            sd = statistics.stdev(s) if len(s) > 1 else 0.0
            table[f"{kind}_{n}"] = {"mean": round(statistics.mean(s), 5), "sd": round(sd, 5),
                                    "max": round(max(s), 5), "beyond_noise": paid, "n": len(s)}
            print(f"{n:>10} {kind:<7}{len(s):>3}{statistics.mean(s):>+9.4f}{sd:>8.4f}{min(s):>+9.4f}{max(s):>+9.4f}"
                  f"{paid:>9}/{len(s)}")
    worthless = [r for r in rows if r["kind"] != "honest"]
    honest = [r for r in rows if r["kind"] == "honest"]
    result = {
        "worthless_beyond_noise": sum(r["would_pay"] for r in worthless),
        "worthless_texts": len(worthless),
        "worthless_max_score": round(max(r["score"] for r in worthless), 5),
        "honest_beyond_noise": sum(r["would_pay"] for r in honest),
        "honest_texts": len(honest),
        "honest_min_score": round(min(r["score"] for r in honest), 5),
        "by_kind_and_length": table,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"\nworthless texts beyond noise (would be paid): {result['worthless_beyond_noise']} of "
          f"{result['worthless_texts']}; honest: {result['honest_beyond_noise']} of {result['honest_texts']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
