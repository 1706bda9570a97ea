"""TrainingRewards: payouts, burns, the ledger event, replay protection and every revert."""

from __future__ import annotations

import secrets

import ape
import pytest
from eth_utils import keccak

from hanzo.econ.attest import op_digest
from hanzo.econ.params import WEI
from hanzo.econ.reference import training_payout


@pytest.fixture(scope="module")
def funded_pool(released, params):
    released(params.year_seconds)  # one year of emission: 60M HANZO in the training pool


def test_reward_pays_user_and_owner_as_reference_model(suite, users, fork_of, sign_op, funded_pool, params):
    user, owner = users[0], users[1]
    model = fork_of(owner)
    token = suite.token
    before = {a: token.balanceOf(a) for a in (user, owner)}
    supply_before = token.totalSupply()
    op, sig = sign_op(user, model, multiplier=7, interactions=120)
    receipt = suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[2])
    expected = training_payout(params, 7, 120)
    assert token.balanceOf(user) - before[user] == expected.user
    assert token.balanceOf(owner) - before[owner] == expected.owner
    assert supply_before - token.totalSupply() == expected.burned
    [event] = receipt.decode_logs(suite.rewards.TrainingRecorded)
    assert (event.user, event.owner, event.modelId) == (user.address, owner.address, model)
    assert (event.userPayout, event.ownerPayout, event.burned) == (expected.user, expected.owner, expected.burned)
    assert event.multiplier == 7 and event.interactions == 120 and not event.lowQuality
    # the user trained the owner's fork: paid, but the owner's adapter is not replaced
    assert suite.models.fork(model)[1] != op.adapterHash


def test_training_another_users_fork_does_not_overwrite_its_adapter(suite, users, fork_of, sign_op, funded_pool):
    """Issue 9: an op on another user's fork was paid and overwrote that NFT's adapter hash."""
    owner, other = users[1], users[0]
    model = fork_of(owner)
    mine, sig = sign_op(owner, model)
    suite.rewards.rewardTraining(mine.as_tuple(), sig, sender=owner)
    assert suite.models.fork(model)[1] == mine.adapterHash
    theirs, sig = sign_op(other, model)
    suite.rewards.rewardTraining(theirs.as_tuple(), sig, sender=other)
    assert suite.models.fork(model)[1] == mine.adapterHash


def test_the_same_adapter_is_not_paid_twice_under_a_new_nonce(suite, users, fork_of, sign_op, funded_pool, params):
    """A lost journal once meant re-signing a paid adapter with a fresh nonce: the fork's
    (fork, adapter) key is consumed, and the second op is refused."""
    owner = users[1]
    model = fork_of(owner)
    adapter = b"\x07" * 32
    first, sig = sign_op(owner, model, adapter=adapter, nonce=100)
    suite.rewards.rewardTraining(first.as_tuple(), sig, sender=owner)
    assert suite.rewards.adapterPaid(model, adapter)
    balance = suite.token.balanceOf(owner)
    again, sig = sign_op(owner, model, adapter=adapter, nonce=101)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(again.as_tuple(), sig, sender=owner)
    assert suite.token.balanceOf(owner) == balance


def test_an_adapter_is_paid_once_on_a_fork_the_user_does_not_own_under_any_nonce(suite, users, fork_of, sign_op,
                                                                                  funded_pool, params):
    """Issue 15: the fork recorded (and refused) a repeated adapter only for its owner, so a user
    training someone else's fork was paid for one adapter once per nonce (0.567 HANZO for two
    sessions' worth). The key is the fork and the adapter, whoever trains it."""
    user, owner = users[0], users[1]
    model = fork_of(owner)
    adapter = b"\x15" * 32
    first, sig = sign_op(user, model, adapter=adapter, nonce=1, interactions=30)
    suite.rewards.rewardTraining(first.as_tuple(), sig, sender=user)
    before = (suite.token.balanceOf(user), suite.token.balanceOf(owner))
    again, sig = sign_op(user, model, adapter=adapter, nonce=2, interactions=30)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(again.as_tuple(), sig, sender=user)
    # nor for another user, nor for the owner itself
    for other in (users[2], owner):
        theirs, sig = sign_op(other, model, adapter=adapter, nonce=3)
        with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
            suite.rewards.rewardTraining(theirs.as_tuple(), sig, sender=other)
    assert (suite.token.balanceOf(user), suite.token.balanceOf(owner)) == before


