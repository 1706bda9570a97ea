"""The reward hook on a real chain: payout as the reference model says, and every training session
paid exactly once, whatever crashes or is lost (issue 9, part 2)."""

from __future__ import annotations

import secrets
import threading

import pytest

from hanzo.econ.reference import training_payout
from hanzo.chain.rewards import Crash, RewardError, RewardHook
from hanzo.chain.tx import abi_of
from hanzo.econ.attest import Oracle


@pytest.fixture
def hook_for(suite, chain, oracle, accounts, tmp_path, released, params):
    released(params.year_seconds)
    abi = abi_of(suite.rewards)

    def make(store: str = "store") -> RewardHook:
        signer = Oracle(oracle.private_key, chain.chain_id, suite.rewards.address)
        return RewardHook(chain.provider.web3, str(suite.rewards.address), abi, signer,
                          accounts[2].private_key, tmp_path / store, deployment_block=suite.block, backoff_s=0.01)

    return make


def test_hook_pays_what_the_reference_model_says(suite, users, fork_of, hook_for, params):
    user, owner = users[0], users[1]
    model = fork_of(owner)
    before = suite.token.balanceOf(user)
    payout = hook_for().pay(user.address, model, secrets.token_bytes(32), 6, 40, False)
    expected = training_payout(params, 6, 40)
    assert (payout.user_payout, payout.owner_payout, payout.burned) == (expected.user, expected.owner, expected.burned)
    assert payout.owner == owner.address and not payout.replayed
    assert suite.token.balanceOf(user) - before == expected.user


@pytest.mark.parametrize("step", ["signed", "sent"])
def test_a_crash_after_each_step_then_a_rerun_pays_once(suite, users, fork_of, hook_for, params, step):
    user = users[0]
    model = fork_of(user)
    adapter = secrets.token_bytes(32)
    before = suite.token.balanceOf(user)
    crashing = hook_for()
    session = crashing.open_session(user.address, model)
    crashing.crash_at = step
    with pytest.raises(Crash):
        crashing.reward(session, adapter, 3, 10, False)
    again = hook_for().reward(session, adapter, 3, 10, False)  # a fresh process, the same store
    third = hook_for().reward(session, adapter, 3, 10, False)
    assert third.replayed and again.tx_hash == third.tx_hash and again.nonce == third.nonce
    assert suite.token.balanceOf(user) - before == training_payout(params, 3, 10).paid


def test_a_crash_before_the_session_is_rewarded_leaves_it_payable(suite, users, fork_of, hook_for, params):
    """The session was opened (nonce allocated) and trained, then the worker died: the rerun pays."""
    user = users[0]
    model = fork_of(user)
    session = hook_for().open_session(user.address, model)
    before = suite.token.balanceOf(user)
    paid = hook_for().reward(session, secrets.token_bytes(32), 2, 5, False)
    assert not paid.replayed and suite.token.balanceOf(user) - before == training_payout(params, 2, 5).paid


def test_a_lost_store_never_pays_the_same_adapter_twice(suite, users, fork_of, hook_for, params, tmp_path):
    user = users[0]
    model = fork_of(user)
    adapter = secrets.token_bytes(32)
    first = hook_for().pay(user.address, model, adapter, 4, 20, False)
    balance = suite.token.balanceOf(user)
    for f in (tmp_path / "store").iterdir():
        f.unlink()  # the store is gone
    again = hook_for().pay(user.address, model, adapter, 4, 20, False)
    assert again.replayed and again.tx_hash == first.tx_hash and again.nonce == first.nonce
    assert suite.token.balanceOf(user) == balance
    fresh = hook_for().pay(user.address, model, secrets.token_bytes(32), 1, 1, False)
    # a new adapter is paid on a nonce the chain has not used (nonces are unordered: gaps cost nothing)
    assert fresh.nonce > first.nonce and not fresh.replayed


