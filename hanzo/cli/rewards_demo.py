"""`hanzo demo`: users train their forks with real text, the quality oracle judges each session
on text the users never saw, and the chain pays them.

On an anvil devnet: deploy the suite, release a month of emission into the Training Rewards
pool, mint a fork for each user, and run training sessions. Two users are honest (their own
character's lines, new text each session). The others try what a greedy user would: the
repeater submits a short string repeated, the copier resubmits the honest user's text, the sybil
submits the other honest user's text on a fork of its own, and the spammer trains on noise. The
oracle refuses repetition and copies before training and scores the rest on its own evaluation
text; every session that is judged is paid through the reward hook. The ledger and balances are
printed and checked against the reference model, and each greedy user's earnings against the
honest ones.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Callable

from hanzo.econ.params import DAY, WEI
from hanzo.econ.reference import nft_mint_fee, training_payout

BASE_MODEL_ID = 1
SESSION_CHARS = 3000

# name -> (strategy, domain the session is scored in)
USERS = {
    "juliet": ("honest", "JULIET"),
    "prospero": ("honest", "PROSPERO"),
    "repeater": ("repeats a line", "JULIET"),
    "copier": ("copies juliet", "JULIET"),
    "sybil": ("prospero's text, own fork", "PROSPERO"),
    "spammer": ("noise", "MACBETH"),
}


def session_text(name: str, round_: int) -> str:
    """What each user submits in a round."""
    from hanzo.model.oracle import public_text

    rng = random.Random(f"{name}:{round_}")
    if name in ("juliet", "prospero"):
        text = public_text(USERS[name][1])
        return text[round_ * SESSION_CHARS:(round_ + 1) * SESSION_CHARS]
    if name == "copier":
        return session_text("juliet", round_)
    if name == "sybil":
        return session_text("prospero", round_)
    if name == "repeater":
        line = public_text("JULIET")[round_ * 80:(round_ + 1) * 80]
        return (line + "\n") * (SESSION_CHARS // 81)
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ qxzj") for _ in range(SESSION_CHARS))


def run(network: str = "ethereum:local:foundry", sessions: int = 2, interactions: int = 8,
        say: Callable[[str], None] = print) -> dict:
    import time

    import ape
    from ape.logging import logger

    from hanzo.chain.deploy import Roles, deploy_suite, project
    from hanzo.econ.params import DEFAULT

    from hanzo.model.forks import ForkTrainer
    from hanzo.model.oracle import QualityOracle, shakespeare_sets
    from hanzo.model.quality import Rejected
    from hanzo.chain.rewards import RewardHook
    from hanzo.chain.tx import abi_of
    from hanzo.econ.attest import Oracle

    logger.set_level("ERROR")
    p = DEFAULT
    work = Path(tempfile.mkdtemp(prefix="hanzo-demo-"))
    trainer = ForkTrainer(forks=work / "forks")
    oracle = QualityOracle(trainer, shakespeare_sets(), work / "gate.db", p)
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
                recorded = bytes(s.models.fork(forks[name])[1])
                session_id = hook.open_session(acct.address, forks[name])  # before training: its nonce is its own
                try:
                    v = oracle.judge(acct.address.lower()[2:], forks[name], USERS[name][1], session_text(name, round_),
                                     interactions, epoch=round_, recorded_hash=recorded, seed=round_,
                                     session=session_id)
                except Rejected as refused:
                    ledger.append((name, round_, refused, None))
                    continue
                pay = hook.reward(session_id, v.session.adapter_hash, v.multiplier, v.interactions, v.low_quality)
                if not v.low_quality:
                    trainer.promote(v.session)  # the NFT now records this adapter
                ledger.append((name, round_, v, pay))
        loop_seconds = time.perf_counter() - loop_start
        say("")
        say(f"{'user':<9}{'strategy':<27}{'verdict':<24}{'paid':>5}{'mult':>5}{'to user':>10}{'burned':>9}")
        for name, round_, v, pay in ledger:
            if pay is None:
                say(f"{name:<9}{USERS[name][0]:<27}{'refused: ' + v.reason:<24}{0:>5}{'-':>5}{0:>10.4f}{0:>9.4f}")
                continue
            q = v.quality
            verdict = f"{q.score:+.4f} ± {q.score_se:.4f}"
            mult = "low" if v.low_quality else str(pay.multiplier)
            say(f"{name:<9}{USERS[name][0]:<27}{verdict:<24}{pay.interactions:>5}{mult:>5}"
                f"{pay.user_payout / WEI:>10.4f}{pay.burned / WEI:>9.4f}")
        say("")
        ok = True
        earned = {}
        for name, acct in people.items():
            expected = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).paid
                           for n, _, _, pay in ledger if n == name and pay is not None)
            got = s.token.balanceOf(acct) - start_balance[name]
            earned[name] = got
            ok &= got == expected
            say(f"{name:<9} balance +{got / WEI:.4f} HANZO   reference model +{expected / WEI:.4f}   "
                f"{'matches' if got == expected else 'DIFFERS'}")
        burned = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).burned
                     for *_, pay in ledger if pay is not None)
        got_burn = supply_before - s.token.totalSupply()
        ok &= got_burn == burned
        say(f"burned    {got_burn / WEI:.4f} HANZO   reference model {burned / WEI:.4f}   "
            f"{'matches' if got_burn == burned else 'DIFFERS'}")
        honest = min(earned["juliet"], earned["prospero"])
        greedy = {n: e for n, e in earned.items() if USERS[n][0] != "honest"}
        fair = all(e <= honest for e in greedy.values())
        say(f"greedy users earned at most {max(greedy.values()) / WEI:.4f} HANZO; the least honest user "
            f"{honest / WEI:.4f}: {'no greedy strategy beat honest work' if fair else 'A GREEDY STRATEGY PAID MORE'}")
        ok &= fair
        judged = [v for *_, v, pay in ledger if pay is not None]
        return {"ok": ok, "ops": len(judged), "refused": sum(pay is None for *_, pay in ledger),
                "low_quality": sum(v.low_quality for v in judged), "loop_seconds": loop_seconds, "earned": earned}
