"""Red team 30: a paid text's rare 3-word pieces spread over a sybil's short sessions (15 each, one short of
PIECES_NEED), judged by the real oracle: are they neutral (so carried), and is the session that carries them
all examined on the paid text's held-back windows, with a gain there? Run from the repository root:
PYTHONPATH=. nice -n 19 .venv/bin/python scripts/redteam30/carry.py"""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "redteam15"))
from common import *
import numpy as np
from hanzo.model.novelty import PIECE, bag_hashes, words
from hanzo.model.rewrites import _public_words

domain = "twelfth-night"
o = make_oracle(Path(tempfile.mkdtemp(prefix="rt30-carry-")))
text = LOCAL.users_text(domain)
T, paid, _ = paid_author(o, domain, text, 3000)
assert T is not None
tsid = paid["sid"]
spans = words(T)[1]
pieces = [T[spans[i][0]:spans[i + 2][1]] for i in range(0, len(spans) - 2, 3)]
rare = [p for p in pieces if not np.isin(bag_hashes(words(p)[0], PIECE), o.gate.index.public_pieces).any()]
rng = random.Random(30)
rng.shuffle(rare)
vocab = _public_words()
def salad(ps):
    ps = list(ps); rng.shuffle(ps)
    ps = [p + " " + rng.choice(vocab) for p in ps]
    return "\n".join(" ".join(ps[i:i + 3]) for i in range(0, len(ps), 3)) + "\n"
k, tries, outcomes = 0, 0, []
while k < 9 and tries < 30:
    tries += 1
    r = judge(o, "sybil", 7, domain, salad(rare[15 * k:15 * k + 15]))
    log(domain=domain, kind=f"sybil part {k}", excl=len(o._cap.get("excl", {}).get("exclude_sessions", ())), **r)
    if r["outcome"].startswith("refused"):
        continue
    outcomes.append(r["outcome"])
    if r["outcome"] != "neutral":
        break
    k += 1
held = o.private._text(domain, held=True)
own = LOCAL.users_text("twelfth-night")[44000:46000]
r = judge(o, "sybil", 7, domain, own)
if "v" in r:
    n, hs, ss = split_score(o, held)
    r.update(held_chunks=n, held_gain=hs, seed_gain=ss, paid_excluded=tsid in o._cap["excl"]["exclude_sessions"])
log(domain=domain, kind="sybil final: own 2000 + carried parts", parts=k, **r)
r = judge(o, "control", 9, domain, LOCAL.users_text("twelfth-night")[46000:48000])
if "v" in r:
    n, hs, ss = split_score(o, held)
    r.update(held_chunks=n, held_gain=hs, seed_gain=ss)
log(domain=domain, kind="control: other honest 2000 alone", **r)
Path(__file__).with_name("results").mkdir(exist_ok=True)
with open(Path(__file__).with_name("results") / "carry.jsonl", "w") as f:
    for x in out:
        f.write(json.dumps(x) + "\n")
