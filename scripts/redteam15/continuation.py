"""An author's held-back windows (the exam's held part) against the author's own continuation (the next
speeches of the same scene, sent by a sybil: it matches nothing, so nothing is excluded) and an unrelated
honest text of the same play: the appraisal's gain on those windows, on the seed exam, by kind."""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import *
import statistics
o = make_oracle(Path(tempfile.mkdtemp(prefix="rt15cont")))
tr = o.trainer
res = {}
for domain in sys.argv[1].split(","):
    text = LOCAL.users_text(domain)
    for j, start in enumerate((12000, 20000)):
        T = text[start:start + 4000]
        for rep in range(2):
            _, held = o.private.split(T, f"{domain}-{start}-{rep}")
            seed = o.private.draw(domain, f"seed-{domain}-{start}-{rep}")[:256 * 32]
            sets = {"domain": tr.encode(held), "base": tr.encode(seed)}
            for kind, X in (("continuation", text[start + 4000:start + 7000]),
                            ("unrelated", text[start + 15000:start + 18000])):
                a = o._appraise_orig(X, sets, 2, seed=rep, lr=1e-3)
                g = float((a.before["domain"] - a.after["domain"]).mean())
                gs = float((a.before["base"] - a.after["base"]).mean())
                res.setdefault(kind, []).append((g, gs))
                print(domain, start, rep, kind, f"held {g:+.4f} seed {gs:+.4f}", flush=True)
for k, v in res.items():
    print(k, "held mean", round(statistics.mean(x for x, _ in v), 5), "seed mean", round(statistics.mean(y for _, y in v), 5), len(v))
