"""The reward hook on a real chain: payout as the reference model says, and every training session
paid exactly once, whatever crashes or is lost (issue 9, part 2)."""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import threading
import time

import pytest

from hanzo.econ.reference import training_payout
from hanzo.chain.rewards import Crash, RewardError, RewardHook
from hanzo.chain.tx import abi_of
from hanzo.econ.attest import Oracle


def in_threads(fn, workers) -> None:
    """fn(worker) for every worker, each in its own thread, all started before any is joined."""
    threads = [threading.Thread(target=fn, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.fixture
def hook_for(suite, chain, oracle, accounts, tmp_path, released, params):
    released(params.year_seconds)
    abi = abi_of(suite.rewards)
    # The hook reads a fork's ledger from its first block. Every payment a test makes comes after this
    # fixture (each test starts from the same state), so the ledger starts here: read from the suite's
    # deployment, the in-process chain's log filter walks every block the session has mined before (in
    # the full suite, minutes a query; 3,000 blocks: 11 s against 2 ms)
    first = chain.blocks.height

    def make(store: str = "store") -> RewardHook:
        signer = Oracle(oracle.private_key, chain.chain_id, suite.rewards.address)
        return RewardHook(chain.provider.web3, str(suite.rewards.address), abi, signer,
                          accounts[2].private_key, tmp_path / store, deployment_block=first, backoff_s=0.01)

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

    in_threads(open_many, workers)
    nonces = [workers[0].store.get(s)["nonce"] for s in sessions]
    assert sorted(nonces) == list(range(10))


def test_a_second_worker_with_its_own_store_is_not_credited_with_anothers_payment(suite, users, fork_of, hook_for,
                                                                                    params):
    """Two workers (one on a restored copy of the store) number two sessions alike, for different
    adapters. The nonce is only a session's number: each adapter is paid, once, and neither
    session reports the other's payment as its own."""
    user = users[0]
    model = fork_of(user)
    a, b = hook_for("store-a"), hook_for("store-b")
    sa, sb = a.open_session(user.address, model), b.open_session(user.address, model)
    assert a.store.get(sa)["nonce"] == b.store.get(sb)["nonce"]
    before = suite.token.balanceOf(user)
    first = a.reward(sa, b"\x0a" * 32, 1, 10, False)
    second = b.reward(sb, b"\x0b" * 32, 1, 10, False)
    assert not second.replayed and second.tx_hash != first.tx_hash
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


# ---------------------------------------------------------------------- issue 15: exactly once on every path


def ledger_events(hook, model: int, adapter: bytes) -> list:
    """Every TrainingRecorded of (fork, adapter) on the canonical chain."""
    logs = hook.contract.events.TrainingRecorded.get_logs(from_block=hook.deployment_block,
                                                          argument_filters={"modelId": model})
    return [log for log in logs if bytes(log["args"]["adapterHash"]) == adapter]


@contextlib.contextmanager
def anvil_suite(params):
    """The suite on a fresh anvil of its own (automine; evm_snapshot, evm_revert and evm_mine are
    real; several threads may call it at once, which the in-process chain does not support).
    Yields (suite, accounts, web3, a maker of RewardHooks on it, rpc)."""
    import ape

    from hanzo.chain.deploy import Roles, deploy_suite, project
    from hanzo.chain.toolchain import anvil_dir

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([str(anvil_dir() / "anvil"), "--port", str(port), "--mnemonic",
                             "test test test test test test test test test test test junk", "--accounts", "12",
                             "--hardfork", "cancun"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):  # until it answers
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            time.sleep(0.05)
        with ape.networks.parse_network_choice("ethereum:local:foundry", provider_settings={"host": url}) as provider:
            from ape import accounts, chain

            a = accounts.test_accounts
            s = deploy_suite(params, Roles(a[0], a[1], a[2].address, a[3].address, a[4].address), proj=project())
            chain.pending_timestamp = s.emission.start() + params.year_seconds
            s.emission.release(sender=a[0])
            s.models.registerBaseModel(1, 0, sender=a[1])
            w3 = provider.web3

            def make(store, **options) -> RewardHook:
                return RewardHook(w3, str(s.rewards.address), abi_of(s.rewards),
                                  Oracle(a[1].private_key, chain.chain_id, s.rewards.address), a[2].private_key,
                                  store, deployment_block=s.block, backoff_s=0.01, **options)

            def rpc(method, *args):
                answer = w3.provider.make_request(method, list(args))
                assert "error" not in answer, answer
                return answer["result"]

            yield s, a, w3, make, rpc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def mint_on(s, owner, whale):
    fee = s.models.mintFee(1)
    s.token.transfer(owner, fee, sender=whale)
    s.token.approve(s.models, fee, sender=owner)
    s.models.mint(1, secrets.token_bytes(32), fee, sender=owner)
    return s.models.totalForks()


def test_a_payment_a_reorganisation_took_back_is_made_again(params, tmp_path):
    """Issue 15, hole 1: the hook recorded "paid" at the first receipt and reported that record
    without asking the chain; after an evm_revert no payment existed and reward() still said
    paid. Every call now reads the fork's ledger: the op is sent again, and paid once."""
    with anvil_suite(params) as (s, a, w3, make, rpc):
        user, model = a[5], mint_on(s, a[6], a[4])
        adapter = secrets.token_bytes(32)
        hook = make(tmp_path / "store", receipt_timeout_s=5)
        session = hook.open_session(user.address, model)
        before = s.token.balanceOf(user)
        snapshot = rpc("evm_snapshot")
        first = hook.reward(session, adapter, 2, 10, False)
        assert not first.replayed and s.token.balanceOf(user) - before == training_payout(params, 2, 10).user
        rpc("evm_revert", snapshot)  # the block with the payment is gone, and the submitter's nonce with it
        assert s.token.balanceOf(user) == before and not ledger_events(hook, model, adapter)
        # sent again: the same signed op from the submitter's nonce as the chain now counts it (a
        # nonce kept from before the revert would leave it queued behind a gap, never mined)
        again = hook.reward(session, adapter, 2, 10, False)
        assert not again.replayed and again.block == first.block
        assert len(ledger_events(hook, model, adapter)) == 1
        assert s.token.balanceOf(user) - before == training_payout(params, 2, 10).user
        third = hook.reward(session, adapter, 2, 10, False)
        assert third.replayed and third.tx_hash == again.tx_hash
        assert s.token.balanceOf(user) - before == training_payout(params, 2, 10).user


def test_a_payment_counts_once_confirmed_and_a_reorganised_one_is_resubmitted(params, tmp_path):
    """Issue 15, item 6: with confirmations=2 the op is mined, unconfirmed (state 'mined', its
    block kept), the chain is reverted, the next call sends it again, blocks are mined, and one
    payment exists."""
    from hanzo.chain import rewards as hook_module

    with anvil_suite(params) as (s, a, w3, make, rpc):
        user, model = a[5], mint_on(s, a[6], a[4])
        adapter = secrets.token_bytes(32)
        hook = make(tmp_path / "store", confirmations=2, receipt_timeout_s=1)
        session = hook.open_session(user.address, model)
        before = s.token.balanceOf(user)
        snapshot = rpc("evm_snapshot")
        with pytest.raises(hook_module.Unconfirmed, match=r"1 of 2 confirmations .*call reward again") as waited:
            hook.reward(session, adapter, 3, 10, False)
        row = hook.store.get(session)
        assert row["state"] == "mined" and row["block"] == waited.value.block == w3.eth.block_number
        assert row["block_hash"] == "0x" + bytes(w3.eth.get_block(row["block"])["hash"]).hex()
        rpc("evm_revert", snapshot)
        with pytest.raises(hook_module.Unconfirmed):  # sent again (the old transaction is gone), mined, 1 of 2
            hook.reward(session, adapter, 3, 10, False)
        assert len(ledger_events(hook, model, adapter)) == 1
        rpc("evm_mine")
        paid = hook.reward(session, adapter, 3, 10, False)
        assert not paid.replayed and hook.store.get(session)["state"] == "paid"
        assert len(ledger_events(hook, model, adapter)) == 1
        assert s.token.balanceOf(user) - before == training_payout(params, 3, 10).user
        assert hook.reward(session, adapter, 3, 10, False).replayed


def test_concurrent_callers_of_one_session_get_one_fresh_payment(params, tmp_path):
    """Issue 15, hole 4: two concurrent calls on one session both returned replayed=False. Four
    workers, each its own hook on one store, call at once: one is paid fresh, the others report
    that payment replayed, and it is made once."""
    with anvil_suite(params) as (s, a, w3, make, rpc):
        user, model = a[5], mint_on(s, a[6], a[4])
        adapter = secrets.token_bytes(32)
        workers = [make(tmp_path / "store") for _ in range(4)]
        session = workers[0].open_session(user.address, model)
        before = s.token.balanceOf(user)
        start = threading.Barrier(len(workers))
        results, errors = [], []

        def call(hook):
            start.wait()
            try:
                results.append(hook.reward(session, adapter, 2, 10, False))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        in_threads(call, workers)
        assert not errors, errors
        assert sorted(p.replayed for p in results) == [False, True, True, True]
        assert len({p.tx_hash for p in results}) == 1 and len(ledger_events(workers[0], model, adapter)) == 1
        assert s.token.balanceOf(user) - before == training_payout(params, 2, 10).user


def test_a_crashed_callers_lease_expires(suite, users, fork_of, hook_for, params):
    """A caller that died holding a session's lease keeps the others off it until the lease ends,
    then one of them pays the session."""
    user = users[0]
    model = fork_of(user)
    hook = hook_for()
    hook.lease_s = 0.5
    session = hook.open_session(user.address, model)
    assert hook.store.claim(session, "a caller that died", 0.5) is None
    before = suite.token.balanceOf(user)
    t0 = time.monotonic()
    paid = hook.reward(session, secrets.token_bytes(32), 1, 10, False)
    assert time.monotonic() - t0 >= 0.4 and not paid.replayed
    assert suite.token.balanceOf(user) - before == training_payout(params, 1, 10).paid


def test_a_restored_store_with_colliding_nonces_pays_an_adapter_once(suite, users, fork_of, hook_for, params,
                                                                     tmp_path):
    """Issue 15, hole 2: a store restored from a backup, and another worker's session on the same
    session number, paid one adapter twice on a fork the user does not own (three payments for two
    sessions). Each (fork, adapter) is looked up on the fork's ledger on every call."""
    import sqlite3

    user = users[0]
    model = fork_of(users[1])  # not the user's
    x, y = b"\x21" * 32, b"\x22" * 32
    live = hook_for("live")
    session = live.open_session(user.address, model)
    live.crash_at = "signed"
    with pytest.raises(Crash):
        live.reward(session, x, 3, 10, False)
    (tmp_path / "restored").mkdir()
    with sqlite3.connect(tmp_path / "restored" / "sessions.sqlite") as copy:
        live.store.db.backup(copy)  # the backup: the session signed, not sent
    other = hook_for("other")  # another worker numbers its first session alike
    paid_y = other.pay(user.address, model, y, 3, 10, False)
    before = suite.token.balanceOf(user)
    paid_x = hook_for("live").reward(session, x, 3, 10, False)
    assert not paid_x.replayed
    again = hook_for("restored").reward(session, x, 3, 10, False)  # the restored store runs it again
    assert again.tx_hash == paid_x.tx_hash and again.nonce == paid_x.nonce
    assert suite.token.balanceOf(user) - before == training_payout(params, 3, 10).user
    assert len(ledger_events(live, model, x)) == 1 and len(ledger_events(live, model, y)) == 1
    assert paid_y.tx_hash != paid_x.tx_hash


def test_an_adapter_paid_to_another_user_fails_the_session(suite, users, fork_of, hook_for, params):
    """Issue 15, hole 2: a session whose adapter the fork paid to someone else was not paid and
    never will be; it fails clearly instead of reporting that payment as its own."""
    first, second = users[0], users[2]
    model = fork_of(users[1])
    adapter = b"\x23" * 32
    paid = hook_for().pay(first.address, model, adapter, 2, 10, False)
    before = suite.token.balanceOf(second)
    hook = hook_for()
    session = hook.open_session(second.address, model)
    pattern = f"fork {model} already paid adapter 2323.* to {first.address} .*it is not {second.address}'s payment"
    for _ in range(2):  # and again: the ledger is read on every call
        with pytest.raises(RewardError, match=pattern):
            hook.reward(session, adapter, 2, 10, False)
    assert suite.token.balanceOf(second) == before and len(ledger_events(hook, model, adapter)) == 1
    assert paid.user == first.address


def test_a_lost_store_reports_the_paid_adapter_and_never_signs_it_again(suite, users, fork_of, hook_for, params,
                                                                        tmp_path, monkeypatch):
    """Issue 15, hole 3 (the hook's side): the store is lost after the gate accepted the session
    and after its payment. A fresh session for the adapter, or the lost session's id opened again,
    reports the fork's payment (replayed) and nothing is signed."""
    user = users[0]
    model = fork_of(users[1])
    adapter = b"\x24" * 32
    hook = hook_for()
    lost = hook.open_session(user.address, model)
    first = hook.reward(lost, adapter, 4, 20, True)  # low quality: burned, and still paid once
    for f in (tmp_path / "store").iterdir():
        f.unlink()  # sessions.sqlite is gone
    supply = suite.token.totalSupply()
    fresh = hook_for()
    monkeypatch.setattr(fresh.oracle, "sign", lambda op: pytest.fail(f"signed a paid adapter again: {op}"))
    again = fresh.reward(fresh.open_session(user.address, model), adapter, 4, 20, True)
    assert again.replayed and again.tx_hash == first.tx_hash and again.nonce == first.nonce
    reopened = fresh.open_session(user.address, model, session=lost)
    assert reopened == lost
    assert fresh.reward(lost, adapter, 4, 20, True).tx_hash == first.tx_hash
    assert suite.token.totalSupply() == supply and len(ledger_events(fresh, model, adapter)) == 1


def test_a_lost_session_id_opened_again_is_paid_once(suite, users, fork_of, hook_for, params, tmp_path):
    """The store was lost after the gate, before the payment: the oracle's session id is opened
    again and paid."""
    user = users[0]
    model = fork_of(user)
    session = hook_for().open_session(user.address, model)
    for f in (tmp_path / "store").iterdir():
        f.unlink()
    hook = hook_for()
    with pytest.raises(RewardError, match="unknown to this store"):
        hook.reward(session, b"\x25" * 32, 1, 10, False)
    assert hook.open_session(user.address, model, session=session) == session
    before = suite.token.balanceOf(user)
    assert not hook.reward(session, b"\x25" * 32, 1, 10, False).replayed
    assert suite.token.balanceOf(user) - before == training_payout(params, 1, 10).paid
    with pytest.raises(RewardError, match="opened for .* not"):
        hook.open_session(users[1].address, model, session=session)


def test_a_batch_with_failing_sessions_pays_every_other_and_names_each_failure(suite, users, fork_of, hook_for,
                                                                              params):
    """A batch that would revert is paid one by one: one failing session no longer stops those
    after it, and each failure stays with its session."""
    from hanzo.chain import rewards as hook_module

    hook = hook_for()
    stranger = users[3]
    taken = b"\x26" * 32
    shared = fork_of(users[4])
    hook_for().pay(stranger.address, shared, taken, 1, 5, False)  # the fork paid this adapter to someone else
    good = (hook.open_session(users[0].address, fork_of(users[0])), secrets.token_bytes(32), 1, 5, False)
    bad = (hook.open_session(users[1].address, 999), secrets.token_bytes(32), 1, 5, False)  # no such fork
    elsewhere = (hook.open_session(users[2].address, shared), taken, 1, 5, False)
    last = (hook.open_session(users[2].address, fork_of(users[2])), secrets.token_bytes(32), 1, 5, False)
    before = {u: suite.token.balanceOf(u) for u in (users[0], users[2])}
    with pytest.raises(RewardError, match="UnknownModel") as failed:
        hook.reward_many([good, bad, elsewhere, last])
    for u in (users[0], users[2]):  # the sessions before and after the failing ones are paid
        assert suite.token.balanceOf(u) - before[u] == training_payout(params, 1, 5).paid
    error = failed.value
    assert isinstance(error, hook_module.BatchError)
    assert set(error.payouts) == {good[0], last[0]} and set(error.failures) == {bad[0], elsewhere[0]}
    assert "UnknownModel" in str(error.failures[bad[0]])
    assert isinstance(error.failures[elsewhere[0]], hook_module.AdapterPaidElsewhere)


def test_a_batch_reads_the_ledger_once_and_pays_one_adapter_of_a_fork_once(suite, users, fork_of, hook_for, params,
                                                                          monkeypatch):
    hook = hook_for()
    queries = []
    real = hook._ledger
    monkeypatch.setattr(hook, "_ledger", lambda forks: queries.append(forks) or real(forks))
    model = fork_of(users[0])
    items = [(hook.open_session(users[0].address, model), secrets.token_bytes(32), 1, 5, False) for _ in range(5)]
    twice = (hook.open_session(users[0].address, model), items[0][1], 1, 5, False)  # another session, same adapter
    before = suite.token.balanceOf(users[0])
    payouts = hook.reward_many(items + [twice])
    assert len(queries) <= 2  # the batch's, and one more because the contract skipped an op
    assert [p.replayed for p in payouts] == [False] * 5 + [True] and payouts[5].tx_hash == payouts[0].tx_hash
    assert suite.token.balanceOf(users[0]) - before == 5 * training_payout(params, 1, 5).paid


def test_a_store_written_before_confirmations_and_leases_is_used_as_it_is(suite, users, fork_of, hook_for, params,
                                                                           tmp_path):
    """A sessions.sqlite from the previous hook (no block, block_hash, lease columns) gains them:
    its paid session is reported, not paid again."""
    import sqlite3

    user = users[0]
    model = fork_of(user)
    adapter = secrets.token_bytes(32)
    paid = hook_for("new").pay(user.address, model, adapter, 1, 10, False)
    (tmp_path / "old").mkdir()
    with sqlite3.connect(tmp_path / "old" / "sessions.sqlite") as db:
        db.execute("""CREATE TABLE sessions (
            id TEXT PRIMARY KEY, user TEXT NOT NULL, fork INTEGER NOT NULL, nonce INTEGER NOT NULL,
            state TEXT NOT NULL, adapter TEXT, op TEXT, signature TEXT, tx_hash TEXT, payout TEXT,
            UNIQUE (user, nonce))""")
        db.execute("INSERT INTO sessions (id, user, fork, nonce, state, adapter, tx_hash) VALUES "
                   "('legacy', ?, ?, ?, 'paid', ?, ?)", (user.address, model, paid.nonce, adapter.hex(), paid.tx_hash))
    before = suite.token.balanceOf(user)
    again = hook_for("old").reward("legacy", adapter, 1, 10, False)
    assert again.replayed and again.tx_hash == paid.tx_hash and suite.token.balanceOf(user) == before


def test_a_session_over_its_forks_daily_budget_fails_alone_and_is_paid_another_day(suite, users, fork_of, hook_for,
                                                                                   params, chain):
    """Issue 16, hole 3: reward_many stopped at the first failing session. A session whose op is over
    its fork's daily budget now fails alone (the contract defers it in the batch, its adapter
    unconsumed), every other session of the batch is paid, and the failed one is paid, once,
    when rewarded again on another day."""
    from hanzo.chain import rewards as hook_module

    hook = hook_for()
    per_op, per_day = params.max_interactions_per_op, params.max_interactions_per_fork_day
    chain.pending_timestamp = (chain.pending_timestamp // 86_400 + 1) * 86_400 + 60  # early in a new day
    victim = fork_of(users[1])
    fill = [(hook.open_session(users[0].address, victim), secrets.token_bytes(32), 1, per_op, True)
            for _ in range(per_day // per_op)]  # another user's junk fills the others' budget of the fork
    hook.reward_many(fill)
    over = (hook.open_session(users[2].address, victim), secrets.token_bytes(32), 1, 5, False)
    own = (hook.open_session(users[1].address, victim), secrets.token_bytes(32), 2, 5, False)  # the owner: paid
    rest = [(hook.open_session(u.address, fork_of(u)), secrets.token_bytes(32), 1, 5, False) for u in users[2:5]]
    before = {u: suite.token.balanceOf(u) for u in users[1:5]}
    with pytest.raises(hook_module.BatchError, match="ForkDailyCapReached") as failed:
        hook.reward_many([rest[0], over, own] + rest[1:])
    error = failed.value
    assert set(error.failures) == {over[0]} and set(error.payouts) == {own[0]} | {r[0] for r in rest}
    assert suite.token.balanceOf(users[1]) - before[users[1]] == training_payout(params, 2, 5).paid
    for u in users[3:5]:
        assert suite.token.balanceOf(u) - before[u] == training_payout(params, 1, 5).paid
    assert not suite.rewards.adapterPaid(victim, over[1])
    chain.pending_timestamp += 86_400  # the next day: the same session is paid, once
    paid = hook_for().reward(*over)
    assert not paid.replayed and paid.interactions == 5
    assert hook_for().reward(*over).replayed


def test_the_fork_head_is_the_owners_last_paid_adapter_whatever_the_nft_records(suite, users, fork_of, hook_for):
    """Issue 15: the oracle continues a fork from the chain's record. Its owner's paid sessions move
    the head; a low-quality op, another user's paid session and a reset of the NFT do not."""
    owner, other = users[0], users[1]
    model = fork_of(owner)
    hook = hook_for()
    assert hook.fork_head(model) is None
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    hook.pay(owner.address, model, first, 2, 10, False)
    assert hook.fork_head(model) == first
    hook.pay(owner.address, model, second, 2, 10, False)
    hook.pay(owner.address, model, secrets.token_bytes(32), 1, 1, True)  # low quality
    hook.pay(other.address, model, secrets.token_bytes(32), 2, 10, False)  # someone else's session
    suite.models.updateAdapter(model, bytes(32), sender=owner)  # the NFT forgets its adapter
    assert hook.fork_head(model) == second
    assert hook_for("another store").fork_head(model) == second  # read from the chain, not the store