def test_a_low_quality_op_consumes_its_adapter(suite, users, fork_of, sign_op, funded_pool):
    """Issue 15: a low-quality op consumed only its nonce, so the same adapter signed again as
    paid work (another nonce) was paid after its reward had been burned."""
    user = users[0]
    model = fork_of(users[1])
    adapter = b"\x16" * 32
    low, sig = sign_op(user, model, adapter=adapter, nonce=10, low_quality=True, interactions=20)
    suite.rewards.rewardTraining(low.as_tuple(), sig, sender=user)
    balance = suite.token.balanceOf(user)
    paid, sig = sign_op(user, model, adapter=adapter, nonce=11, multiplier=10, interactions=20)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(paid.as_tuple(), sig, sender=user)
    assert suite.token.balanceOf(user) == balance and suite.rewards.adapterPaid(model, adapter)


def test_resetting_the_forks_adapter_never_makes_a_paid_adapter_new(suite, users, fork_of, sign_op, funded_pool):
    """Issue 15, replay by reset: the owner set its fork's adapter to zero (updateAdapter) and the
    adapter it had been paid for was paid again. Neither a reset nor setting an old adapter back
    makes the work new."""
    owner = users[1]
    model = fork_of(owner)
    adapter = b"\x17" * 32
    first, sig = sign_op(owner, model, adapter=adapter, nonce=20, interactions=40)
    suite.rewards.rewardTraining(first.as_tuple(), sig, sender=owner)
    assert suite.models.fork(model)[1] == adapter
    balance = suite.token.balanceOf(owner)
    suite.models.updateAdapter(model, bytes(32), sender=owner)
    again, sig = sign_op(owner, model, adapter=adapter, nonce=21, interactions=40)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(again.as_tuple(), sig, sender=owner)
    suite.models.updateAdapter(model, b"\x18" * 32, sender=owner)  # another adapter, then the old one back
    suite.models.updateAdapter(model, adapter, sender=owner)
    suite.models.updateAdapter(model, b"\x19" * 32, sender=owner)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(again.as_tuple(), sig, sender=owner)
    assert suite.token.balanceOf(owner) == balance


def test_a_new_owner_is_not_paid_again_for_the_forks_paid_adapter(suite, users, fork_of, sign_op, funded_pool):
    seller, buyer = users[1], users[3]
    model = fork_of(seller)
    adapter = b"\x1a" * 32
    op, sig = sign_op(seller, model, adapter=adapter, nonce=30)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=seller)
    suite.models.transferFrom(seller, buyer, model, sender=seller)
    theirs, sig = sign_op(buyer, model, adapter=adapter, nonce=30)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=adapter):
        suite.rewards.rewardTraining(theirs.as_tuple(), sig, sender=buyer)


def test_the_key_is_per_fork_and_the_nonce_is_no_key(suite, users, fork_of, sign_op, funded_pool, params):
    """One adapter hash on two forks is two pieces of work; one nonce for two adapters, or for two
    users, is two sessions: each is paid."""
    user = users[0]
    a, b = fork_of(users[1]), fork_of(users[2])
    adapter = b"\x1b" * 32
    before = suite.token.balanceOf(user)
    for model, nonce, hash_ in ((a, 5, adapter), (b, 5, adapter), (a, 5, b"\x1c" * 32)):
        op, sig = sign_op(user, model, adapter=hash_, nonce=nonce, interactions=10)
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=user)
    op, sig = sign_op(users[3], a, nonce=5, interactions=10)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[3])
    assert suite.token.balanceOf(user) - before == 3 * training_payout(params, 1, 10).user
    assert suite.rewards.adapterPaid(a, adapter) and suite.rewards.adapterPaid(b, adapter)
    assert not suite.rewards.adapterPaid(fork_of(users[4]), adapter)


def test_an_op_without_an_adapter_is_refused(suite, users, fork_of, sign_op, funded_pool):
    """A zero hash means "no adapter" (a fork minted without one): it cannot name paid work."""
    model = fork_of(users[1])
    op, sig = sign_op(users[0], model, adapter=bytes(32))
    with ape.reverts(suite.rewards.ZeroAdapter):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])
    good = sign_op(users[0], model)
    with ape.reverts(suite.rewards.ZeroAdapter):
        suite.rewards.rewardTrainingBatch([good[0].as_tuple(), op.as_tuple()], [good[1], sig], sender=users[0])


