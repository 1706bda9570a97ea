"""Why the oracle pays a session on its text's appraisal and not on the fork's own change (issue 15).

One honest user writes `--sessions` sessions of `--chars` characters in one domain (the local
"users' writing" role) on one fork, each continuing from the last, as the oracle trains a fork. After
each session the fork is measured on a fixed exam of `--exam` windows of the domain's private text
(larger than the oracle's 128, so the figure is the fork's change, not the exam's noise). Beside it,
each session's text alone is appraised: the public start trained on it and measured on the same exam.
Run for each learning rate in `--lrs`: the fork's change per session, the appraisal per session, and
the fork's total gain over the series.

Usage: python benchmarks/fork_drift.py [--domain hamlet] [--sessions 8] [--chars 3000] [--lrs 1e-3,5e-4]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hanzo.model import lora  # noqa: E402
from hanzo.model.corpus import LOCAL  # noqa: E402
from hanzo.model.forks import WINDOW, ForkTrainer  # noqa: E402


def series(trainer: ForkTrainer, exam: torch.Tensor, texts: list[str], lr: float,
           appraise: bool = True) -> tuple[list[float], list[float]]:
    """(the fork's change on the exam after each session, each session's appraisal on it: the
    appraisal does not depend on the fork's learning rate, so it is made once)."""
    fork_changes, appraisals = [], []
    lora.put(trainer.model, trainer.start)
    state = lora.adapter_state(trainer.model)
    before = trainer.chunk_losses(exam)
    for j, text in enumerate(texts):
        lora.put(trainer.model, state)
        trainer._train(trainer.encode(text), 2, j, lr)  # the oracle's two passes, from the fork's head
        state = lora.adapter_state(trainer.model)
        after = trainer.chunk_losses(exam)
        fork_changes.append(float((before - after).mean()))
        before = after
        if appraise:
            a = trainer.appraise(text, {"exam": exam}, 2, seed=j, lr=1e-3)
            appraisals.append(float((a.before["exam"] - a.after["exam"]).mean()))
        print(f"lr {lr:g} session {j + 1}: the fork's change {fork_changes[-1]:+.4f} nats"
              + (f", the text's appraisal {appraisals[-1]:+.4f}" if appraise else ""), flush=True)
    return fork_changes, appraisals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--domain", default="hamlet")
    ap.add_argument("--sessions", type=int, default=8)
    ap.add_argument("--chars", type=int, default=3000)
    ap.add_argument("--exam", type=int, default=768, help="256-character windows of private text in the fixed exam")
    ap.add_argument("--lrs", default="1e-3,5e-4", help="the fork's learning rates to compare")
    args = ap.parse_args()
    trainer = ForkTrainer(forks=Path("/nonexistent-forks"))  # nothing is saved
    private = "".join(LOCAL.private_passages(args.domain))
    rng = random.Random(7)
    exam = trainer.encode("".join(private[s:s + WINDOW] for s in (rng.randrange(0, len(private) - WINDOW)
                                                                  for _ in range(args.exam))))
    writing = LOCAL.users_text(args.domain)
    texts = [writing[j * args.chars:(j + 1) * args.chars] for j in range(args.sessions)]
    result = {"domain": args.domain, "sessions": args.sessions, "chars": args.chars, "exam_windows": args.exam}
    for k, lr in enumerate(float(x) for x in args.lrs.split(",")):
        changes, appraisals = series(trainer, exam, texts, lr, appraise=k == 0)
        result[f"lr_{lr:g}"] = {"fork_change": [round(x, 5) for x in changes], "fork_total": round(sum(changes), 5),
                                "fork_change_negative": sum(x < 0 for x in changes)}
        if appraisals:
            result["appraisal"] = [round(x, 5) for x in appraisals]
            result["appraisal_negative"] = sum(x < 0 for x in appraisals)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
