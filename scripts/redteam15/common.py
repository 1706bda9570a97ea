import os, sys, time, random, json, tempfile
from pathlib import Path
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from hanzo.econ.params import DEFAULT, WEI
from hanzo.econ.reference import training_payout
from hanzo.model.corpus import LOCAL
from hanzo.model.forks import ForkTrainer
from hanzo.model.oracle import OracleConfig, QualityOracle
from hanzo.model.quality import Rejected, _mean_se
from hanzo.model import rewrites as RW

TRAINER = None
def make_oracle(folder, secret="red team fifteen secret of at least thirty-two chars"):
    global TRAINER
    os.environ["HANZO_ORACLE_SECRET"] = secret + folder.name
    folder = Path(folder)
    if TRAINER is None:
        TRAINER = ForkTrainer(forks=Path(tempfile.mkdtemp(prefix="rt15forks")))
    o = QualityOracle(TRAINER, OracleConfig(folder))
    o._cap = {}
    orig_draw, orig_appraise = o.private.draw, TRAINER.appraise
    def draw(domain, session, **kw):
        ex = orig_draw(domain, session, **kw); o._cap["exam"] = ex; o._cap["excl"] = kw; return ex
    def appraise(text, sets, *a, **kw):
        r = orig_appraise(text, sets, *a, **kw); o._cap["appraisal"] = r; o._cap["train"] = text; return r
    o.private.draw = draw
    o.trainer = TRAINER
    o._appraise_orig = orig_appraise
    TRAINER.appraise = appraise
    return o

def hanzo(v):
    if v.outcome != "paid": return 0.0
    return training_payout(DEFAULT, v.multiplier, v.interactions, False).paid / WEI

def split_score(o, held_text):
    """score on exam chunks that lie in held_text vs the rest"""
    ex = o._cap["exam"]; a = o._cap["appraisal"]
    d = (a.before["domain"] - a.after["domain"])
    mask = [ex[i*256:(i+1)*256] in held_text for i in range(len(d))] if held_text else [False]*len(d)
    import torch
    m = torch.tensor(mask)
    hs = float(d[m].mean()) if m.any() else float("nan")
    ss = float(d[~m].mean()) if (~m).any() else float("nan")
    return int(m.sum()), hs, ss

def judge(o, user, fork, domain, text, **kw):
    t = time.time()
    try:
        v = o.judge(user, fork, domain, text, **kw)
        r = dict(outcome=v.outcome, score=round(v.quality.score,5), se=round(v.quality.score_se,5),
                 mult=v.multiplier, inter=v.interactions, hanzo=round(hanzo(v),4), new=v.new_chars,
                 copied=round(v.copied_share,3), carried=v.carried_chars, sid=v.submission, secs=round(time.time()-t,1))
        r["v"] = v
    except Rejected as e:
        r = dict(outcome="refused: " + e.reason, msg=str(e), hanzo=0.0, secs=round(time.time()-t,1))
    return r


out: list[dict] = []  # every record logged, for the script to write at its end (the same list under `import *`)


def log(**kw):
    kw.pop("v", None)
    out.append(kw)
    print(json.dumps(kw), flush=True)


def paid_author(o, domain, text, length):
    """An author's honest text of `length` characters of the domain's users' writing, tried at three
    offsets until one is paid: (the text, its judgement, the try), or (None, None, None)."""
    for k in range(3):
        cand = text[20000 + length * k: 20000 + length * (k + 1)]
        r = judge(o, f"author{k}", 100 + k, domain, cand)
        log(domain=domain, kind=f"author honest {length}", **r)
        if r["outcome"] == "paid":
            return cand, r, k
    return None, None, None
