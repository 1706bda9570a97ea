"""Padding one's own new text with one's paid text cut into 3-word pieces (screened: no bag or similar
window of the paid text survives, so its held-back windows stay in the exam), against the own text alone
(a paired oracle with the same secret and the same paid text)."""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import *
from recipes import span_pieces, lines, screened, repaired_mix

def mix(U, T, rng):
    """T's 3-word pieces alternated with U's 3-word pieces (both shuffled), three pieces a line."""
    tp, up = span_pieces(T, 3, rng), span_pieces(U, 3, rng)
    ps = [x for i in range(max(len(tp), len(up))) for x in ((tp[i],) if i < len(tp) else ()) + ((up[i],) if i < len(up) else ())]
    return lines(ps)

def mix_old(U, T, rng):
    ul = [l for l in U.splitlines() if l.strip()]
    tp = span_pieces(T, 3, rng)
    tl = [" ".join(tp[i:i+3]) for i in range(0, len(tp), 3)]
    outl = []
    for i in range(max(len(ul), len(tl))):
        if i < len(ul): outl.append(ul[i])
        if i < len(tl): outl.append(tl[i])
    return "\n".join(outl) + "\n"

domains = sys.argv[1].split(",")
ulen = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
NU = int(sys.argv[3]) if len(sys.argv) > 3 else 1
for domain in domains:
    base = Path(tempfile.mkdtemp(prefix=f"rt15a4-{domain}-"))
    oa = make_oracle(base / "a", secret="same secret for both oracles, thirty-two+")
    os.environ["HANZO_ORACLE_SECRET"] = "same secret for both oracles, thirty-two+a"
    ob = QualityOracle(oa.trainer, OracleConfig(base / "b")); ob._cap = oa._cap
    text = LOCAL.users_text(domain)
    T, paid, k = paid_author(oa, domain, text, 4000)
    if T is None: continue
    tsid = paid["sid"]
    log(domain=domain, kind="author in paired oracle", **judge(ob, f"author{k}", 100 + k, domain, T))
    held = oa.private._text(domain, held=True)
    print("held", len(held), flush=True)
    us, off = [], 30000
    while len(us) < NU and off + ulen < len(text):
        U = text[off:off + ulen]; off += ulen
        if tsid not in oa.gate.index.novelty(U).sources: us.append(U)
    for s, U in enumerate(us):
        B, t, nv = screened(T, tsid, oa.gate.index, lambda T, r: repaired_mix(T, U, r), random.Random(s), tries=30)
        if B is None:
            log(domain=domain, kind="mix not screenable", copied=nv.copied_share); continue
        r = judge(oa, f"padder{s}", 400 + s, domain, B)
        if "v" in r:
            n, hs, ss = split_score(oa, held); r.update(held_chunks=n, held_gain=hs, seed_gain=ss)
        log(domain=domain, kind=f"own {ulen} and paid text, alternate 3-word pieces", len=len(B), tries=t, **r)
        r = judge(ob, f"padder{s}", 400 + s, domain, U)
        log(domain=domain, kind=f"own {ulen} alone (paired)", **r)
        U3 = lines(span_pieces(U, 3, random.Random(s)))
        r = judge(ob, f"padsalad{s}", 500 + s, domain, U3)
        log(domain=domain, kind=f"own {ulen} as 3-word salad alone (paired)", **r)
json.dump(out, open(f"/tmp/rt15-4-{'_'.join(domains)}.json", "w"), indent=1)
