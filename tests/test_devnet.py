"""The fast oracle signer (hanzo.econ.attest) and the batched anvil driver (hanzo.chain.devnet),
issue 18: signatures byte-identical to eth_account's and accepted by the contract on the embedded
EVM, Ape's chain and anvil; a batch of training ops on anvil pays what the reference model pays; a
revert in a batch is named by its custom error and loses none of the others; a refused transaction
and a node killed mid-run are errors naming every transaction not confirmed.

The anvil tests start anvils of their own (hanzo.chain.devnet.Anvil, npm's binary, as
tests/test_reward_hook.py does), so they never share a node with another test.
"""

from __future__ import annotations

import dataclasses
import random
import secrets

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data

from hanzo.chain import devnet as dn
from hanzo.chain import evm
from hanzo.econ.attest import Oracle, TrainingOp, op_digest, sign_training_op, typed_data
from hanzo.econ.params import DAY, DEFAULT, WEI
from hanzo.econ.reference import training_payout

BASE_MODEL = 1
EDGES = (0, 1, 2**255, 2**256 - 1)


def random_op(rng: random.Random) -> TrainingOp:
    """Any op the ABI can carry: every uint field drawn over its whole range, edges included."""

    def uint() -> int:
        return rng.choice(EDGES) if rng.random() < 0.2 else rng.randrange(2 ** rng.choice((8, 64, 256)))

    user = "0x" + rng.randbytes(20).hex()
    user = rng.choice((user, user.upper().replace("0X", "0x"), Account.create().address))
    return TrainingOp(user, uint(), rng.randbytes(32), uint(), uint(), rng.random() < 0.5, uint(), uint())


def reference_signature(key: bytes, op: TrainingOp, chain_id: int, contract: str) -> bytes:
    """eth_account's typed-data signature: what attest.py computed before it signed directly."""
    typed = encode_typed_data(full_message=typed_data(op, chain_id, contract))
    return bytes(Account.sign_message(typed, key).signature)


# ---------------------------------------------------------------------------------------- the signer


def test_the_fast_signer_gives_eth_accounts_bytes_for_any_op():
    rng = random.Random(18)
    for _ in range(200):
        key = rng.randbytes(32)
        chain_id, contract = rng.choice((1, 1337, 31337, 2**64 + 5)), Account.create().address
        op = random_op(rng)
        want = reference_signature(key, op, chain_id, contract)
        assert Oracle(key, chain_id, contract).sign(op) == want, op
        assert sign_training_op("0x" + key.hex(), op, chain_id, contract) == want
        typed = encode_typed_data(full_message=typed_data(op, chain_id, contract))
        assert op_digest(op, chain_id, contract) == bytes(_hash_eip191_message(typed))
    assert Oracle(key, 1, contract).address == Account.from_key(key).address


@pytest.mark.parametrize("field, value, named", [
    ("user", "0x" + "ab" * 19, "user: expected an address"),
    ("modelId", True, "modelId: expected an integer"),
    ("nonce", 1.0, "nonce: expected an integer"),
    ("deadline", 2**256, "deadline: expected 0 <= value < 2**256"),
    ("multiplier", -1, "multiplier: expected 0 <= value < 2**256"),
    ("adapterHash", b"\x01" * 31, "adapterHash: expected 32 bytes"),
    ("lowQuality", "yes", "lowQuality: expected a bool"),
])
def test_a_field_of_the_wrong_type_is_named(field, value, named):
    op = dataclasses.replace(random_op(random.Random(1)), **{field: value})
    with pytest.raises(ValueError, match=named.replace("*", r"\*")):
        Oracle(b"\x07" * 32, 1337, "0x" + "cd" * 20).sign(op)


