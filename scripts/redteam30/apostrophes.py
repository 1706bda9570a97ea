"""Red team 30: a sybil re-sells a paid text in order with an apostrophe inside most words
(tests/test_redteam30_pieces.py apostrophe_resale), judged by the real oracle: its gain on the paid text's
held-back windows against the rest of its exam, and an honest control's. Run from the repository root:
PYTHONPATH=. nice -n 19 .venv/bin/python scripts/redteam30/apostrophes.py"""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "redteam15"))
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "tests"))
from common import *
from test_redteam30_pieces import apostrophe_resale

domain = "twelfth-night"
o = make_oracle(Path(tempfile.mkdtemp(prefix="rt30-apos-")))
text = LOCAL.users_text(domain)
T, paid, _ = paid_author(o, domain, text, 3000)
assert T is not None
held = o.private._text(domain, held=True)
for user, fork, kind, t in (("sybil", 7, "sybil: paid text, apostrophes", apostrophe_resale(T, o.gate.index)),
                            ("control", 9, "control: other honest 3000", text[44000:47000])):
    r = judge(o, user, fork, domain, t)
    if "v" in r:
        n, hs, ss = split_score(o, held)
        r.update(held_chunks=n, held_gain=hs, seed_gain=ss,
                 paid_excluded=paid["sid"] in o._cap["excl"]["exclude_sessions"])
    log(domain=domain, kind=kind, **r)
Path(__file__).with_name("results").mkdir(exist_ok=True)
with open(Path(__file__).with_name("results") / "apostrophes.jsonl", "w") as f:
    for x in out:
        f.write(json.dumps(x) + "\n")
