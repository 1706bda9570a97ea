"""`hanzo demo`: users train their forks with real text, the quality oracle judges each session
on private text no user has seen, and the chain pays them.

On an anvil devnet: deploy the suite, release a month of emission into the Training Rewards
pool, mint a fork for each user, and run training sessions. Two users are honest: they write in
their domain (their text is the local stand-in for unpublished writing, hanzo.model.corpus). The
others try what a greedy user would: the rewriter disguises public plays, the sybil rewords an
honest user's accepted text on a fork of its own, the resetter resets its fork's adapter on chain
and submits a paid session again, and the spammer trains on word salad. The oracle pays only new text
that improves the fork beyond noise (paid), leaves what it cannot tell from noise unpaid and
unburned (neutral), and burns the reward of what makes the fork worse (low quality). The ledger
and balances are printed and checked against the reference model, and each greedy user's earnings
against the honest ones.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from pathlib import Path
from typing import Callable

from hanzo.econ.params import DAY, WEI
from hanzo.econ.reference import nft_mint_fee, training_payout

BASE_MODEL_ID = 1
SESSION_CHARS = 2000

# name -> (strategy, domain the session is scored in)
USERS = {
    "ophelia": ("honest", "hamlet"),
    "miranda": ("honest", "the-tempest"),
    "rewriter": ("rewrites public plays", "hamlet"),
    "sybil": ("rewords ophelia, own fork", "hamlet"),
    "resetter": ("resets its NFT, resubmits", "the-tempest"),
    "spammer": ("word salad", "hamlet"),
    "horatio": ("honest: long, then a line", "hamlet"),
}


def session_text(name: str, round_: int) -> str:
    """What each user submits in a round."""
    from hanzo.model.corpus import LOCAL
    from hanzo.model.rewrites import REWRITES, word_salad

    rng = random.Random(f"{name}:{round_}")
    if name in ("ophelia", "miranda"):
        text = LOCAL.users_text(USERS[name][1])
        return text[round_ * SESSION_CHARS:(round_ + 1) * SESSION_CHARS]
    if name == "rewriter":
        play = LOCAL.public_texts()["macbeth"]
        start = 20_000 + round_ * SESSION_CHARS
        rewrite = ("lines shuffled", "an edit every ~40 chars")[round_ % 2]
        return REWRITES[rewrite](play[start:start + SESSION_CHARS], rng)
    if name == "sybil":
        return REWRITES["punctuation and case"](session_text("ophelia", round_), rng)
    if name == "horatio":  # a long session, then a few lines too little to show beyond noise: neutral
        text = LOCAL.users_text("hamlet")[30_000:]
        return text[:6000] if round_ == 0 else text[6000 + (round_ - 1) * 400:][:400]
    if name == "resetter":  # its own writing once, then the same session again after a reset
        return LOCAL.users_text("the-tempest")[-SESSION_CHARS:]
    # random letters are refused as misspelled before training; random real words pass every gate
    # and make the fork worse: low quality, burned
    return word_salad(SESSION_CHARS, rng)


def run(network: str = "ethereum:local:foundry", sessions: int = 2,
        say: Callable[[str], None] = print, work: Path | None = None) -> dict:
    """`work`: where the oracle and the forks keep their files (a new temporary folder by default). A
    folder whose oracle/ already holds the gate's public-corpus arrays (named by the corpus's digest,
    as NoveltyIndex keeps them) skips building them again, 12-20 s; nothing else may be there yet."""
    import time

    import ape
    from ape.logging import logger

    from hanzo.chain.deploy import Roles, deploy_suite, project
    from hanzo.econ.params import DEFAULT

    from hanzo.model.forks import ForkTrainer
    from hanzo.model.oracle import OracleConfig, QualityOracle
    from hanzo.model.quality import Rejected
    from hanzo.chain.rewards import RewardHook
    from hanzo.chain.tx import abi_of
    from hanzo.econ.attest import Oracle

    logger.set_level("ERROR")
    p = DEFAULT
    work = Path(work) if work is not None else Path(tempfile.mkdtemp(prefix="hanzo-demo-"))
    # the demo's oracle has a fixed secret, so its exams and its tour are the same every run (the
    # README shows one); an operator's secret is random (hanzo.model.private_eval)
    (work / "oracle" / "private").mkdir(parents=True, mode=0o700)
    (work / "oracle" / "private" / "secret").write_bytes(hashlib.sha256(b"hanzo demo oracle").digest())
    trainer = ForkTrainer(forks=work / "forks")
    oracle = QualityOracle(trainer, OracleConfig(work / "oracle"), p)
    with ape.networks.parse_network_choice(network) as provider:
        from ape import accounts, chain

        a = accounts.test_accounts
        deployer, oracle_acct, whale = a[0], a[1], a[4]
        people = {name: a[5 + i] for i, name in enumerate(USERS)}
        say(f"deploying the suite on {network} ...")
        s = deploy_suite(p, Roles(deployer, oracle_acct, a[2].address, a[3].address, whale.address), proj=project())
        chain.pending_timestamp = s.emission.start() + 30 * DAY
        s.emission.release(sender=deployer)
        say(f"released {s.emission.released() / WEI:,.0f} HANZO of emission; training pool "
            f"{s.token.balanceOf(s.rewards) / WEI:,.0f} HANZO")
        s.models.registerBaseModel(BASE_MODEL_ID, 50, sender=oracle_acct)
        fee, _ = nft_mint_fee(p, 50)
        forks = {}
        for name, acct in people.items():
            s.token.transfer(acct, fee, sender=whale)
            s.token.approve(s.models, fee, sender=acct)
            s.models.mint(BASE_MODEL_ID, bytes(32), s.models.mintFee(BASE_MODEL_ID), sender=acct)  # no adapter yet
            forks[name] = s.models.totalForks()
        say("minted forks: " + ", ".join(f"{n} #{t}" for n, t in forks.items()))
        start_balance = {n: s.token.balanceOf(acct) for n, acct in people.items()}
        supply_before = s.token.totalSupply()

        abi = abi_of(s.rewards)
        hook = RewardHook(provider.web3, str(s.rewards.address), abi,
                          Oracle(oracle_acct.private_key, chain.chain_id, s.rewards.address), a[2].private_key,
                          work / "sessions", deployment_block=s.block)
        ledger = []  # (name, round, verdict or Rejected, payout or None)
        loop_start = time.perf_counter()
        for round_ in range(sessions):
            for name, acct in people.items():
                if name == "resetter" and round_ > 0:
                    s.models.updateAdapter(forks[name], bytes(32), sender=acct)  # the NFT forgets its adapter
                head = hook.fork_head(forks[name])  # the chain's record, not the NFT's
                session_id = hook.open_session(acct.address, forks[name])  # before training: its nonce is its own
                try:
                    v = oracle.judge(acct.address.lower()[2:], forks[name], USERS[name][1],
                                     session_text(name, round_), fork_head=head)
                except Rejected as refused:
                    ledger.append((name, round_, refused, None))
                    continue
                pay = None
                if v.needs_op:  # a neutral session goes nowhere: no pay, no burn
                    pay = hook.reward(session_id, v.session.adapter_hash, v.multiplier, v.interactions, v.low_quality)
                    if v.outcome == "paid" and not pay.replayed:
                        trainer.promote(v.session)  # the chain paid it: the fork's history now ends here
                ledger.append((name, round_, v, pay))
        loop_seconds = time.perf_counter() - loop_start
        say("")
        say(f"{'user':<9}{'strategy':<27}{'verdict':<34}{'new':>6}{'carry':>6}{'paid':>5}{'mult':>5}{'to user':>9}"
            f"{'burned':>8}")
        for name, round_, v, pay in ledger:
            if isinstance(v, Rejected):
                say(f"{name:<9}{USERS[name][0]:<27}{'refused: ' + v.reason:<34}{0:>6}{0:>6}{0:>5}{'-':>5}{0:>9.4f}"
                    f"{0:>8.4f}")
                continue
            q = v.quality
            verdict = f"{v.outcome} {q.score:+.4f} ± {q.score_se:.4f}"
            if pay is not None and pay.replayed:
                verdict = "already paid: nothing more"
            mult = {"paid": str(q.multiplier), "low quality": "low"}.get(v.outcome, "-")
            to_user = 0 if pay is None or pay.replayed else pay.user_payout
            burned = 0 if pay is None or pay.replayed else pay.burned
            # carry: new text of the user's earlier neutral sessions on the fork, trained on (and paid) here
            say(f"{name:<9}{USERS[name][0]:<27}{verdict:<34}{v.new_chars:>6}{v.carried_chars:>6}"
                f"{v.interactions:>5}{mult:>5}"
                f"{to_user / WEI:>9.4f}{burned / WEI:>8.4f}")
        say("")
        ok = True
        earned = {}
        for name, acct in people.items():
            expected = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).paid
                           for n, _, _, pay in ledger if n == name and pay is not None and not pay.replayed)
            got = s.token.balanceOf(acct) - start_balance[name]
            earned[name] = got
            ok &= got == expected
            say(f"{name:<9} balance +{got / WEI:.4f} HANZO   reference model +{expected / WEI:.4f}   "
                f"{'matches' if got == expected else 'DIFFERS'}")
        burned = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).burned
                     for *_, pay in ledger if pay is not None and not pay.replayed)
        got_burn = supply_before - s.token.totalSupply()
        ok &= got_burn == burned
        say(f"burned    {got_burn / WEI:.4f} HANZO   reference model {burned / WEI:.4f}   "
            f"{'matches' if got_burn == burned else 'DIFFERS'}")
        honest = min(earned["ophelia"], earned["miranda"])
        # what each greedy user took through its strategy: the resetter's first session is its own
        # honest writing, and only what the reset brings after it counts as the strategy's
        greedy = {n: e - sum(pay.user_payout + pay.owner_payout for n2, r, _, pay in ledger if n2 == n and r == 0 and n == "resetter"
                             and pay is not None and not pay.replayed)
                  for n, e in earned.items() if not USERS[n][0].startswith("honest")}
        fair = all(e <= honest for e in greedy.values())
        say(f"greedy users earned at most {max(greedy.values()) / WEI:.4f} HANZO; the least honest user "
            f"{honest / WEI:.4f}: {'no greedy strategy beat honest work' if fair else 'A GREEDY STRATEGY PAID MORE'}")
        judged = [v for *_, v, _ in ledger if not isinstance(v, Rejected)]
        return {"ok": ok, "fair": fair, "ops": sum(pay is not None for *_, pay in ledger),
                "refused": sum(isinstance(v, Rejected) for *_, v, _ in ledger),
                "low_quality": sum(v.low_quality for v in judged), "neutral": sum(v.outcome == "neutral" for v in judged),
                "loop_seconds": loop_seconds, "earned": earned}
