"""Gas of every user-facing operation of the contract suite, on Ape's in-process EVM.

Each figure is the receipt's gasUsed of one real transaction against the deployed, wired suite
(the same deploy as `hanzo deploy`). Ratios compare with reference figures measured on this
kind of machine (../shared/toolchain.md): a plain OpenZeppelin ERC20 transfer, an ERC721 mint
and an OpenZeppelin Governor propose/castVote.

Usage: python benchmarks/gas.py   (prints a table; the last line is one JSON object)
"""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hanzo.chain.toolchain import configure  # noqa: E402

configure()

import ape  # noqa: E402
from ape.logging import logger  # noqa: E402

from hanzo.econ.attest import TrainingOp, sign_training_op  # noqa: E402
from hanzo.chain.deploy import Roles, deploy_suite, project  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402

# ../shared/toolchain.md, "Reference figures measured here"
REFERENCE = {
    "erc20_transfer_new": 51_613,
    "erc20_transfer_existing": 34_513,
    "erc721_mint_first": 95_849,
    "erc721_mint_second": 61_649,
    "oz_governor_propose": 68_491,
    "oz_governor_cast_vote": 85_360,
}
BATCH = 100
TARGETS = {"reward_existing_gas": 90_000, "reward_batch_per_op_gas": 35_000}


