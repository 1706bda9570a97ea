"""The quality oracle's side of a session: admit the text, have the fork trained on its new part
and measured on the oracle's private text, and turn the measurement into a verdict (paid, neutral
or low quality; the multiplier and the interactions to pay). Signing the op and sending it are the
reward hook's (hanzo.chain.rewards): the oracle's key and the submitter's are different keys.

An operator runs it with an `OracleConfig`: a private directory (the evaluation store, its
secret, the gate's record of every admitted text), the corpus roles (what is public, which
domains exist and what seeds their private text), and the session's shape. A session does two
things with the text's new part: it appraises it (the public start trained on it, measured on a
secret draw of the oracle's private text: what the session is paid on) and trains the fork on it
from the fork's head, its history on chain (the last adapter the ledger paid for it, never what the
NFT currently records), which gives the candidate adapter the op names.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hanzo.econ.params import DEFAULT, Tokenomics

from .corpus import LOCAL, CorpusRoles
from .forks import ForkTrainer, Session
from .private_eval import PrivateEvaluation
from .quality import LOW, NEUTRAL, PAID, Gate, Quality, assess, paid_interactions, too_short_to_pay


@dataclass(frozen=True)
class OracleConfig:
    """Where the oracle keeps what no user may read, and the shape of a session."""

    folder: Path  # private: evaluation store, secret, gate (create it readable by the oracle alone)
    roles: CorpusRoles = field(default_factory=lambda: LOCAL)
    # 256-character windows of private text per session's exam: at 64 the noise (about 0.0011 nats)
    # hid a fork's later gains (about 0.002); at 128 it is about 0.0008
    chunks: int = 128
    hold_back_share: float = 0.2  # of a paid session's new text: kept as future exam, never trained on
    passes: int = 2  # updates per window of new text
    # the fork's learning rate: at 3e-3 a fork's later sessions undid its earlier ones; at 1e-3 an
    # honest user's 8 sessions of 3,000 characters on one fork lowered its loss on the domain's
    # private text by 0.0059 nats in all, at 5e-4 by 0.0103 (each session drifts it less)
    lr: float = 5e-4
    # the appraisal's (what a session is paid on: its text's gain from the public start)
    appraisal_lr: float = 1e-3
    max_session_chars: int = 8192
    # the fewest characters trained on (new and carried, less the held-back share) a paid session
    # may have: below it a "paid" verdict is neutral and the text carried (quality.too_short_to_pay).
    # Three windows; honest 1,000-character sessions trained on 838-1,000 in the farming benchmark.
    min_paid_chars: int = 768

    def __post_init__(self):
        if self.passes < 1 or self.max_session_chars < 256:
            raise ValueError(f"passes: expected >= 1, got {self.passes}; max_session_chars: expected >= 256, got "
                             f"{self.max_session_chars}")


@dataclass
class Verdict:
    submission: str
    session: Session
    quality: Quality
    interactions: int  # to pay (or burn, when low quality): one per quality_gain_per_interaction; 0 if neutral
    new_chars: int
    copied_share: float
    cpu_s: float  # the oracle's CPU time for this judgement (0 when answered from the record)
    replayed: bool = False  # answered from the record of an earlier judgement of the same submission
    carried_chars: int = 0  # new text of the user's earlier neutral sessions on the fork, trained on and paid here

    @property
    def outcome(self) -> str:
        return self.quality.outcome

    @property
    def low_quality(self) -> bool:
        return self.quality.low_quality

    @property
    def multiplier(self) -> int:
        return self.quality.multiplier

    @property
    def needs_op(self) -> bool:
        """Paid and low-quality sessions go on chain; a neutral one does not."""
        return self.outcome != NEUTRAL


class QualityOracle:
    def __init__(self, trainer: ForkTrainer, config: OracleConfig, p: Tokenomics = DEFAULT):
        self.trainer, self.config, self.p = trainer, config, p
        self.private = PrivateEvaluation(config.folder / "private", chunks=config.chunks,
                                         hold_back_share=config.hold_back_share)
        for domain in config.roles.domains:
            self.private.seed(domain, config.roles.private_passages(domain))
        self.gate = Gate(config.folder / "gate.sqlite", config.roles.public_texts().values(), p)
        self._base_ids = trainer.encode(config.roles.base_text(), "the base-regression set")

    @property
    def domains(self) -> list[str]:
        return self.private.domains()

    def judge(self, user: str, fork: int, domain: str, text: str, *, fork_head: bytes | None = None,
              secret: str | None = None, head_owner: str | None = None) -> Verdict:
        """Admit `text` (raises quality.Rejected), train the fork from `fork_head` (the adapter the
        chain last paid for it; None for a fork with no paid history) on the text's new part, appraise
        that part (the public start trained on it, measured on a secret draw of private text), and
        judge the appraisal. The same user's same text on the
        same fork is answered from the record, without training again. When `user` is not the
        fork's owner, `head_owner` names the owner: the head is the owner's adapter file."""
        self.trainer.adapter_path(user, fork)  # a bad user name or fork id fails before the gate records anything
        if domain not in self.domains:
            raise ValueError(f"domain {domain!r}: the oracle holds {', '.join(self.domains)}")
        clock = time.process_time()
        admission = self.gate.admit(user, fork, text, self.config.max_session_chars, self.trainer.tok.chars,
                                    parent=fork_head)
        if admission.verdict is not None:
            return self._from_record(user, fork, admission.submission, admission.verdict)
        sid, novelty = admission.submission, admission.novelty
        try:
            train_text, held = self.private.split(admission.carried + novelty.new_text, sid)
            exam = self.private.draw(domain, sid, exclude_user=user, exclude_sessions=admission.sources)
            eval_sets = {"domain": self.trainer.encode(exam, f"domain {domain!r}"), "base": self._base_ids}
            seed = self.private.training_seed(sid)
            # the fork's candidate first: a missing or wrongly keyed head fails before the appraisal's work
            session = self.trainer.session(user, fork, train_text, self.config.passes, recorded_hash=fork_head,
                                           secret=secret, seed=seed, lr=self.config.lr, head_owner=head_owner)
            appraisal = self.trainer.appraise(train_text, eval_sets, self.config.passes, seed=seed,
                                              lr=self.config.appraisal_lr)
        except BaseException:
            self.gate.forget(sid)  # a failed judgement must not leave the text a copy of itself
            raise
        quality = too_short_to_pay(assess(appraisal.before, appraisal.after, self.p, chars=len(train_text)),
                                   len(train_text), self.config.min_paid_chars)
        # a low-quality op burns one interaction's reward: enough to mark the verdict on the ledger;
        # burning the pool in proportion to the junk would let anyone drain it for the gas
        interactions = (paid_interactions(quality, self.p)
                        if quality.outcome == PAID else 1 if quality.outcome == LOW else 0)
        if quality.outcome == PAID:
            self.private.hold_back(domain, held, sid, user)
        verdict = Verdict(sid, session, quality, interactions, novelty.new_chars, novelty.copied_share,
                          time.process_time() - clock, carried_chars=admission.carried_chars)
        self.gate.record(sid, {"quality": asdict(quality), "interactions": interactions, "new_chars": novelty.new_chars,
                               "carried_chars": admission.carried_chars,
                               "copied_share": novelty.copied_share, "version": session.version,
                               "updates": session.updates, "adapter_path": str(session.adapter_path),
                               "adapter_hash": session.adapter_hash.hex(), "median_update_ms": session.median_update_ms})
        return verdict

    def _from_record(self, user: str, fork: int, sid: str, r: dict) -> Verdict:
        session = Session(user, fork, r["version"], r["updates"], Path(r["adapter_path"]),
                          bytes.fromhex(r["adapter_hash"]), r["median_update_ms"])
        return Verdict(sid, session, Quality(**r["quality"]), r["interactions"], r["new_chars"], r["copied_share"],
                       0.0, replayed=True, carried_chars=r.get("carried_chars", 0))


__all__ = ["LOW", "NEUTRAL", "PAID", "OracleConfig", "QualityOracle", "Verdict"]