def test_two_workers_on_one_store_never_share_a_nonce(suite, users, fork_of, hook_for):
    user = users[3]
    model = fork_of(user)
    workers = [hook_for() for _ in range(2)]
    sessions: list[str] = []
    lock = threading.Lock()

    def open_many(hook):
        for _ in range(5):
            s = hook.open_session(user.address, model)
            with lock:
                sessions.append(s)

    threads = [threading.Thread(target=open_many, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    nonces = [workers[0].store.get(s)["nonce"] for s in sessions]
    assert sorted(nonces) == list(range(10))


def test_a_second_worker_with_its_own_store_is_not_credited_with_anothers_payment(suite, users, fork_of, hook_for,
                                                                                    params):
    """Two workers (one on a restored copy of the store) sign the same nonce for different adapters.
    The first is paid; the second must not report that payment as its own, and is paid on a fresh
    nonce: each adapter once."""
    user = users[0]
    model = fork_of(user)
    a, b = hook_for("store-a"), hook_for("store-b")
    sa, sb = a.open_session(user.address, model), b.open_session(user.address, model)
    assert a.store.get(sa)["nonce"] == b.store.get(sb)["nonce"]
    before = suite.token.balanceOf(user)
    first = a.reward(sa, b"\x0a" * 32, 1, 10, False)
    second = b.reward(sb, b"\x0b" * 32, 1, 10, False)
    assert not second.replayed and second.nonce != first.nonce
    assert suite.token.balanceOf(user) - before == 2 * training_payout(params, 1, 10).paid


def test_a_receipt_that_does_not_arrive_is_resumed_not_resent(suite, users, fork_of, hook_for, params, monkeypatch):
    from web3.exceptions import TimeExhausted

    user = users[0]
    model = fork_of(user)
    hook = hook_for()
    session = hook.open_session(user.address, model)

    def never(*_a, **_k):
        raise TimeExhausted("no receipt in time")

    monkeypatch.setattr(hook.w3.eth, "wait_for_transaction_receipt", never)
    before = suite.token.balanceOf(user)
    with pytest.raises(RewardError, match="not mined within"):
        hook.reward(session, b"\x0c" * 32, 5, 10, False)
    monkeypatch.undo()
    paid = hook_for().reward(session, b"\x0c" * 32, 5, 10, False)
    assert suite.token.balanceOf(user) - before == training_payout(params, 5, 10).paid
    assert hook_for().reward(session, b"\x0c" * 32, 5, 10, False).tx_hash == paid.tx_hash


def test_a_transaction_the_node_already_knows_is_awaited_not_an_error(suite, users, fork_of, hook_for, params,
                                                                       monkeypatch):
    user = users[0]
    model = fork_of(user)
    hook = hook_for()
    real = hook.w3.eth.send_raw_transaction

    def twice(raw):
        real(raw)
        raise ValueError("already known")  # what geth says to a resend of a pooled transaction

    monkeypatch.setattr(hook.w3.eth, "send_raw_transaction", twice)
    before = suite.token.balanceOf(user)
    paid = hook.pay(user.address, model, b"\x0d" * 32, 2, 10, False)
    assert not paid.replayed and suite.token.balanceOf(user) - before == training_payout(params, 2, 10).paid


def test_a_session_is_bound_to_one_adapter(suite, users, fork_of, hook_for):
    user = users[0]
    model = fork_of(user)
    hook = hook_for()
    session = hook.open_session(user.address, model)
    hook.reward(session, b"\x0e" * 32, 1, 1, False)
    with pytest.raises(RewardError, match="already bound to adapter"):
        hook.reward(session, b"\x0f" * 32, 1, 1, False)


def test_each_new_session_gets_the_next_nonce(suite, users, fork_of, hook_for):
    user = users[2]
    model = fork_of(user)
    hook = hook_for()
    nonces = [hook.pay(user.address, model, secrets.token_bytes(32), 1, 1, False).nonce for _ in range(3)]
    assert nonces == [0, 1, 2]


def test_rejected_op_is_named_and_nothing_is_sent(suite, users, hook_for):
    with pytest.raises(RewardError, match="UnknownModel"):
        hook_for().pay(users[0].address, 999, secrets.token_bytes(32), 1, 1, False)


def test_low_quality_update_burns_and_pays_nobody(suite, users, fork_of, hook_for, params):
    model = fork_of(users[1])
    supply = suite.token.totalSupply()
    payout = hook_for().pay(users[0].address, model, secrets.token_bytes(32), 1, 25, True)
    assert (payout.user_payout, payout.owner_payout) == (0, 0)
    assert supply - suite.token.totalSupply() == payout.burned == training_payout(params, 1, 25, True).burned


def test_a_batch_pays_every_session_once_and_reports_a_front_run_one(suite, users, fork_of, hook_for, params):
    hook = hook_for()
    owners = users[:3]
    items = []
    for u in owners:
        model = fork_of(u)
        items.append((hook.open_session(u.address, model), secrets.token_bytes(32), 2, 10, False))
    before = {u: suite.token.balanceOf(u) for u in owners}
    # another worker pays the second session first (it shares the store: a front-run of the batch)
    first = hook_for().reward(*items[1])
    payouts = hook.reward_many(items)
    assert [p.replayed for p in payouts] == [False, True, False]
    assert payouts[1].tx_hash == first.tx_hash
    assert payouts[0].tx_hash == payouts[2].tx_hash  # one batch transaction
    for u in owners:
        assert suite.token.balanceOf(u) - before[u] == training_payout(params, 2, 10).paid
    assert [p.replayed for p in hook.reward_many(items)] == [True, True, True]  # again: nothing more


def test_a_batch_with_an_invalid_op_pays_the_others_and_names_it(suite, users, fork_of, hook_for):
    hook = hook_for()
    good = (hook.open_session(users[0].address, fork_of(users[0])), secrets.token_bytes(32), 1, 5, False)
    bad = (hook.open_session(users[1].address, 999), secrets.token_bytes(32), 1, 5, False)  # no such fork
    with pytest.raises(RewardError, match="UnknownModel"):
        hook.reward_many([good, bad])
    assert hook.store.get(good[0])["state"] == "paid"


def test_hook_refuses_an_oracle_that_signs_for_another_contract_or_chain(suite, users, fork_of, chain, oracle,
                                                                      accounts, tmp_path, hook_for):
    abi = abi_of(suite.rewards)
    elsewhere = Oracle(oracle.private_key, chain.chain_id, suite.models.address)
    with pytest.raises(RewardError, match="signs for .* not this TrainingRewards"):
        RewardHook(chain.provider.web3, str(suite.rewards.address), abi, elsewhere, accounts[2].private_key, tmp_path)
    other_chain = Oracle(oracle.private_key, chain.chain_id + 1, suite.rewards.address)
    hook = RewardHook(chain.provider.web3, str(suite.rewards.address), abi, other_chain, accounts[2].private_key,
                      tmp_path / "other", deployment_block=suite.block)
    before = suite.token.balanceOf(users[0])
    with pytest.raises(RewardError, match=f"chain {chain.chain_id + 1}, the node is chain {chain.chain_id}"):
        hook.pay(users[0].address, fork_of(users[1]), secrets.token_bytes(32), 2, 10, False)
    assert suite.token.balanceOf(users[0]) == before
    key = oracle.private_key if isinstance(oracle.private_key, str) else oracle.private_key.hex()
    assert key.removeprefix("0x")[:16] not in repr(other_chain)  # the key is never printed
