"""ModelNFT: base models, the mint fee and its burn, adapter updates, stake for boost."""

from __future__ import annotations

import secrets

import ape
import pytest

from hanzo.econ.params import WEI
from hanzo.econ.reference import boost_bps, nft_mint_fee


@pytest.mark.parametrize("performance", [0, 50, 250, 1000])
def test_mint_fee_burns_half_and_pays_treasury(suite, users, oracle, fund, params, performance):
    models, token = suite.models, suite.token
    models.registerBaseModel(7, performance, sender=oracle)
    fee, burned = nft_mint_fee(params, performance)
    assert models.mintFee(7) == fee == 10 * WEI * (100 + performance) // 100
    user = users[0]
    fund(user, fee / WEI)
    token.approve(models, fee, sender=user)
    treasury_before, supply_before, user_before = token.balanceOf(suite.treasury), token.totalSupply(), token.balanceOf(user)
    adapter = secrets.token_bytes(32)
    receipt = models.mint(7, adapter, fee, sender=user)
    token_id = models.totalForks()
    assert models.ownerOf(token_id) == user.address
    assert models.fork(token_id) == (7, adapter)
    assert supply_before - token.totalSupply() == burned
    assert token.balanceOf(suite.treasury) - treasury_before == fee - burned
    assert user_before - token.balanceOf(user) == fee
    [event] = receipt.decode_logs(models.ForkMinted)
    assert (event.fee, event.burned, event.baseModelId) == (fee, burned, 7)


def test_mint_without_allowance_reverts_and_mints_nothing(suite, users, oracle, fund):
    models = suite.models
    models.registerBaseModel(1, 0, sender=oracle)
    fund(users[0], 100)
    with ape.reverts():
        models.mint(1, b"\x01" * 32, 2**256 - 1, sender=users[0])
    assert models.totalForks() == 0


def test_mint_of_unknown_base_model_reverts(suite, users):
    with ape.reverts(suite.models.UnknownBaseModel, baseModelId=99):
        suite.models.mint(99, b"\x01" * 32, 2**256 - 1, sender=users[0])


def test_register_base_model_needs_registrar_and_bounded_performance(suite, users, oracle, params):
    models = suite.models
    with ape.reverts(models.AccessControlUnauthorizedAccount):
        models.registerBaseModel(1, 0, sender=users[0])
    with ape.reverts(models.PerformanceOutOfRange):
        models.registerBaseModel(1, params.nft_max_performance + 1, sender=oracle)


def test_only_fork_owner_updates_adapter(suite, users, fork_of):
    models = suite.models
    token_id = fork_of(users[0])
    new = secrets.token_bytes(32)
    with ape.reverts(models.NotForkOwner, tokenId=token_id, caller=users[1].address):
        models.updateAdapter(token_id, new, sender=users[1])
    receipt = models.updateAdapter(token_id, new, sender=users[0])
    assert models.fork(token_id)[1] == new
    assert receipt.decode_logs(models.AdapterUpdated)[0].adapterHash == new
    with ape.reverts(models.UnknownModel):
        models.updateAdapter(999, new, sender=users[0])


def test_only_rewards_contract_records_training(suite, users, fork_of):
    token_id = fork_of(users[0])
    with ape.reverts(suite.models.NotRewards, caller=users[0].address):
        suite.models.recordTraining(token_id, b"\x02" * 32, users[0], sender=users[0])
    assert suite.models.rewards() == suite.rewards.address


