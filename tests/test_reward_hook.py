"""The reward hook on a real chain: payout as the reference model says, and paid once after a crash."""

from __future__ import annotations

import secrets

import pytest

from hanzo_econ.reference import training_payout
from model_hooks.rewards import RewardError, RewardHook


@pytest.fixture
def hook_for(suite, chain, oracle, accounts, tmp_path, released, params):
    released(params.year_seconds)
    abi = [a.model_dump(mode="json", by_alias=True) for a in suite.rewards.contract_type.abi]

    def make() -> RewardHook:
        return RewardHook(chain.provider.web3, str(suite.rewards.address), abi, oracle.private_key,
                          accounts[2].private_key, tmp_path / "journal", deployment_block=suite.block,
                          backoff_s=0.01)

    return make


def test_hook_pays_what_the_reference_model_says(suite, users, fork_of, hook_for, params):
    user, owner = users[0], users[1]
    model = fork_of(owner)
    before = suite.token.balanceOf(user)
    payout = hook_for().reward(user.address, model, secrets.token_bytes(32), 6, 40, False)
    expected = training_payout(params, 6, 40)
    assert (payout.user_payout, payout.owner_payout, payout.burned) == (expected.user, expected.owner, expected.burned)
    assert payout.owner == owner.address and not payout.replayed
    assert suite.token.balanceOf(user) - before == expected.user


def test_crash_between_send_and_receipt_then_rerun_pays_once(suite, users, fork_of, hook_for, params):
    user = users[0]
    model = fork_of(users[1])
    adapter = secrets.token_bytes(32)
    before = suite.token.balanceOf(user)
    with pytest.raises(RewardError, match="simulated crash"):
        hook_for().reward(user.address, model, adapter, 3, 10, False, crash_after_send=True)
    again = hook_for().reward(user.address, model, adapter, 3, 10, False)  # a fresh process, same journal
    third = hook_for().reward(user.address, model, adapter, 3, 10, False)
    assert again.replayed and third.replayed
    assert again.tx_hash == third.tx_hash and again.nonce == third.nonce
    assert suite.token.balanceOf(user) - before == training_payout(params, 3, 10).user


def test_each_new_adapter_gets_the_next_nonce(suite, users, fork_of, hook_for):
    user = users[2]
    model = fork_of(user)
    hook = hook_for()
    nonces = [hook.reward(user.address, model, secrets.token_bytes(32), 1, 1, False).nonce for _ in range(3)]
    assert nonces == [0, 1, 2]


def test_rejected_op_is_named_and_nothing_is_sent(suite, users, hook_for):
    with pytest.raises(RewardError, match="UnknownModel"):
        hook_for().reward(users[0].address, 999, secrets.token_bytes(32), 1, 1, False)


def test_low_quality_update_burns_and_pays_nobody(suite, users, fork_of, hook_for, params):
    model = fork_of(users[1])
    supply = suite.token.totalSupply()
    payout = hook_for().reward(users[0].address, model, secrets.token_bytes(32), 1, 25, True)
    assert (payout.user_payout, payout.owner_payout) == (0, 0)
    assert supply - suite.token.totalSupply() == payout.burned == training_payout(params, 1, 25, True).burned
