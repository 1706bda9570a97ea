"""Gate only: every domain's users' writing, cut into sessions in order, each from a different user.
Which honest sessions does the gate refuse, and why."""
import sys, json, tempfile, collections
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from pathlib import Path
from hanzo.econ.params import DEFAULT
from hanzo.model.corpus import LOCAL
from hanzo.model.quality import Gate, Rejected
n = int(sys.argv[1])
res = {}
for domain in LOCAL.domains:
    gate = Gate(Path(tempfile.mkdtemp()) / "g.sqlite", LOCAL.public_texts().values(), DEFAULT)
    t = LOCAL.users_text(domain)
    c = collections.Counter(); copied = []
    for i in range(0, len(t) - n, n):
        try:
            a = gate.admit(f"u{i}", i, t[i:i+n], 8192)
            c["admitted"] += 1; copied.append(a.novelty.copied_share)
            if a.novelty.sources: c["matched another honest user"] += 1
        except Rejected as e:
            c[e.reason] += 1
            print(domain, i, e.reason, str(e)[:120], flush=True)
    res[domain] = dict(c, mean_copied=round(sum(copied)/len(copied),3), chars=len(t))
    print(domain, res[domain], flush=True)
print(json.dumps(res))
