"""Red team 30: can a paid text's author tell which of its windows were held back? The held-back windows are
"chosen by the secret so the user cannot tell which" (PrivateEvaluation.split), but the author owns the fork's
adapter after the session: it ranks its own 256-character windows by how much the adapter lowered their loss
from the public start (trained windows drop more). If the lowest-drop windows are the held ones, a sybil can
spend its 15 rare pieces a session on exactly a held-back window. Run from the repository root:
PYTHONPATH=. nice -n 19 .venv/bin/python scripts/redteam30/held_windows.py"""
import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "redteam15"))
from common import *
import torch
from hanzo.model import lora

domain = "twelfth-night"
o = make_oracle(Path(tempfile.mkdtemp(prefix="rt30-held-")))
text = LOCAL.users_text(domain)
hits = []
for k, start in enumerate((20000, 26000, 32000)):
    T = text[start:start + 3000]
    r = judge(o, f"author{k}", 200 + k, domain, T)
    if "v" not in r:
        log(kind="author", **r)
        continue
    v = r["v"]
    sid = v.submission
    nt = o.gate.index.novelty(T, sid).new_text
    windows = [nt[i:i + 256] for i in range(0, len(nt), 256)]
    _, held = o.private.split(nt, sid)
    held_set = {i for i, w in enumerate(windows) if w in held and len(w) == 256}
    tr = o.trainer
    tr._put_start()
    ids = [tr.encode(w + w[:2]) for w in windows if len(w) == 256]  # whole windows only
    before = torch.stack([tr.chunk_losses(x)[0] for x in ids])
    lora.load(v.session.adapter_path, tr.model, tr.cfg, expected_hash=v.session.adapter_hash,
              binding=lora.Binding(f"author{k}", 200 + k, tr.base_id, v.session.version))
    after = torch.stack([tr.chunk_losses(x)[0] for x in ids])
    drop = (before - after).tolist()
    guess = set(sorted(range(len(drop)), key=lambda i: drop[i])[:len(held_set)])
    hits.append((len(guess & held_set), len(held_set), len(drop)))
    log(kind="author", outcome=r["outcome"], held=sorted(held_set), guessed=sorted(guess),
        drops=[round(d, 4) for d in drop], hits=hits[-1])
Path(__file__).with_name("results").mkdir(exist_ok=True)
with open(Path(__file__).with_name("results") / "held_windows.jsonl", "w") as f:
    for x in out:
        f.write(json.dumps(x) + "\n")