def test_reward_split_is_63_27_10_of_reward(params):
    p = training_payout(params, 1, 100)  # R = 1 HANZO
    assert (p.user, p.owner, p.burned) == (63 * WEI // 100, 27 * WEI // 100, 10 * WEI // 100)


def test_low_quality_op_burns_its_reward_and_pays_nobody(suite, users, fork_of, sign_op, funded_pool, params):
    user, owner = users[0], users[1]
    model = fork_of(owner)
    adapter_before = suite.models.fork(model)[1]
    token = suite.token
    before = (token.balanceOf(user), token.balanceOf(owner), token.totalSupply())
    op, sig = sign_op(user, model, multiplier=3, interactions=50, low_quality=True)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=user)
    reward = params.reward_per_interaction * 150
    assert (token.balanceOf(user), token.balanceOf(owner)) == before[:2]
    assert before[2] - token.totalSupply() == reward
    assert suite.models.fork(model)[1] == adapter_before  # a rejected update is not recorded


def test_user_who_owns_the_fork_gets_both_shares(suite, users, fork_of, sign_op, funded_pool, params):
    user = users[0]
    model = fork_of(user)
    before = suite.token.balanceOf(user)
    op, sig = sign_op(user, model, multiplier=10, interactions=1)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=user)
    assert suite.token.balanceOf(user) - before == training_payout(params, 10, 1).paid


def test_replayed_op_reverts_and_pays_once(suite, users, fork_of, sign_op, funded_pool):
    user = users[0]
    model = fork_of(users[1])
    op, sig = sign_op(user, model, interactions=10, nonce=42)
    assert not suite.rewards.adapterPaid(model, op.adapterHash)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=user)
    assert suite.rewards.adapterPaid(model, op.adapterHash)
    balance = suite.token.balanceOf(user)
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=op.adapterHash):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=user)
    assert suite.token.balanceOf(user) == balance


def test_expired_op_reverts(suite, users, fork_of, sign_op, funded_pool, chain):
    model = fork_of(users[1])
    deadline = chain.pending_timestamp - 1
    op, sig = sign_op(users[0], model, deadline=deadline)
    with ape.reverts(suite.rewards.OpExpired):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_op_signed_by_non_oracle_reverts(suite, users, fork_of, sign_op, funded_pool):
    model = fork_of(users[1])
    op, sig = sign_op(users[0], model, signer=users[0])
    with ape.reverts(suite.rewards.InvalidSigner, recovered=users[0].address):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_tampered_op_reverts(suite, users, fork_of, sign_op, funded_pool):
    """The signature covers every field: raising the multiplier after signing is rejected."""
    model = fork_of(users[1])
    op, sig = sign_op(users[0], model, multiplier=1)
    tampered = list(op.as_tuple())
    tampered[3] = 10
    with ape.reverts(suite.rewards.InvalidSigner):
        suite.rewards.rewardTraining(tuple(tampered), sig, sender=users[0])


def test_malformed_signature_reverts(suite, users, fork_of, sign_op, funded_pool):
    model = fork_of(users[1])
    op, _ = sign_op(users[0], model)
    with ape.reverts():
        suite.rewards.rewardTraining(op.as_tuple(), b"\x01" * 64, sender=users[0])