def test_stake_and_unstake_move_tokens_and_boost_as_reference(suite, users, fork_of, fund, params):
    models, token = suite.models, suite.token
    token_id = fork_of(users[0])
    staker = users[1]
    fund(staker, 30_001)
    token.approve(models, 30_001 * WEI, sender=staker)
    assert models.boostBps(token_id) == 10_000
    for amount in (1, 2_500 * WEI, 7_500 * WEI, 20_000 * WEI):
        models.stake(token_id, amount, sender=staker)
        total = models.totalStake(token_id)
        assert models.boostBps(token_id) == boost_bps(params, total)
    assert models.boostBps(token_id) == 20_000  # capped at 2x
    before = token.balanceOf(staker)
    models.unstake(token_id, 10_000 * WEI, sender=staker)
    assert token.balanceOf(staker) - before == 10_000 * WEI
    assert models.stakeOf(token_id, staker) == models.totalStake(token_id) == 20_000 * WEI + 1
    assert token.balanceOf(models) == models.totalStake(token_id)
    with ape.reverts(models.InsufficientStake):
        models.unstake(token_id, 30_000 * WEI, sender=staker)
    with ape.reverts(models.ZeroValue):
        models.stake(token_id, 0, sender=staker)
    with ape.reverts(models.UnknownModel):
        models.stake(999, 1, sender=staker)


def test_boost_is_concave_in_stake(params):
    stakes = [i * 500 * WEI for i in range(0, 21)]
    gains = [boost_bps(params, b) - boost_bps(params, a) for a, b in zip(stakes, stakes[1:])]
    assert all(later <= earlier + 1 for earlier, later in zip(gains, gains[1:]))  # +1: integer sqrt
    assert gains[0] > gains[-1]


def test_the_treasury_is_fixed_at_construction(suite):
    """No setter: a captured governance cannot redirect the mint fees (issue 16, finding 7)."""
    assert suite.models.treasury() == suite.treasury.address
    assert "setTreasury" not in {m.name for m in suite.models.contract_type.mutable_methods}


def test_mint_refuses_a_fee_above_the_callers_limit(suite, users, oracle, fund):
    """Finding 5: the registrar can raise a base model's performance, and so its fee, between a
    user's quote and the mint; maxFee bounds what the mint may take."""
    models = suite.models
    models.registerBaseModel(3, 0, sender=oracle)
    quoted = models.mintFee(3)
    fund(users[0], 100)
    suite.token.approve(models, 2**256 - 1, sender=users[0])
    models.registerBaseModel(3, 500, sender=oracle)  # the fee rises under the user
    with ape.reverts(models.FeeAboveMax, fee=models.mintFee(3), maxFee=quoted):
        models.mint(3, b"\x01" * 32, quoted, sender=users[0])
    assert models.totalForks() == 0
    models.mint(3, b"\x01" * 32, models.mintFee(3), sender=users[0])


def test_base_model_ids_and_performance_that_do_not_fit_their_storage_are_refused(project, accounts, suite):
    """Finding 5: ids were narrowed to 64 bits and performance to 32 unchecked, so 2**64 + 1
    registered as model 1."""
    models = suite.models
    oracle = suite.roles.oracle
    with ape.reverts(models.SafeCastOverflowedUintDowncast, bits=64, value=2**64 + 1):
        models.registerBaseModel(2**64 + 1, 0, sender=oracle)
    # a ModelNFT whose maximum performance exceeds 32 bits still stores none that would wrap
    d = accounts[0]
    wide = project.ModelNFT.deploy(suite.token, d, (d, 10, 0, 2**40, 1, 0), sender=d)
    wide.grantRole(wide.REGISTRAR_ROLE(), d, sender=d)
    with ape.reverts(wide.SafeCastOverflowedUintDowncast, bits=32, value=2**32):
        wide.registerBaseModel(1, 2**32, sender=d)
    wide.registerBaseModel(1, 2**32 - 1, sender=d)
    assert wide.baseModels(1).performance == 2**32 - 1


def test_the_only_recorder_is_the_rewards_contract_that_created_the_forks(project, accounts, suite):
    """No address is predicted at deployment: TrainingRewards creates its ModelNFT, whose recorder
    is its creator; a ModelNFT deployed by anyone else records only for that account."""
    assert suite.models.rewards() == suite.rewards.address
    assert suite.rewards.models() == suite.models.address
    d, stranger = accounts[0], accounts[7]
    other = project.ModelNFT.deploy(suite.token, d, (d, 10, 0, 100, 1, 0), sender=stranger)
    assert other.rewards() == stranger.address
    with ape.reverts(other.NotRewards, caller=d.address):
        other.recordTraining(1, b"\x01" * 32, d, sender=d)