def test_the_embedded_evm_pays_fast_signed_ops(project):
    chain, d = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=evm.Artifacts(project)))
    owner, user, submitter = chain.accounts(3, label="devnet-test")
    chain.mine(DAY)
    chain.transact(d.emission, "release", sender=submitter)
    chain.transact(d.models, "registerBaseModel", BASE_MODEL, 0, sender=d.roles.registrar)
    fee = chain.call(d.models, "mintFee", BASE_MODEL)
    chain.transact(d.token, "transfer", owner.address, fee, sender=d.roles.sale_and_liquidity)
    chain.transact(d.token, "approve", d.models.address, fee, sender=owner)
    fork = chain.transact(d.models, "mint", BASE_MODEL, secrets.token_bytes(32), fee, sender=owner).value
    oracle = Oracle(d.roles.oracle.private_key, chain.chain_id, d.rewards.address)
    ops = [TrainingOp(user.address, fork, secrets.token_bytes(32), 1 + i % 10, 1 + i, i % 3 == 0, 2**256 - 1 - i,
                      chain.timestamp + 60) for i in range(20)]
    assert all(chain.call(d.rewards, "hashOp", op.as_tuple()) == op_digest(op, chain.chain_id, d.rewards.address)
               for op in ops)
    before = chain.call(d.token, "balanceOf", user)
    receipt = chain.transact(d.rewards, "rewardTrainingBatch", [o.as_tuple() for o in ops],
                             [oracle.sign(o) for o in ops], sender=submitter)
    assert len(receipt.events("TrainingRecorded")) == len(ops) and not receipt.events("OpSkipped")
    paid = sum(training_payout(DEFAULT, o.multiplier, o.interactions, o.lowQuality).user for o in ops)
    assert chain.call(d.token, "balanceOf", user) - before == paid


def test_apes_chain_pays_fast_signed_ops(suite, users, fork_of, oracle, chain, released, params):
    released(DAY)
    model = fork_of(users[1])
    signer = Oracle(oracle.private_key, chain.chain_id, suite.rewards.address)
    ops = [TrainingOp(users[0].address, model, secrets.token_bytes(32), 1 + i % 10, 1 + 3 * i, i % 4 == 0, i,
                      chain.pending_timestamp + 600) for i in range(8)]
    rng = random.Random(5)
    for op in ops[:3] + [dataclasses.replace(random_op(rng), user=users[0].address) for _ in range(3)]:
        assert bytes(suite.rewards.hashOp(op.as_tuple())) == op_digest(op, chain.chain_id, suite.rewards.address)
    before = suite.token.balanceOf(users[0])
    receipt = suite.rewards.rewardTrainingBatch([o.as_tuple() for o in ops], [signer.sign(o) for o in ops],
                                                sender=users[2])
    assert len(receipt.decode_logs(suite.rewards.TrainingRecorded)) == len(ops)
    paid = sum(training_payout(params, o.multiplier, o.interactions, o.lowQuality).user for o in ops)
    assert suite.token.balanceOf(users[0]) - before == paid


# ---------------------------------------------------------------------------------------- raw transactions


def test_raw_transactions_are_eth_accounts_bytes():
    rng = random.Random(7)
    for size in (0, 1, 55, 56, 300, 70_000):  # RLP's short and long forms on both sides of each bound
        for _ in range(5):
            key = rng.randbytes(32)
            tx = {"nonce": rng.choice((0, 1, 127, 128, 2**40)), "gasPrice": rng.choice((0, 1, 10**9, 2**70)),
                  "gas": rng.choice((21_000, 8_000_000)), "value": rng.choice((0, 1, 10**18)),
                  "data": bytes([rng.choice((0, 1, 0x7F, 0x80, 0xFF))]) * size if size == 1 else rng.randbytes(size),
                  "chainId": rng.choice((1, 1337, 31337))}
            to = rng.choice((None, Account.create().address))
            if to:
                tx["to"] = to
            want = Account.sign_transaction(tx, key)
            raw, tx_hash = dn.Wallet(key, tx["nonce"]).sign(tx["chainId"], tx["nonce"], tx["gasPrice"], tx["gas"], to,
                                                            tx["value"], tx["data"])
            assert raw == bytes(want.raw_transaction), tx
            assert tx_hash == "0x" + bytes(want.hash).hex()


# ---------------------------------------------------------------------------------------- anvil


class Suite:
    """The suite on an anvil of its own, deployed by the shared plan through the devnet driver, a
    day of emission released and one fork minted."""

    def __init__(self, project):
        self.node = dn.Anvil()
        self.net = dn.Devnet(self.node.url, node=self.node, artifacts=evm.Artifacts(project))
        self.d = d = dn.deploy_suite(self.net, DEFAULT, evm.default_roles())
        self.owner, self.user, self.submitter = (evm.derived_account(f"devnet/{who}") for who in
                                                 ("owner", "user", "submitter"))
        net = self.net
        net.transact(d.emission, "release", sender=d.roles.deployer, timestamp=net.call(d.emission, "start") + DAY)
        net.transact(d.models, "registerBaseModel", BASE_MODEL, 0, sender=d.roles.registrar)
        fee = net.call(d.models, "mintFee", BASE_MODEL)
        whale = evm.derived_account("sale_and_liquidity")  # evm.default_roles' holder of the Liquidity allocation
        net.transact(d.token, "transfer", self.owner.address, fee + 5 * WEI, sender=whale)
        net.transact(d.token, "approve", d.models.address, fee, sender=self.owner)
        net.transact(d.models, "mint", BASE_MODEL, secrets.token_bytes(32), fee, sender=self.owner)
        self.fork = net.call(d.models, "totalForks")
        self.oracle = Oracle(d.roles.oracle.private_key, net.chain_id, d.rewards.address)

    def op(self, i: int) -> TrainingOp:
        return TrainingOp(self.user.address, self.fork, secrets.token_bytes(32), 1 + i % 10, 10 + 7 * i, i % 5 == 4,
                          i, self.net.timestamp + DAY)

    def balances(self) -> dict:
        net, token = self.net, self.d.token
        return {"user": net.call(token, "balanceOf", self.user.address),
                "owner": net.call(token, "balanceOf", self.owner.address),
                "pool": net.call(token, "balanceOf", self.d.rewards.address),
                "supply": net.call(token, "totalSupply")}