@pytest.mark.parametrize("multiplier", [0, 11, 2**255])
def test_multiplier_outside_1_to_10_reverts(suite, users, fork_of, sign_op, funded_pool, multiplier):
    model = fork_of(users[1])
    op, sig = sign_op(users[0], model, multiplier=multiplier)
    with ape.reverts(suite.rewards.InvalidMultiplier, multiplier=multiplier):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_zero_interactions_reverts(suite, users, fork_of, sign_op, funded_pool):
    model = fork_of(users[1])
    op, sig = sign_op(users[0], model, interactions=0)
    with ape.reverts(suite.rewards.ZeroInteractions):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_unknown_model_reverts(suite, users, sign_op, funded_pool):
    op, sig = sign_op(users[0], 999)
    with ape.reverts(suite.models.UnknownModel, tokenId=999):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_an_op_larger_than_the_pool_is_deferred_by_the_pools_day(project, accounts, params, chain):
    """A suite whose first year emits 1 HANZO: its pool cannot cover one capped op at 10x. Paid or
    junk, it is deferred by the pool's day (at most the whole pool, at the highest pace)."""
    from hanzo.econ.attest import TrainingOp, sign_training_op
    from hanzo.chain.deploy import Roles, deploy_suite

    p = params.replace(emission_first_year=WEI, pool_pace_bps=10_000)
    s = deploy_suite(p, Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address,
                              accounts[4].address), proj=project)
    chain.pending_timestamp = max(chain.pending_timestamp, s.emission.start() + p.year_seconds)
    s.emission.release(sender=accounts[0])
    s.models.registerBaseModel(1, 0, sender=accounts[1])
    s.token.transfer(accounts[6], 10 * WEI, sender=accounts[4])
    s.token.approve(s.models, 10 * WEI, sender=accounts[6])
    s.models.mint(1, b"\x01" * 32, s.models.mintFee(1), sender=accounts[6])
    pool = s.token.balanceOf(s.rewards)
    interactions = p.max_interactions_per_op
    needed = training_payout(p, 10, interactions).from_pool
    assert needed > pool > 0
    op = TrainingOp(accounts[5].address, 1, b"\x02" * 32, 10, interactions, False, 0, chain.pending_timestamp + 99)
    sig = sign_training_op(accounts[1].private_key, op, chain.chain_id, s.rewards.address)
    with ape.reverts(s.rewards.DailyBudgetSpent, cost=needed, left=pool):
        s.rewards.rewardTraining(op.as_tuple(), sig, sender=accounts[5])
    junk = TrainingOp(accounts[5].address, 1, b"\x03" * 32, 10, interactions, True, 0, chain.pending_timestamp + 99)
    sig = sign_training_op(accounts[1].private_key, junk, chain.chain_id, s.rewards.address)
    with ape.reverts(s.rewards.DailyBudgetSpent, cost=training_payout(p, 10, interactions, True).from_pool,
                     left=pool):
        s.rewards.rewardTraining(junk.as_tuple(), sig, sender=accounts[5])


def test_contract_digest_matches_python_eip712(suite, users, sign_op, chain):
    op, _ = sign_op(users[0], 1)
    assert bytes(suite.rewards.hashOp(op.as_tuple())) == op_digest(op, chain.chain_id, suite.rewards.address)


def test_batch_pays_every_op_and_burns_once(suite, users, fork_of, sign_op, funded_pool, params):
    model = fork_of(users[4])
    token = suite.token
    ops = [sign_op(users[i % 3], model, multiplier=1 + i % 10, interactions=5 + i) for i in range(12)]
    before = {u: token.balanceOf(u) for u in users[:3] + [users[4]]}
    supply = token.totalSupply()
    receipt = suite.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in ops], [s for _, s in ops], sender=users[0])
    expected_user = {u: 0 for u in users[:3]}
    owner_total = burned = 0
    for i, (op, _) in enumerate(ops):
        p = training_payout(params, op.multiplier, op.interactions)
        expected_user[users[i % 3]] += p.user
        owner_total += p.owner
        burned += p.burned
    for u in users[:3]:
        assert token.balanceOf(u) - before[u] == expected_user[u]
    assert token.balanceOf(users[4]) - before[users[4]] == owner_total
    assert supply - token.totalSupply() == burned
    assert len(receipt.decode_logs(suite.rewards.TrainingRecorded)) == 12


def test_a_front_run_op_is_skipped_and_the_rest_of_the_batch_is_paid_once(suite, users, fork_of, sign_op, funded_pool,
                                                                            params):
    """Finding 5: anyone may submit a signed op, so a front-runner who pays one op of a relayer's
    batch first used to void the whole batch (OpReplayed). Now the used op is skipped with an
    event, the others are paid, and the skipped one is not paid twice."""
    model = fork_of(users[1])
    first = sign_op(users[0], model, nonce=1, interactions=10)
    fresh = sign_op(users[0], model, nonce=2, interactions=20)
    suite.rewards.rewardTraining(first[0].as_tuple(), first[1], sender=users[3])  # the front-runner
    balance = suite.token.balanceOf(users[0])
    receipt = suite.rewards.rewardTrainingBatch([fresh[0].as_tuple(), first[0].as_tuple()], [fresh[1], first[1]],
                                                sender=users[0])
    [skipped] = receipt.decode_logs(suite.rewards.OpSkipped)
    assert (skipped.modelId, bytes(skipped.adapterHash)) == (model, first[0].adapterHash)
    assert [e.nonce for e in receipt.decode_logs(suite.rewards.TrainingRecorded)] == [2]
    assert suite.token.balanceOf(users[0]) - balance == training_payout(params, 1, 20).user
    # alone, a replay still reverts: a single submission learns it was paid before
    with ape.reverts(suite.rewards.OpReplayed, modelId=model, adapterHash=first[0].adapterHash):
        suite.rewards.rewardTraining(first[0].as_tuple(), first[1], sender=users[0])


