"""`hanzo demo`: users train their forks with real text, and the chain pays them.

On an anvil devnet: deploy the suite, release a month of emission into the Training Rewards
pool, mint a fork for each of three users, run training sessions on their own text (one user's
text is deliberately useless: noise that does not help on their held-out text, so it scores
low-quality and its reward burns), pay each session through the reward hook, and print the
on-chain ledger and the balances, checked against the reference model.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Callable

from hanzo_econ.params import DAY, WEI
from hanzo_econ.reference import nft_mint_fee, training_payout

BASE_MODEL_ID = 1

USERS = (
    ("juliet", ("romeo-and-juliet", "JULIET")),
    ("prospero", ("the-tempest", "PROSPERO")),
    ("spammer", None),
)


def useless_text(n: int = 5000, seed: int = 7) -> str:
    """A spammer's session: the part the update trains on is random letters, the held-out part is
    the user's real voice (Macbeth's lines). Learning noise cannot help on real text."""
    from .hllm.data import speeches

    rng = random.Random(seed)
    cut = int(n * 0.8)
    noise = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ qxzj") for _ in range(cut))
    return noise + speeches("macbeth", "MACBETH")[: n - cut]


def run(network: str = "ethereum:local:foundry", sessions: int = 2, interactions: int = 8,
        say: Callable[[str], None] = print) -> dict:
    import ape
    from ape.logging import logger

    from hanzo_econ.chain import Roles, deploy_suite, project
    from hanzo_econ.params import DEFAULT

    from .forks import ForkTrainer
    from .hllm.data import speeches
    from .rewards import RewardHook

    logger.set_level("ERROR")
    p = DEFAULT
    trainer = ForkTrainer(forks=Path(tempfile.mkdtemp(prefix="hanzo-forks-")))
    texts = {name: (speeches(*src) if src else useless_text()) for name, src in USERS}
    with ape.networks.parse_network_choice(network) as provider:
        from ape import accounts, chain

        a = accounts.test_accounts
        deployer, oracle, whale = a[0], a[1], a[4]
        people = {name: a[5 + i] for i, (name, _) in enumerate(USERS)}
        say(f"deploying the suite on {network} ...")
        s = deploy_suite(p, Roles(deployer, oracle, a[2].address, a[3].address, whale.address), proj=project())
        chain.pending_timestamp = s.emission.start() + 30 * DAY
        s.emission.release(sender=deployer)
        say(f"released {s.emission.released() / WEI:,.0f} HANZO of emission; training pool "
            f"{s.token.balanceOf(s.rewards) / WEI:,.0f} HANZO")
        s.models.registerBaseModel(BASE_MODEL_ID, 50, sender=oracle)
        fee, _ = nft_mint_fee(p, 50)
        forks = {}
        for name, acct in people.items():
            s.token.transfer(acct, fee, sender=whale)
            s.token.approve(s.models, fee, sender=acct)
            s.models.mint(BASE_MODEL_ID, b"\0" * 31 + b"\1", s.models.mintFee(BASE_MODEL_ID), sender=acct)
            forks[name] = s.models.totalForks()
        say("minted forks: " + ", ".join(f"{n} #{t}" for n, t in forks.items()))
        start_balance = {n: s.token.balanceOf(acct) for n, acct in people.items()}
        supply_before = s.token.totalSupply()

        abi = [x.model_dump(mode="json", by_alias=True) for x in s.rewards.contract_type.abi]
        hook = RewardHook(provider.web3, str(s.rewards.address), abi, oracle.private_key, a[2].private_key,
                          Path(tempfile.mkdtemp(prefix="hanzo-journal-")), deployment_block=s.block)
        ledger = []
        import time

        loop_start = time.perf_counter()
        for round_ in range(sessions):
            for name, acct in people.items():
                session = trainer.session(name, texts[name], interactions, seed=round_)
                q = session.quality
                pay = hook.reward(acct.address, forks[name], session.adapter_hash, q.multiplier, interactions,
                                  q.low_quality)
                ledger.append((name, q, pay))
        loop_seconds = time.perf_counter() - loop_start
        say("")
        say(f"{'user':<9}{'score':>9}{'mult':>6}{'to user':>10}{'to owner':>10}{'burned':>9}  tx")
        for name, q, pay in ledger:
            mult = "low" if q.low_quality else str(pay.multiplier)
            say(f"{name:<9}{q.score:>+9.4f}{mult:>6}{pay.user_payout / WEI:>10.4f}{pay.owner_payout / WEI:>10.4f}"
                f"{pay.burned / WEI:>9.4f}  {pay.tx_hash[:18]}...")
        say("")
        ok = True
        for name, acct in people.items():
            expected = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).paid
                           for n, _, pay in ledger if n == name)
            got = s.token.balanceOf(acct) - start_balance[name]
            ok &= got == expected
            say(f"{name:<9} balance +{got / WEI:.4f} HANZO   reference model +{expected / WEI:.4f}   "
                f"{'matches' if got == expected else 'DIFFERS'}")
        burned = sum(training_payout(p, pay.multiplier, pay.interactions, pay.low_quality).burned for _, _, pay in ledger)
        got_burn = supply_before - s.token.totalSupply()
        ok &= got_burn == burned
        say(f"burned    {got_burn / WEI:.4f} HANZO   reference model {burned / WEI:.4f}   "
            f"{'matches' if got_burn == burned else 'DIFFERS'}")
        return {"ok": ok, "ops": len(ledger), "low_quality": sum(q.low_quality for _, q, _ in ledger),
                "loop_seconds": loop_seconds}
