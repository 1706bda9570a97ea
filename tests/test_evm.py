"""The embedded EVM (hanzo.chain.evm): the same suite as Ape's deployment, paying what the
reference model says, naming reverts, refusing replays. Real compiled contracts on revm."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hanzo.chain import evm
from hanzo.chain.audit import EXPECTED_ADDRESSES, EXPECTED_ROLES, EXPECTED_SETTINGS, audit_deployment, role_holders
from hanzo.chain.evm_audit import audit_embedded, role_members, role_names
from hanzo.econ.attest import Oracle, TrainingOp
from hanzo.econ.params import DAY, DEFAULT, WEI
from hanzo.econ.reference import training_payout

BASE_MODEL = 1


@pytest.fixture(scope="module")
def artifacts(project):
    return evm.Artifacts(project)


@pytest.fixture
def embedded(artifacts):
    """A fresh suite on a fresh embedded chain, handed over, for each test."""
    return evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts))


def labels_of(contracts, roles) -> dict[str, str]:
    """lower-case address -> how the audit tables name it (contract name or "@role")."""
    found = {c.address.lower() if hasattr(c, "address") else str(c).lower(): n for n, c in contracts.items()}
    for field in ("oracle", "registrar", "team_beneficiary", "model_developers", "sale_and_liquidity", "deployer"):
        found.setdefault(evm.address_of(getattr(roles, field)).lower(), "@" + field)
    found["0x0000000000000000000000000000000000000000"] = "anyone"
    return found


def test_embedded_deployment_equals_apes(suite, embedded):
    chain, d = embedded
    ape_labels, our_labels = labels_of(suite.contracts, suite.roles), labels_of(d.contracts, d.roles)
    token = d.token
    for view in ("totalSupply", "cap", "totalBurned"):
        assert chain.call(token, view) == getattr(suite.token, view)(), view
    # every genesis allocation, by name, on both chains
    assert [n for n, _, _ in d.genesis_allocations] == [n for n, _, _ in suite.genesis_allocations]
    for (name, ours, amount), (_, theirs, _) in zip(d.genesis_allocations, suite.genesis_allocations):
        assert chain.call(token, "balanceOf", ours) == suite.token.balanceOf(theirs) > 0, name
        assert our_labels.get(str(ours).lower()) == ape_labels.get(str(theirs).lower()), name
    for (name, getter, args), _ in EXPECTED_SETTINGS.items():
        assert chain.call(d.contracts[name], getter, *args) == getattr(suite.contracts[name], getter)(*args), getter
    for name, getter in EXPECTED_ADDRESSES:
        if getter not in suite.contracts[name].contract_type.view_methods:
            continue
        ours = our_labels[str(chain.call(d.contracts[name], getter)).lower()]
        assert ours == ape_labels[str(getattr(suite.contracts[name], getter)()).lower()], (name, getter)
    # every role's holders, named as the tables name them
    for name in EXPECTED_ROLES:
        contract = d.contracts[name]
        names = role_names(chain, contract)
        ours = {names[r]: {our_labels[a] for a in members} for r, members in
                role_members(chain, contract, d.block).items()}
        theirs = {r: {ape_labels[a.lower()] for a in members} for r, members in
                  role_holders(suite.contracts[name], suite.block).items()}
        assert ours == theirs, name
    assert audit_deployment(suite) == []
    assert audit_embedded(chain, d) == []


def test_audit_finds_the_deployer_before_handover(artifacts):
    chain, d = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts), handover=False)
    problems = audit_embedded(chain, d)
    assert "HanzoToken: DEFAULT_ADMIN_ROLE held by {the deployer}; expected exactly no one" in problems
    assert any(p.startswith("TrainingRewards: DEFAULT_ADMIN_ROLE held by") for p in problems)


class Trainer:
    """A fork owner and a user training on it, with the pool funded by a day of emission."""

    def __init__(self, chain, d):
        self.chain, self.d = chain, d
        self.owner, self.user, self.submitter = chain.accounts(3, label="trainer")
        chain.mine(DAY)
        chain.transact(d.emission, "release", sender=self.submitter)
        models, token = d.models, d.token
        chain.transact(models, "registerBaseModel", BASE_MODEL, 0, sender=d.roles.registrar)
        fee = chain.call(models, "mintFee", BASE_MODEL)
        chain.transact(token, "transfer", self.owner.address, fee, sender=d.roles.sale_and_liquidity)
        chain.transact(token, "approve", models.address, fee, sender=self.owner)
        self.fork = chain.transact(models, "mint", BASE_MODEL, secrets.token_bytes(32), fee, sender=self.owner).value
        self.oracle = Oracle(d.roles.oracle.private_key, chain.chain_id, d.rewards.address)

    def op(self, *, multiplier=3, interactions=100, low=False) -> TrainingOp:
        return TrainingOp(self.user.address, self.fork, secrets.token_bytes(32), multiplier, interactions, low,
                          secrets.randbits(64), self.chain.timestamp + 3600)

    def state(self) -> dict:
        c, d = self.chain, self.d
        return {"user": c.call(d.token, "balanceOf", self.user), "owner": c.call(d.token, "balanceOf", self.owner),
                "pool": c.call(d.token, "balanceOf", d.rewards), "supply": c.call(d.token, "totalSupply"),
                "burned": c.call(d.token, "totalBurned")}


def test_training_reward_equals_the_reference(embedded):
    chain, d = embedded
    t = Trainer(chain, d)
    assert t.state()["pool"] > 0, "a day of emission funds the pool"
    for multiplier, interactions, low in ((3, 100, False), (10, 1_000, False), (1, 7, True)):
        op = t.op(multiplier=multiplier, interactions=interactions, low=low)
        before = t.state()
        receipt = chain.transact(d.rewards, "rewardTraining", op.as_tuple(), t.oracle.sign(op), sender=t.submitter)
        after = t.state()
        want = training_payout(d.params, multiplier, interactions, low)
        assert receipt.success and receipt.value == (want.user, want.owner, want.burned)
        assert after["user"] - before["user"] == want.user
        assert after["owner"] - before["owner"] == want.owner
        assert after["burned"] - before["burned"] == want.burned == before["supply"] - after["supply"]
        assert before["pool"] - after["pool"] == want.user + want.owner + want.burned
        (recorded,) = receipt.events("TrainingRecorded")
        assert recorded.args["userPayout"] == want.user and recorded.args["owner"].lower() == t.owner.address.lower()
    assert want.burned > 0 and training_payout(d.params, 10, 1_000).user > 10 * WEI // 100


def test_a_revert_is_named_and_changes_nothing(embedded):
    chain, d = embedded
    t = Trainer(chain, d)
    op = t.op()
    forged = Oracle(t.user.private_key, chain.chain_id, d.rewards.address).sign(op)  # not the oracle's key
    before = t.state()
    with pytest.raises(evm.Reverted) as caught:
        chain.transact(d.rewards, "rewardTraining", op.as_tuple(), forged, sender=t.submitter)
    assert caught.value.error == "InvalidSigner"
    assert caught.value.error_args == (t.user.address.lower(),)
    receipt = chain.transact(d.rewards, "rewardTraining", op.as_tuple(), forged, sender=t.submitter, check=False)
    assert not receipt.success and receipt.error == "InvalidSigner" and receipt.logs == []
    # an error raised by another contract of the suite (the token, called by the one sent to)
    with pytest.raises(evm.Reverted, match="ERC20InsufficientBalance"):
        chain.transact(d.token, "transfer", t.owner.address, before["user"] + 1, sender=t.user)
    assert t.state() == before
    # the op itself was not consumed: signed by the oracle it is paid
    chain.transact(d.rewards, "rewardTraining", op.as_tuple(), t.oracle.sign(op), sender=t.submitter)
    assert t.state()["user"] - before["user"] == training_payout(d.params, op.multiplier, op.interactions).user


def test_a_retried_op_is_refused(embedded):
    chain, d = embedded
    t = Trainer(chain, d)
    op = t.op()
    signature = t.oracle.sign(op)
    chain.transact(d.rewards, "rewardTraining", op.as_tuple(), signature, sender=t.submitter)
    paid = t.state()
    with pytest.raises(evm.Reverted) as caught:
        chain.transact(d.rewards, "rewardTraining", op.as_tuple(), signature, sender=t.submitter)
    assert caught.value.error == "OpReplayed"
    # in a batch the replay is skipped (OpSkipped), not paid
    receipt = chain.transact(d.rewards, "rewardTrainingBatch", [op.as_tuple()], [signature], sender=t.submitter)
    assert [e.name for e in receipt.logs] == ["OpSkipped"] and receipt.value == (0, 0)
    assert t.state() == paid


def test_the_clock_is_the_chains(embedded):
    chain, d = embedded
    start = chain.call(d.emission, "start")
    assert start == chain.timestamp
    assert chain.call(d.emission, "released") == 0
    block = chain.block_number
    chain.mine(DAY, blocks=2)
    assert (chain.timestamp, chain.block_number) == (start + DAY, block + 2)
    t = Trainer(chain, d)  # mines a day more, then releases what is due two days after the start
    assert chain.call(d.emission, "released") == chain.call(d.emission, "emittedAt", start + 2 * DAY) > 0
    op = t.op()
    op = TrainingOp(op.user, op.modelId, op.adapterHash, 1, 1, False, 1, chain.timestamp - 1)  # expired
    with pytest.raises(evm.Reverted, match="OpExpired"):
        chain.transact(d.rewards, "rewardTraining", op.as_tuple(), t.oracle.sign(op), sender=t.submitter)
    with pytest.raises(evm.EVMError, match="before the current block"):
        chain.mine_until(chain.timestamp - 1)


def _a_day_of_everything(chain, d, users, day: int) -> list:
    """A day of the suite's traffic, the same on any chain: emission, payments, a fork, training in a
    batch, staking, a revert; returns what every call and transaction gave back."""
    out = []
    chain.mine(DAY)
    out.append(chain.transact(d.emission, "release", sender=users[0]).success)
    whale, oracle = d.roles.sale_and_liquidity, Oracle(d.roles.oracle.private_key, chain.chain_id, d.rewards.address)
    fee = chain.call(d.models, "mintFee", BASE_MODEL)
    owner = users[day % len(users)]
    chain.transact(d.token, "transfer", owner.address, fee + day * WEI, sender=whale)
    chain.transact(d.token, "approve", d.models.address, fee, sender=owner)
    fork = chain.transact(d.models, "mint", BASE_MODEL, bytes([day]) * 32, fee, sender=owner).value
    ops = [TrainingOp(u.address, fork, bytes([day, i]) * 16, 3, 100 + i, i == 2, 1000 * day + i, chain.timestamp + 3600)
           for i, u in enumerate(users)]
    receipt = chain.transact(d.rewards, "rewardTrainingBatch", [o.as_tuple() for o in ops],
                             [oracle.sign(o) for o in ops], sender=users[-1])
    out += [receipt.value, [e.name for e in receipt.logs]]
    for u in users:
        held = chain.call(d.token, "balanceOf", u)
        chain.transact(d.token, "approve", d.staked.address, held, sender=u)
        if held // 3:
            chain.transact(d.staked, "stake", held // 3, sender=u)
        out.append((held, chain.call(d.staked, "balanceOf", u)))
    failed = chain.transact(d.token, "transfer", whale, 10**30, sender=users[1], check=False)
    out.append((failed.success, failed.error))
    return out


def test_compaction_carries_the_whole_state_and_changes_no_later_outcome(artifacts):
    """pyrevm keeps revm's journal and logs from the first transaction (18 kB a chain-mode
    account-day: a 10,000-account year would need ~66 GB), so `mine` moves the state into a fresh
    revm past `compact_at` journal frames. Two chains run the same days, one compacting at every
    block: after each day every account's balance, nonce, code and storage slot are equal, every
    call and transaction gave the same results (reverts included), and the compacting one's journal
    holds a day, not the run."""
    plain = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts, keep_logs=False, compact_at=None))
    compacting = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts, keep_logs=False, compact_at=1))
    for chain, d in (plain, compacting):
        chain.transact(d.models, "registerBaseModel", BASE_MODEL, 0, sender=d.roles.registrar)
    users = {id(c): c.accounts(4, label="compaction") for c, _ in (plain, compacting)}
    for day in range(1, 5):
        results = [_a_day_of_everything(c, d, users[id(c)], day) for c, d in (plain, compacting)]
        assert results[0] == results[1], day
        state = plain[0].state()
        assert compacting[0].state() == state, day
        assert len(state) > 20 and sum(len(slots) for *_, slots in state.values()) > 100
    assert compacting[0].compactions == 4 and plain[0].compactions == 0
    assert (compacting[0].block_number, compacting[0].timestamp) == (plain[0].block_number, plain[0].timestamp)
    assert compacting[0].evm.journal_len < plain[0].evm.journal_len // 3
    with pytest.raises(evm.EVMError, match="compact_at: expected a positive number"):
        evm.EmbeddedChain(compact_at=0)


def test_compaction_carries_a_cleared_slot_and_a_checked_compaction_reads_the_state_back(artifacts):
    """`mine`'s compaction writes only what changed since the last one into revm's database, which keeps
    every slot written before: a slot cleared after a compaction wrote it (an allowance set, compacted,
    cleared, compacted) must read zero afterwards, not the value the database held. A direct `compact()`
    moves the whole state into a fresh revm and reads it back, and what follows runs on it."""
    chain, d = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts, keep_logs=False, compact_at=1))
    owner, spender = chain.accounts(2, label="cleared")
    chain.transact(d.token, "approve", spender.address, 5, sender=owner)
    chain.mine(1)
    chain.transact(d.token, "approve", spender.address, 0, sender=owner)
    chain.mine(1)
    assert chain.compactions == 2 and chain.call(d.token, "allowance", owner, spender) == 0
    chain.transact(d.token, "approve", spender.address, 7, sender=owner)
    before = chain.state()
    chain.compact()
    assert chain.compactions == 3 and chain.state() == before
    assert chain.call(d.token, "allowance", owner, spender) == 7
    chain.transact(d.token, "approve", spender.address, 0, sender=owner)
    chain.mine(1)
    assert chain.call(d.token, "allowance", owner, spender) == 0


def test_compaction_writes_contract_code_back_analysed(artifacts):
    """revm analyses a contract's code (its jump table) when it creates it, and again at every call frame
    for code it holds raw (pyrevm's AccountInfo(code=...) is raw): a compaction writes revm's own analysed
    code back, so that a contract called after one runs without that cost (a transfer took 15-17 µs after
    a compaction that wrote raw code, 12-13 before)."""
    chain, d = evm.deploy_suite(DEFAULT, chain=evm.EmbeddedChain(artifacts=artifacts, keep_logs=False, compact_at=1))
    user = chain.accounts(1, label="analysed")[0]
    for compact in (lambda: chain.mine(1), chain.compact):
        compact()
        chain.transact(d.token, "transfer", user.address, 1, sender=d.roles.sale_and_liquidity)  # loads the token
        text = chain.evm.journal_str
        state = text[:text.index(", transient_storage: ")]
        assert d.token.address.lower() in state and "state: Analysed" in state and "state: Raw" not in state


def test_bad_input_names_what_is_wrong(embedded):
    chain, d = embedded
    with pytest.raises(evm.EVMError, match=r"HanzoToken.transfer\(address,uint256\): expected 2 arguments, got 1"):
        chain.transact(d.token, "transfer", 5, sender=d.roles.deployer)
    with pytest.raises(evm.EVMError, match=r"argument 1 is not of type uint256: 'lots'"):
        chain.transact(d.token, "transfer", d.roles.deployer.address, "lots", sender=d.roles.deployer)
    with pytest.raises(evm.EVMError, match="HanzoToken has no function 'transferAll'"):
        chain.call(d.token, "transferAll")
    with pytest.raises(evm.EVMError, match="Genesis constructor: expected 4 arguments"):
        chain.deploy("Genesis", d.token.address, sender=d.roles.deployer)
    # out of gas halts (and changes nothing); below the intrinsic gas revm refuses to run it
    supply = chain.call(d.token, "totalSupply")
    with pytest.raises(evm.Reverted, match="halt: OutOfGas"):
        chain.transact(d.emission, "release", sender=d.roles.deployer, gas=22_000)
    with pytest.raises(evm.EVMError, match="revm refused it"):
        chain.transact(d.emission, "release", sender=d.roles.deployer, gas=1_000)
    assert chain.call(d.token, "totalSupply") == supply


WORD_TYPES = ("uint256", "address", "bool", "bytes32")
OP_TUPLE = "(address,uint256,bytes32,uint256,uint256,bool,uint256,uint256)"  # a training op, as the batches send
PACKED_TYPES = WORD_TYPES + tuple(f"{t}[]" for t in WORD_TYPES) + ("bytes", "bytes[]", f"{OP_TUPLE}[]",
                                                                     "(uint256,bool)[]")
_word = st.one_of(st.integers(-1, 2**256), st.booleans(), st.binary(min_size=0, max_size=33),
                  st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
                  st.sampled_from(["0x12", "", "0x" + "zz" * 20]))
_blob = st.one_of(st.binary(max_size=100), st.binary(max_size=40).map(bytearray), _word)


_VALID_WORD = {"uint256": st.integers(0, 2**256 - 1), "bool": st.booleans(),
               "address": st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()),
               "bytes32": st.binary(min_size=32, max_size=32)}


def _value(t: str, valid: bool):
    """Values for ABI type `t`: valid ones, or (not `valid`) mostly valid with some of a wrong type,
    length or size anywhere inside."""
    if t in WORD_TYPES:
        return _VALID_WORD[t] if valid else st.one_of(_VALID_WORD[t], _word)
    if t == "bytes":
        return st.binary(max_size=100) if valid else _blob
    if t.endswith("[]"):
        if not t.startswith("("):
            element = _value(t[:-2], valid)
        else:  # a tuple: its fields' values, or a sequence of the wrong length
            fields = st.tuples(*(_value(f, valid) for f in t[1:-3].split(",")))
            element = fields if valid else st.one_of(fields, fields.map(list),
                                                     st.lists(_word, max_size=len(t.split(",")) + 1).map(tuple))
        good = st.lists(element, max_size=4)
        return st.one_of(good, good.map(tuple)) if valid else st.one_of(good, _word)
    raise AssertionError(t)


@settings(max_examples=500, deadline=None)
@given(types=st.lists(st.sampled_from(PACKED_TYPES), min_size=1, max_size=5), data=st.data())
def test_the_packed_calldata_of_words_bytes_and_arrays_of_them_is_eth_abis_for_any_arguments(types, data):
    """Functions whose arguments are words, `bytes`, or arrays of words, of tuples of words or of
    `bytes` (the market maker's batches, the training batches' ops and signatures) are packed without
    eth_abi (most of a bulk run's encoding time): for any arguments, valid or not, the bytes are
    eth_abi's, or both refuse them."""
    fn = evm.Function("T", {"name": "f", "inputs": [_abi_param(t) for t in types]})
    assert fn._words is not None  # the packer takes every one of these types
    valid = data.draw(st.booleans())
    args = tuple(data.draw(_value(t, valid)) for t in types)
    try:
        expected = fn.selector + fn._encode(args)
    except Exception:  # noqa: BLE001 - eth_abi refuses it: so must the packed path (naming the argument)
        event("refused")
        assert not valid
        with pytest.raises(evm.EVMError, match="is not of type"):
            fn.encode(args)
        return
    event("encoded")
    assert fn.encode(args) == expected


def _abi_param(t: str) -> dict:
    """An ABI parameter entry for type `t`, a tuple's components spelled out as solc writes them."""
    if t.startswith("("):
        fields = t[1:t.index(")")].split(",")
        return {"type": "tuple" + t[t.index(")") + 1:], "components": [{"type": f, "name": f"f{i}"}
                                                                        for i, f in enumerate(fields)]}
    return {"type": t}