def test_a_batch_naming_one_adapter_of_a_fork_twice_pays_it_once(suite, users, fork_of, sign_op, funded_pool,
                                                                  params):
    """Two signed ops for one (fork, adapter), under two nonces and two users, in one batch: the
    first is paid and the second skipped."""
    model = fork_of(users[1])
    adapter = b"\x1d" * 32
    one = sign_op(users[0], model, adapter=adapter, nonce=1, interactions=10)
    two = sign_op(users[2], model, adapter=adapter, nonce=2, interactions=10)
    before = (suite.token.balanceOf(users[0]), suite.token.balanceOf(users[2]))
    receipt = suite.rewards.rewardTrainingBatch([one[0].as_tuple(), two[0].as_tuple()], [one[1], two[1]],
                                                sender=users[3])
    assert [e.user for e in receipt.decode_logs(suite.rewards.TrainingRecorded)] == [users[0].address]
    [skipped] = receipt.decode_logs(suite.rewards.OpSkipped)
    assert (skipped.modelId, bytes(skipped.adapterHash)) == (model, adapter)
    assert suite.token.balanceOf(users[0]) - before[0] == training_payout(params, 1, 10).user
    assert suite.token.balanceOf(users[2]) == before[1]


def test_one_signature_cannot_carry_more_than_the_per_op_interaction_cap(suite, users, fork_of, sign_op, funded_pool,
                                                                         params):
    """Finding 5: an op's interactions were unbounded, so one signature could pay any amount."""
    model = fork_of(users[1])
    cap = params.max_interactions_per_op
    assert suite.rewards.maxInteractionsPerOp() == cap
    op, sig = sign_op(users[0], model, interactions=cap + 1)
    with ape.reverts(suite.rewards.TooManyInteractions, interactions=cap + 1, max=cap):
        suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])
    op, sig = sign_op(users[0], model, interactions=cap)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])


def test_a_fork_is_paid_for_at_most_its_daily_interactions_and_the_count_restarts_next_day(
        suite, users, fork_of, sign_op, funded_pool, params, chain):
    model = fork_of(users[1])
    per_op, per_day = params.max_interactions_per_op, params.max_interactions_per_fork_day
    chain.pending_timestamp = (chain.pending_timestamp // 86_400 + 1) * 86_400 + 60  # early in a fresh day
    n = per_day // per_op
    ops = [sign_op(users[0], model, interactions=per_op) for _ in range(n)]
    suite.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in ops], [g for _, g in ops], sender=users[0])
    assert suite.rewards.remainingToday(model, users[0]) == per_day - n * per_op
    over, sig = sign_op(users[0], model, interactions=per_day - n * per_op + 1)
    with ape.reverts(suite.rewards.ForkDailyCapReached, modelId=model):
        suite.rewards.rewardTraining(over.as_tuple(), sig, sender=users[0])
    other = fork_of(users[2])  # another fork has its own allowance
    op, sig = sign_op(users[0], other, interactions=per_op)
    suite.rewards.rewardTraining(op.as_tuple(), sig, sender=users[0])
    chain.pending_timestamp += 86_400
    over, sig = sign_op(users[0], model, interactions=per_op)
    suite.rewards.rewardTraining(over.as_tuple(), sig, sender=users[0])
    assert suite.rewards.remainingToday(model, users[0]) == per_day - per_op


def test_batch_length_mismatch_reverts(suite, users, sign_op):
    op, sig = sign_op(users[0], 1)
    with ape.reverts(suite.rewards.LengthMismatch):
        suite.rewards.rewardTrainingBatch([op.as_tuple()], [sig, sig], sender=users[0])


def test_no_one_grants_the_oracle_role(suite, users):
    """The oracle is set at construction and passes its role on only by rotateOracle; governance
    (the timelock, the role's admin) may revoke it, never grant it (tests/test_capture_paths.py)."""
    role = suite.rewards.ORACLE_ROLE()
    for who in (users[0], suite.roles.oracle):
        with ape.reverts(suite.rewards.OracleGrantedOnlyByRotation):
            suite.rewards.grantRole(role, users[0], sender=who)
    assert suite.rewards.getRoleAdmin(role) == suite.rewards.DEFAULT_ADMIN_ROLE()
    assert suite.rewards.hasRole(suite.rewards.DEFAULT_ADMIN_ROLE(), suite.timelock.address)
    assert not suite.rewards.hasRole(suite.rewards.DEFAULT_ADMIN_ROLE(), suite.roles.deployer.address)