def main() -> dict:
    logger.set_level("ERROR")
    p = DEFAULT
    with ape.networks.parse_network_choice("ethereum:local:test"):
        from ape import accounts, chain

        a = accounts.test_accounts
        deployer, oracle, whale = a[0], a[1], a[4]
        s = deploy_suite(p, Roles(deployer, oracle, a[2].address, a[3].address, whale.address), proj=project())
        token, models, rewards, staked, governor = s.token, s.models, s.rewards, s.staked, s.governor
        gas: dict[str, int] = {}

        chain.pending_timestamp = s.emission.start() + p.year_seconds
        gas["emission_release"] = s.emission.release(sender=deployer).gas_used
        chain.pending_timestamp += 86_400
        gas["emission_release_next_day"] = s.emission.release(sender=deployer).gas_used

        users = [a[i] for i in range(5, 10)]
        for u in users:
            token.transfer(u, 1_000_000 * WEI, sender=whale)
        gas["hanzo_transfer_existing"] = token.transfer(users[1], WEI, sender=users[0]).gas_used

        models.registerBaseModel(1, 50, sender=oracle)
        for u in users:
            token.approve(models.address, 2**256 - 1, sender=u)
        gas["nft_mint_first"] = models.mint(1, secrets.token_bytes(32), models.mintFee(1), sender=users[1]).gas_used
        gas["nft_mint"] = models.mint(1, secrets.token_bytes(32), models.mintFee(1), sender=users[2]).gas_used
        model = 1  # owned by users[1]
        gas["nft_stake_first"] = models.stake(model, 1000 * WEI, sender=users[0]).gas_used
        gas["nft_stake"] = models.stake(model, 1000 * WEI, sender=users[0]).gas_used
        gas["nft_unstake"] = models.unstake(model, 500 * WEI, sender=users[0]).gas_used
        gas["nft_update_adapter"] = models.updateAdapter(model, secrets.token_bytes(32), sender=users[1]).gas_used

        nonce = iter(range(10**6))

        def op_for(user, model_id, multiplier=5, interactions=100, low=False):
            op = TrainingOp(str(user.address), model_id, secrets.token_bytes(32), multiplier, interactions, low,
                            next(nonce), chain.pending_timestamp + 10**6)
            return op, sign_training_op(oracle.private_key, op, chain.chain_id, rewards.address)

        fresh = a.generate_test_account()
        op, sig = op_for(fresh, model)
        gas["reward_new_user_gas"] = rewards.rewardTraining(op.as_tuple(), sig, sender=deployer).gas_used
        op, sig = op_for(users[0], model)
        gas["reward_first_op_of_holder_gas"] = rewards.rewardTraining(op.as_tuple(), sig, sender=deployer).gas_used
        op, sig = op_for(users[0], model)
        gas["reward_existing_gas"] = rewards.rewardTraining(op.as_tuple(), sig, sender=deployer).gas_used
        # the owner training its own fork: the fork also records the new adapter hash
        op, sig = op_for(users[1], model)
        # the owner's first op, so that the measured one is a repeat (as the nonce bitmap once needed;
        # with the (fork, adapter) key every op writes a fresh slot, first or not)
        rewards.rewardTraining(op.as_tuple(), sig, sender=deployer)
        op, sig = op_for(users[1], model)
        gas["reward_own_fork_gas"] = rewards.rewardTraining(op.as_tuple(), sig, sender=deployer).gas_used
        op, sig = op_for(users[0], model, low=True)
        gas["reward_low_quality_gas"] = rewards.rewardTraining(op.as_tuple(), sig, sender=deployer).gas_used

        # 10 interactions an op: one fork's day holds at most max_interactions_per_fork_day (gas does not
        # depend on the count)
        batch = [op_for(users[i % 4], model, interactions=10) for i in range(BATCH)]
        receipt = rewards.rewardTrainingBatch([o.as_tuple() for o, _ in batch], [g for _, g in batch], sender=deployer)
        gas["reward_batch_total_gas"] = receipt.gas_used
        gas["reward_batch_per_op_gas"] = receipt.gas_used // BATCH

        token.approve(staked.address, 2**256 - 1, sender=whale)
        gas["stake_first"] = staked.stake(200_000 * WEI, sender=whale).gas_used
        gas["stake"] = staked.stake(1_000 * WEI, sender=whale).gas_used
        gas["request_unstake"] = staked.requestUnstake(100 * WEI, sender=whale).gas_used
        chain.pending_timestamp += p.unstake_cooldown
        gas["withdraw"] = staked.withdraw(sender=whale).gas_used
        chain.mine()
        target = [str(token.address)]
        call = [token.transfer.encode_input(whale.address, 1)]
        receipt = governor.propose(target, [0], call, "bench: transfer 1 wei", sender=whale)
        gas["propose"] = receipt.gas_used
        pid = receipt.decode_logs(governor.ProposalCreated)[0].proposalId
        chain.pending_timestamp += p.voting_delay + 1
        chain.mine()
        gas["cast_vote"] = governor.castVote(pid, 1, sender=whale).gas_used

        # HanzoTreasury (issue 16, finding 7) on a copy governed by an account (the deployed one
        # answers only the timelock): a release to a new holder, a raise scheduled, a lowering
        t = project().HanzoTreasury.deploy(token.address, deployer.address, p.treasury_release_limit,
                                           p.treasury_max_release_limit, p.treasury_release_period,
                                           p.treasury_limit_raise_delay, sender=deployer)
        token.transfer(t.address, 10**6 * WEI, sender=whale)
        chain.pending_timestamp += 86_400
        gas["treasury_release"] = t.release(a[11].address, 1_000 * WEI, sender=deployer).gas_used
        gas["treasury_set_limit_raise"] = t.setLimit(p.treasury_max_release_limit, sender=deployer).gas_used
        gas["treasury_set_limit_lower"] = t.setLimit(p.treasury_release_limit // 2, sender=deployer).gas_used

        # HanzoPool (issue 18): swaps by a holder of both sides, against the seeded pool
        pool, usd, trader = s.pool, s.usd, users[0]
        usd.transfer(trader, 1_000_000 * WEI, sender=whale)
        usd.approve(pool.address, 2**256 - 1, sender=trader)
        token.approve(pool.address, 2**256 - 1, sender=trader)
        deadline = chain.pending_timestamp + 10**6
        gas["pool_buy_exact_in"] = pool.swapExactIn(usd.address, 100 * WEI, 0, trader, deadline,
                                                    sender=trader).gas_used
        gas["pool_sell_exact_in"] = pool.swapExactIn(token.address, 1_000 * WEI, 0, trader, deadline,
                                                     sender=trader).gas_used
        gas["pool_buy_exact_out"] = pool.swapExactOut(token.address, 1_000 * WEI, 2**256 - 1, trader, deadline,
                                                      sender=trader).gas_used

    ratios = {
        "reward_existing_vs_erc20_transfer": gas["reward_existing_gas"] / REFERENCE["erc20_transfer_existing"],
        "reward_batch_per_op_vs_erc20_transfer": gas["reward_batch_per_op_gas"] / REFERENCE["erc20_transfer_existing"],
        "nft_mint_vs_erc721_mint": gas["nft_mint"] / REFERENCE["erc721_mint_second"],
        "propose_vs_oz_governor": gas["propose"] / REFERENCE["oz_governor_propose"],
        "cast_vote_vs_oz_governor": gas["cast_vote"] / REFERENCE["oz_governor_cast_vote"],
        "stake_vs_erc20_transfer": gas["stake"] / REFERENCE["erc20_transfer_existing"],
    }
    print(f"{'operation':<34}{'gas':>12}")
    for name, value in gas.items():
        mark = ""
        if name in TARGETS:
            mark = f"   target <= {TARGETS[name]:,}: {'met' if value <= TARGETS[name] else 'MISSED'}"
        print(f"{name:<34}{value:>12,}{mark}")
    print()
    print(f"{'ratio against reference (toolchain.md)':<44}{'x':>8}")
    for name, value in ratios.items():
        print(f"{name:<44}{value:>8.2f}")
    figures = {**gas, **{f"ratio_{k}": round(v, 3) for k, v in ratios.items()},
               "targets_met": all(gas[k] <= v for k, v in TARGETS.items())}
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