@pytest.fixture
def anvil_suite(project):
    s = Suite(project)
    try:
        yield s
    finally:
        s.node.stop()


def test_a_batched_day_pays_the_reference_and_names_a_revert_without_losing_the_others(anvil_suite):
    s, net, d = anvil_suite, anvil_suite.net, anvil_suite.d
    before = s.balances()
    ops = [s.op(i) for i in range(30)]
    sigs = [s.oracle.sign(o) for o in ops]
    submitter, owner = net.wallet(s.submitter), net.wallet(s.owner)
    batch, single = d.rewards.function("rewardTrainingBatch"), d.rewards.function("rewardTraining")
    transfer = d.token.function("transfer")
    # one day: two batches, ops one at a time, a replay of a paid op (OpReplayed, from TrainingRewards)
    # and a transfer beyond the owner's balance (ERC20InsufficientBalance, from the token it calls)
    sent = [net.send(submitter, d.rewards.address, batch.encode(([o.as_tuple() for o in ops[:10]], sigs[:10])),
                     gas=8_000_000, label="batch 1")]
    sent += [net.send(submitter, d.rewards.address, single.encode((o.as_tuple(), sg)), gas=1_000_000, label=f"op {i}")
             for i, (o, sg) in enumerate(zip(ops[10:20], sigs[10:20]), start=10)]
    sent.append(net.send(submitter, d.rewards.address, single.encode((ops[3].as_tuple(), sigs[3])), gas=1_000_000,
                         label="replay of op 3"))
    sent.append(net.send(owner, d.token.address, transfer.encode((s.user.address, 10**30)), gas=100_000,
                         label="overdraft"))
    sent.append(net.send(submitter, d.rewards.address, batch.encode(([o.as_tuple() for o in ops[20:]], sigs[20:])),
                         gas=8_000_000, label="batch 2"))
    block = net.block_number + 1
    outcomes = net.mine(check=False)

    assert [o.hash for o in outcomes] == [x.hash for x in sent], "every transaction comes back, in the order sent"
    assert {o.block for o in outcomes} == {block}, "one block for the day"
    errors = {o.label: o.error for o in outcomes if not o.ok}
    assert errors == {"replay of op 3": "OpReplayed", "overdraft": "ERC20InsufficientBalance"}
    want = [training_payout(DEFAULT, o.multiplier, o.interactions, o.lowQuality) for o in ops]
    after = s.balances()
    assert after["user"] - before["user"] == sum(w.user for w in want)
    assert after["owner"] - before["owner"] == sum(w.owner for w in want)
    assert before["supply"] - after["supply"] == sum(w.burned for w in want)
    assert before["pool"] - after["pool"] == sum(w.user + w.owner + w.burned for w in want)

    # with check (the default) the same kind of day raises, naming the revert, every outcome kept
    net.send(submitter, d.rewards.address, single.encode((ops[0].as_tuple(), sigs[0])), gas=1_000_000,
             label="replay of op 0")
    fresh = s.op(99)
    net.send(submitter, d.rewards.address, single.encode((fresh.as_tuple(), s.oracle.sign(fresh))), gas=1_000_000,
             label="op 99")
    with pytest.raises(dn.DevnetReverted, match=r"1 of 2 transactions reverted: replay of op 0 \(0x[0-9a-f]{64}\): "
                                                r"OpReplayed") as caught:
        net.mine()
    assert [(o.label, o.error) for o in caught.value.outcomes] == [("replay of op 0", "OpReplayed"), ("op 99", None)]
    assert s.balances()["user"] - after["user"] == training_payout(DEFAULT, fresh.multiplier, fresh.interactions,
                                                                   fresh.lowQuality).user


