"""The quality oracle's side of a session: admit the text, have the fork trained and measured on
the oracle's evaluation sets, and turn the measurement into a verdict (the multiplier and the
interactions to pay). Signing the op and sending it are the reward hook's (hanzo.chain.rewards):
the oracle's key and the submitter's are different keys with different jobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hanzo.econ.params import DEFAULT, Tokenomics

from .forks import ForkTrainer, Session
from .quality import EvaluationSets, Gate, Quality, assess, paid_interactions


@dataclass
class Verdict:
    session: Session
    quality: Quality
    interactions: int  # interactions to pay: at most one per 256 characters of accepted text

    @property
    def low_quality(self) -> bool:
        return self.quality.low_quality

    @property
    def multiplier(self) -> int:
        return self.quality.multiplier


class QualityOracle:
    def __init__(self, trainer: ForkTrainer, sets: EvaluationSets, gate_db: Path, p: Tokenomics = DEFAULT):
        self.trainer, self.sets, self.p = trainer, sets, p
        self.gate = Gate(gate_db, p)
        self._base_ids = trainer.encode(sets.base, "the base validation slice")

    def eval_sets(self, domain: str, epoch: int) -> dict:
        return {"domain": self.trainer.encode(self.sets.domain(domain, epoch), f"domain {domain!r}"),
                "base": self._base_ids}

    def judge(self, user: str, fork: int, domain: str, text: str, requested: int, *, epoch: int = 0,
              recorded_hash: bytes | None = None, secret: str | None = None, seed: int = 0,
              session: str = "") -> Verdict:
        """Admit `text` (raises quality.Rejected), train the fork on it, measure, and judge.
        `session` (the reward hook's session id) lets a retried session pass the gate again."""
        self.trainer.adapter_path(user, fork)  # a bad user name or fork id fails before the gate records anything
        self.gate.admit(user, fork, text, session)
        interactions = paid_interactions(text, requested, self.p)
        session = self.trainer.session(user, fork, text, max(1, requested), eval_sets=self.eval_sets(domain, epoch),
                                       recorded_hash=recorded_hash, secret=secret, seed=seed)
        return Verdict(session, assess(session.before, session.after, self.p), interactions)


# The demo's domains: a character's voice. Of each character's speeches the first 70% are public
# (what users draw their sessions from) and the last 30% are the oracle's, never handed out.
DOMAINS = {
    "JULIET": ("romeo-and-juliet", "JULIET"),
    "ROMEO": ("romeo-and-juliet", "ROMEO"),
    "PROSPERO": ("the-tempest", "PROSPERO"),
    "MACBETH": ("macbeth", "MACBETH"),
    "HAMLET": ("hamlet", "HAMLET"),
}
PUBLIC_SHARE = 0.7


def public_text(domain: str) -> str:
    """The part of a domain's text that users may submit."""
    from .hllm.data import speeches

    text = speeches(*DOMAINS[domain])
    return text[: int(len(text) * PUBLIC_SHARE)]


def shakespeare_sets() -> EvaluationSets:
    """The oracle's evaluation sets for DOMAINS, and a 4,096-character slice of the base model's
    validation plays."""
    from .hllm.data import corpus, speeches

    _, val, tok = corpus()
    domains = {}
    for name, src in DOMAINS.items():
        text = speeches(*src)
        domains[name] = text[int(len(text) * PUBLIC_SHARE):]
    return EvaluationSets(domains, tok.decode(val[:4096]))