def test_on_top_burn_mode_pays_70_30_and_burns_10_percent_more(project, accounts, params, chain):
    from hanzo.econ.attest import TrainingOp, sign_training_op
    from hanzo.chain.deploy import Roles, deploy_suite

    p = params.replace(burn_mode="on_top")
    s = deploy_suite(p, Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address,
                              accounts[4].address), proj=project)
    chain.pending_timestamp = s.emission.start() + p.year_seconds
    s.emission.release(sender=accounts[0])
    s.models.registerBaseModel(1, 0, sender=accounts[1])
    s.token.transfer(accounts[6], 10 * WEI, sender=accounts[4])
    s.token.approve(s.models, 10 * WEI, sender=accounts[6])
    s.models.mint(1, b"\x01" * 32, s.models.mintFee(1), sender=accounts[6])
    op = TrainingOp(accounts[5].address, 1, b"\x02" * 32, 1, 100, False, 0, chain.pending_timestamp + 99)
    sig = sign_training_op(accounts[1].private_key, op, chain.chain_id, s.rewards.address)
    pool, supply = s.token.balanceOf(s.rewards), s.token.totalSupply()
    s.rewards.rewardTraining(op.as_tuple(), sig, sender=accounts[5])
    expected = training_payout(p, 1, 100)
    assert (expected.user, expected.owner, expected.burned) == (70 * WEI // 100, 30 * WEI // 100, 10 * WEI // 100)
    assert s.token.balanceOf(accounts[5]) == expected.user
    assert pool - s.token.balanceOf(s.rewards) == expected.from_pool == 110 * WEI // 100
    assert supply - s.token.totalSupply() == expected.burned


def _fresh_day(chain):
    chain.pending_timestamp = (chain.pending_timestamp // 86_400 + 1) * 86_400 + 60  # early in a new day


def test_ten_junk_ops_by_others_never_refuse_the_owners_honest_op(suite, users, fork_of, sign_op, funded_pool, params,
                                                                  chain):
    """Issue 16, hole 3: one daily cap counted every user's ops, low quality included, so ten junk
    ops of 1,000 interactions by an attacker on a victim's fork made the owner's honest op revert
    ForkDailyCapReached, every day. The owner's ops have a budget of their own."""
    attacker, owner = users[0], users[1]
    model = fork_of(owner)
    per_op, per_day = params.max_interactions_per_op, params.max_interactions_per_fork_day
    _fresh_day(chain)
    for _ in range(per_day // per_op):
        junk, sig = sign_op(attacker, model, interactions=per_op, low_quality=True)
        suite.rewards.rewardTraining(junk.as_tuple(), sig, sender=attacker)
    balance = suite.token.balanceOf(owner)
    honest, sig = sign_op(owner, model, interactions=per_op, multiplier=3)
    suite.rewards.rewardTraining(honest.as_tuple(), sig, sender=owner)
    assert suite.token.balanceOf(owner) - balance == training_payout(params, 3, per_op).paid
    # the owner's whole budget is its own: the rest of its day is paid too
    for _ in range(per_day // per_op - 1):
        more, sig = sign_op(owner, model, interactions=per_op)
        suite.rewards.rewardTraining(more.as_tuple(), sig, sender=owner)
    assert suite.rewards.remainingToday(model, owner) == 0
    # and the fork's day stays bounded: others' ops share one budget, the owner's its own
    assert suite.rewards.remainingToday(model, attacker) == 0 == suite.rewards.remainingToday(model, users[2])
    for who in (owner, users[2]):
        over, sig = sign_op(who, model, interactions=1)
        with ape.reverts(suite.rewards.ForkDailyCapReached, modelId=model, interactions=1, remaining=0):
            suite.rewards.rewardTraining(over.as_tuple(), sig, sender=who)


def test_a_batch_with_one_forks_cap_filled_pays_the_other_49_ops_and_defers_that_one(suite, users, fork_of, sign_op,
                                                                                     funded_pool, params, chain):
    """Issue 16, hole 3: an op over its fork's daily cap reverted the whole batch (filling one
    fork's cap before a 50-op batch left 0 of the other 49 paid). It is now skipped with
    OpDeferred and its adapter is not consumed, so it is paid another day."""
    full, other = fork_of(users[1]), fork_of(users[2])
    per_op, per_day = params.max_interactions_per_op, params.max_interactions_per_fork_day
    _fresh_day(chain)
    filler = [sign_op(users[0], full, interactions=per_op) for _ in range(per_day // per_op)]
    suite.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in filler], [g for _, g in filler], sender=users[0])
    late = sign_op(users[3], full, interactions=5)
    batch = [sign_op(users[i % 2 * 2], other, interactions=10) for i in range(24)]
    batch += [late] + [sign_op(users[4], other, interactions=10) for _ in range(25)]
    before = suite.token.balanceOf(users[4])
    receipt = suite.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in batch], [g for _, g in batch],
                                                sender=users[3])
    paid = receipt.decode_logs(suite.rewards.TrainingRecorded)
    assert len(paid) == 49 and late[0].adapterHash not in {bytes(e.adapterHash) for e in paid}
    [deferred] = receipt.decode_logs(suite.rewards.OpDeferred)
    assert (deferred.modelId, bytes(deferred.adapterHash)) == (full, late[0].adapterHash)
    assert bytes(deferred.reason) == keccak(text="ForkDailyCapReached(uint256,uint256,uint256)")[:4]
    assert suite.token.balanceOf(users[4]) - before == 25 * training_payout(params, 1, 10).user
    assert not suite.rewards.adapterPaid(full, late[0].adapterHash)
    chain.pending_timestamp += 86_400  # another day: the deferred work is paid, once (the oracle signs it again)
    again = sign_op(users[3], full, interactions=5, adapter=late[0].adapterHash, nonce=late[0].nonce)
    twice = sign_op(users[0], full, interactions=5, adapter=late[0].adapterHash)
    receipt = suite.rewards.rewardTrainingBatch([again[0].as_tuple(), twice[0].as_tuple()], [again[1], twice[1]],
                                                sender=users[3])
    assert [e.user for e in receipt.decode_logs(suite.rewards.TrainingRecorded)] == [users[3].address]
    assert len(receipt.decode_logs(suite.rewards.OpSkipped)) == 1 and suite.rewards.adapterPaid(full, late[0].adapterHash)


def _small_suite(project, accounts, chain, params):
    """A suite of its own, its pool one day of emission (164,383 HANZO): at 1 bps the pool's day is
    16.4 HANZO, a few ops."""
    from hanzo.chain.deploy import Roles, deploy_suite

    s = deploy_suite(params, Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address,
                                   accounts[4].address), proj=project)
    chain.pending_timestamp = (s.emission.start() // 86_400 + 2) * 86_400 + 60
    s.emission.release(sender=accounts[0])
    s.models.registerBaseModel(1, 0, sender=accounts[1])
    forks = {}
    for i in (5, 6, 7):
        s.token.transfer(accounts[i], 10 * WEI, sender=accounts[4])
        s.token.approve(s.models, 10 * WEI, sender=accounts[i])
        s.models.mint(1, secrets.token_bytes(32), s.models.mintFee(1), sender=accounts[i])
        forks[accounts[i].address] = s.models.totalForks()
    return s, forks


def test_the_pool_pays_at_most_its_pace_a_day_defers_the_rest_and_agrees_with_the_model(project, accounts, params,
                                                                                          chain):
    """Issue 16, finding 6: from year 7 the pool paid 0% of nominal. It now pays at most
    pool_pace_bps of itself a day: each op (junk's burn too) in full while the day's budget lasts,
    the rest deferred (adapter unconsumed). Random ops, alone and in batches, over
    four days: the contract and hanzo.econ.reference.DailyBudgets agree on every op and balance."""
    import random

    from hanzo.econ.attest import TrainingOp, sign_training_op
    from hanzo.econ.reference import BUDGET_SPENT, DailyBudgets, pool_day_budget

    p = params.replace(pool_pace_bps=1, max_interactions_per_fork_day=1_500)
    s, forks = _small_suite(project, accounts, chain, p)
    model = DailyBudgets(p)
    rng = random.Random(16)
    people = [accounts[i] for i in (5, 6, 7, 8)]
    deferred_by = {"ForkDailyCapReached": 0, BUDGET_SPENT: 0}
    for day in range(4):
        start_pool = s.token.balanceOf(s.rewards)
        budget = pool_day_budget(p, start_pool)
        assert s.rewards.budgetLeftToday() == budget == model.left_today(chain.pending_timestamp, start_pool)
        taken = 0
        for _ in range(6):
            batch = []
            for _ in range(rng.choice((1, 1, 3))):
                user = rng.choice(people)
                fork = rng.choice(list(forks.values()))
                low = rng.random() < 0.2
                op = TrainingOp(user.address, fork, secrets.token_bytes(32), rng.randint(1, 5),
                                rng.randint(1, 400), low, rng.randrange(2**32), chain.pending_timestamp + 3600)
                batch.append((op, sign_training_op(accounts[1].private_key, op, chain.chain_id, s.rewards.address)))
            pool = s.token.balanceOf(s.rewards)
            now = chain.pending_timestamp
            expect = [model.admit(now, op.modelId, forks[op.user] == op.modelId if op.user in forks else False,
                                  op.interactions, training_payout(p, op.multiplier, op.interactions, op.lowQuality),
                                  op.lowQuality, pool) for op, _ in batch]
            if len(batch) == 1 and expect[0] is not None:
                with ape.reverts(getattr(s.rewards, expect[0])):
                    s.rewards.rewardTraining(batch[0][0].as_tuple(), batch[0][1], sender=accounts[9])
            elif len(batch) == 1:
                s.rewards.rewardTraining(batch[0][0].as_tuple(), batch[0][1], sender=accounts[9])
            else:
                receipt = s.rewards.rewardTrainingBatch([o.as_tuple() for o, _ in batch], [g for _, g in batch],
                                                        sender=accounts[9])
                deferred = {bytes(e.adapterHash): e.reason for e in receipt.decode_logs(s.rewards.OpDeferred)}
                assert [deferred.get(op.adapterHash) is not None for op, _ in batch] == [e is not None for e in expect]
            for (op, _), e in zip(batch, expect):
                assert s.rewards.adapterPaid(op.modelId, op.adapterHash) == (e is None)
                if e is None:
                    taken += training_payout(p, op.multiplier, op.interactions, op.lowQuality).from_pool
                if e is not None:
                    deferred_by[e] += 1
            assert s.rewards.budgetLeftToday() == model.left_today(chain.pending_timestamp, s.token.balanceOf(s.rewards))
        assert taken <= budget
        chain.pending_timestamp += 86_400
    assert deferred_by[BUDGET_SPENT] > 0  # the pace bound, reached


def test_the_pools_pace_changes_only_through_governance_within_its_hard_bounds(suite, users, params, chain, whale):
    rewards = suite.rewards
    assert rewards.poolPaceBps() == params.pool_pace_bps == 20
    for who in (users[3], suite.roles.deployer):
        with ape.reverts(rewards.AccessControlUnauthorizedAccount):
            rewards.setPoolPace(50, sender=who)
    for user, amount in zip(users[:2], (6_000_000, 5_000_000)):  # two voters past the quorum
        suite.token.transfer(user, amount * WEI, sender=whale)
        suite.token.approve(suite.staked, amount * WEI, sender=user)
        suite.staked.stake(amount * WEI, sender=user)

    def govern(pace):
        gov = suite.governor
        description = f"pool pace {pace} {secrets.token_hex(4)}"
        call = [rewards.setPoolPace.encode_input(pace)]
        pid = gov.proposeTyped([rewards.address], [0], call, description, 0,
                               sender=users[0]).decode_logs(gov.ProposalCreated)[0].proposalId
        for wait in (params.voting_delay + 1, params.voting_period):
            chain.pending_timestamp = chain.blocks.head.timestamp + wait
            chain.mine()
            if wait != params.voting_period:
                for v in users[:2]:
                    gov.castVote(pid, 1, sender=v)
        desc_hash = chain.provider.web3.keccak(text=description)
        gov.queue([rewards.address], [0], call, desc_hash, sender=users[0])
        chain.pending_timestamp = chain.blocks.head.timestamp + params.timelock_delay
        chain.mine()
        return gov.execute([rewards.address], [0], call, desc_hash, sender=users[0])

    [event] = govern(50).decode_logs(rewards.PoolPaceSet)
    assert (event.oldPaceBps, event.newPaceBps) == (20, 50) and rewards.poolPaceBps() == 50
    for out_of_bounds in (0, 10_001):
        with ape.reverts():
            govern(out_of_bounds)
    assert rewards.poolPaceBps() == 50 and rewards.MIN_POOL_PACE_BPS() == 1 and rewards.MAX_POOL_PACE_BPS() == 10_000
