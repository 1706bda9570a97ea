"""Sybils re-sell a paid text T: T cut into 3-word (2-word) pieces, shuffled, a random real word after
each, screened offline so that no 4-word bag or similar window of T survives. The gate admits it as new,
and the exam keeps T's held-back windows (T is not among its sources)."""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import *
from recipes import pieces_randword, screened
domains = sys.argv[1].split(",")
for domain in domains:
    o = make_oracle(Path(tempfile.mkdtemp(prefix=f"rt15a3-{domain}-")))
    text = LOCAL.users_text(domain)
    T, paid, _ = paid_author(o, domain, text, 3000)
    if T is None: continue
    tsid = paid["sid"]
    held = o.private._text(domain, held=True)
    r = judge(o, "honestC", 200, domain, text[40000:43000])
    n, hs, ss = split_score(o, held)
    log(domain=domain, kind="honest control 3000", held_chunks=n, held_gain=hs, seed_gain=ss, **r)
    for kk, reps in ((3, 2), (2, 1)):
        for s in range(reps):
            B, t, nv = screened(T, tsid, o.gate.index, lambda T, r: pieces_randword(T, r, kk), random.Random(100*kk + s))
            if B is None:  # since the pieces channel (3-word pieces): every re-draw names T among its sources
                log(domain=domain, kind=f"sybil resale {kk}-word pieces + random word", tries=t, escaped=False)
                continue
            r = judge(o, f"sybil{kk}_{s}", 300 + 10*kk + s, domain, B)
            if "v" in r:
                n, hs, ss = split_score(o, held)
                r.update(held_chunks=n, held_gain=hs, seed_gain=ss, excl=len(o._cap["excl"].get("exclude_sessions", ())))
            log(domain=domain, kind=f"sybil resale {kk}-word pieces + random word", len=len(B), tries=t, **r)
json.dump(out, open(f"/tmp/rt15-3-{'_'.join(domains)}.json", "w"), indent=1)