def test_a_refused_transaction_is_named_and_the_ones_behind_its_nonce_are_dropped(anvil_suite):
    s, net, d = anvil_suite, anvil_suite.net, anvil_suite.d
    poor, owner = net.wallet(evm.derived_account("devnet/no-ether"), nonce=0), net.wallet(s.owner)
    transfer = d.token.function("transfer")
    ok = net.send(owner, d.token.address, transfer.encode((s.user.address, WEI)), gas=100_000, label="paid")
    refused = net.send(poor, s.user.address, value=10**18, gas=21_000, label="ether it does not have")
    behind = net.send(poor, s.user.address, gas=21_000, label="behind the refused nonce")
    with pytest.raises(dn.DevnetError) as caught:
        net.mine()
    message = str(caught.value)
    assert "2 transactions not confirmed (1 others mined)" in message
    assert f"ether it does not have ({poor.address} nonce 0, {refused.hash}): " in message
    assert "insufficient funds" in message.lower()
    assert "1 not mined (behind a refused nonce; dropped from the pool): behind the refused nonce" in message
    assert caught.value.unconfirmed == [refused, behind]
    assert [(o.hash, o.ok) for o in caught.value.outcomes] == [(ok.hash, True)]
    # the dropped transaction cannot come back: the sender's nonce is read again and its next
    # transaction takes nonce 0, alone
    assert poor.nonce == 0
    again = net.send(poor, s.user.address, gas=21_000, label="again")
    assert [o.hash for o in net.mine()] == [again.hash]
    assert int(net.rpc("eth_getTransactionCount", poor.address, "latest"), 16) == 1
    assert net.rpc("eth_getTransactionByHash", behind.hash) is None


def test_a_node_killed_mid_run_names_every_transaction_not_confirmed(project):
    with dn.Anvil() as node:
        net = dn.Devnet(node.url, node=node, artifacts=evm.Artifacts(project))
        payer = net.wallet(evm.account_from_key(bytes.fromhex(  # anvil's first test account (it has ether)
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")))
        to = evm.derived_account("devnet/payee").address
        first = [net.send(payer, to, value=i + 1, gas=21_000, label=f"day 1 payment {i}") for i in range(3)]
        assert [o.hash for o in net.mine()] == [t.hash for t in first]
        posted = [net.send(payer, to, value=1, gas=21_000, label=f"day 2 payment {i}") for i in range(12)]
        net.flush()
        node.process.kill()
        node.process.wait()
        queued = [net.send(payer, to, value=1, gas=21_000, label=f"day 2 late payment {i}") for i in range(2)]
        with pytest.raises(dn.DevnetError) as caught:
            net.mine()
    message = str(caught.value)
    # mine posts the two queued first: that is the request the dead node does not answer
    assert f"the node at {node.url} stopped answering during sending 2 transactions (anvil exited with code -9)" \
        in message
    assert "14 transactions signed and not confirmed: day 2 payment 0 (" in message
    assert "; and 6 more" in message
    assert caught.value.unconfirmed == posted + queued
    assert not any(t.hash in message for t in first)


def test_a_day_larger_than_a_block_is_mined_in_blocks_a_second_apart_and_every_receipt_read(project):
    with dn.Anvil() as node:
        net = dn.Devnet(node.url, node=node, artifacts=evm.Artifacts(project), block_txs=4)
        payers = [net.wallet(evm.derived_account(f"devnet/payer/{i}"), nonce=0) for i in range(3)]
        to = evm.derived_account("devnet/payee").address
        sent = [net.send(payers[i % 3], to, gas=21_000, label=f"payment {i}") for i in range(10)]
        day, first = net.timestamp + 86_400, net.block_number + 1
        outcomes = net.mine(day)
        assert [o.hash for o in outcomes] == [s.hash for s in sent]
        assert [o.block for o in outcomes] == [first] * 4 + [first + 1] * 4 + [first + 2] * 2
        stamps = [int(net.rpc("eth_getBlockByNumber", hex(first + k), False)["timestamp"], 16) for k in range(3)]
        assert stamps == [day, day + 1, day + 2] and net.timestamp == day + 2
        assert [int(net.rpc("eth_getTransactionCount", p.address, "latest"), 16) for p in payers] == [4, 3, 3]
        with pytest.raises(dn.DevnetError, match="block_txs: expected at least 1 transaction a block, got 0"):
            dn.Devnet(node.url, block_txs=0)
