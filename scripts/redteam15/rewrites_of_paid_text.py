"""Sybil re-sells a paid text through a rewrite no novelty channel finds; examined on its held-back windows."""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from common import *

TRANS = {
    "shuffled+random3": RW.shuffled_random_word_every_third,
    "shuffled+common3": lambda t, r: RW.replace_every_third_word(RW.shuffle_lines(t, r), r),
    "shuffled+drop3": lambda t, r: RW.drop_every_third_word(RW.shuffle_lines(t, r), r),
}
domains = sys.argv[1].split(",")
for domain in domains:
    o = make_oracle(Path(tempfile.mkdtemp(prefix=f"rt15a1-{domain}-")))
    text = LOCAL.users_text(domain)
    T, paid, _ = paid_author(o, domain, text, 3000)  # author: honest 3000-char text until paid
    if T is None: continue
    held = o.private._text(domain, held=True)
    print("held pool chars", len(held), flush=True)
    # honest control: another user's new text, same length, same oracle (also meets T's held windows)
    r = judge(o, "honestC", 200, domain, text[40000:43000])
    n, hs, ss = split_score(o, held)
    log(domain=domain, kind="honest control 3000", held_chunks=n, held_gain=hs, seed_gain=ss, **r)
    for name, f in TRANS.items():
        for s in range(2):
            R = f(T, random.Random(s))
            r = judge(o, f"sybil{len(out)}_{s}", 300 + s + 10*len(out), domain, R)
            if "v" in r:
                n, hs, ss = split_score(o, held)
                r.update(held_chunks=n, held_gain=hs, seed_gain=ss, excl=len(o._cap["excl"].get("exclude_sessions", ())))
            log(domain=domain, kind=f"sybil {name}", len=len(R), **r)
json.dump(out, open(f"/tmp/rt15-1-{'_'.join(domains)}.json", "w"), indent=1)
