"""The hook: a judged training session becomes an on-chain reward, paid exactly once per session.

A session gets an id and an op nonce *before* training (`open_session`), from a durable store
(SQLite, one writer at a time across processes), so two workers never sign the same nonce. The
contract consumes the nonce, so a session can be paid at most once, and the hook treats every
state it can find itself in as known, whatever crashed or was lost:

- the store says paid: the payout is reported again (`replayed`);
- the op's nonce is already used on chain: the TrainingRecorded event with that (user, nonce)
  is ours only if it carries our adapter hash; then it is our payment. If another adapter
  took the nonce (a second worker with a lost or restored store), our session was not paid:
  it gets a fresh nonce and is signed again;
- the store was lost: before signing, the chain's ledger is searched for this user's fork and
  adapter; an adapter already paid is never signed again;
- a transaction the node already knows, a submitter nonce already used, or a receipt that did
  not arrive in time: the transaction hash is computed from the signed bytes and looked up on
  the next call; nothing is sent twice without first checking the op's nonce on chain.

It needs only web3 and two keys: the `Oracle`'s, which signs ops (EIP-712: chain id, contract,
nonce, deadline), and the submitter's, which pays gas. Nothing from the trainer but bytes and a
verdict.

Throughput: `reward_many` pays many sessions in one `rewardTrainingBatch` transaction (a used
nonce in a batch is skipped by the contract, never paid twice); the chain id is read once, the
gas price at most every `gas_price_ttl_s`, the submitter.s transaction nonce is kept locally
(pipelined, re-read when the node says it is stale), and receipts are polled every 10 ms: all of it
in `hanzo.chain.tx`, which the simulator.s chain mode sends through too.
`rpc_calls` counts the node calls made (benchmarks/hllm.py reports them per op).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from hanzo.econ.attest import Oracle, TrainingOp

from .tx import Node, Sender, TxError, error_selectors, revert_name


class RewardError(TxError):
    """The reward could not be paid; the message names the contract's error or the node's."""


class Crash(RewardError):
    """A simulated crash at a named step (tests)."""


@dataclass(frozen=True)
class Payout:
    user: str
    model_id: int
    nonce: int
    multiplier: int
    interactions: int
    low_quality: bool
    user_payout: int
    owner_payout: int
    burned: int
    owner: str
    tx_hash: str
    block: int
    replayed: bool  # True: this call found the session already paid and reports that payment
    session: str = ""


class SessionStore:
    """Sessions and their op nonces, durable and shared by every worker (SQLite, WAL). A nonce is
    allocated inside an exclusive transaction, so two workers on one store never share one."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # one connection per store object (per worker); a worker may run in another thread than
        # the one that built it, and SQLite's own locking serialises the workers
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("""CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY, user TEXT NOT NULL, fork INTEGER NOT NULL, nonce INTEGER NOT NULL,
            state TEXT NOT NULL, adapter TEXT, op TEXT, signature TEXT, tx_hash TEXT, payout TEXT,
            UNIQUE (user, nonce))""")

    def allocate(self, user: str, fork: int, floor: int, session: str | None = None) -> tuple[str, int]:
        """A new session (or `session` moved to a new nonce) with the user's next nonce >= floor."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            top = self.db.execute("SELECT MAX(nonce) FROM sessions WHERE user = ?", (user,)).fetchone()[0]
            nonce = max(floor, -1 if top is None else top + 1)
            if session is None:
                session = uuid.uuid4().hex
                self.db.execute("INSERT INTO sessions (id, user, fork, nonce, state) VALUES (?, ?, ?, ?, 'open')",
                                (session, user, fork, nonce))
            else:
                self.db.execute("UPDATE sessions SET nonce = ?, state = 'open', op = NULL, signature = NULL, "
                                "tx_hash = NULL WHERE id = ?", (nonce, session))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return session, nonce

    def get(self, session: str) -> dict:
        cur = self.db.execute("SELECT * FROM sessions WHERE id = ?", (session,))
        row = cur.fetchone()
        if row is None:
            raise RewardError(f"session {session!r}: unknown to this store (open it with open_session first)")
        return dict(zip([c[0] for c in cur.description], row))

    def update(self, session: str, **fields) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(f"UPDATE sessions SET {sets} WHERE id = ?", (*fields.values(), session))


def _entry(log) -> tuple[dict, bytes, int]:
    """A TrainingRecorded event (from a log query or a receipt) as (args, tx hash, block)."""
    args = {**dict(log["args"]), "adapterHash": bytes(log["args"]["adapterHash"])}
    return args, log["transactionHash"], log["blockNumber"]


class RewardHook:
    def __init__(self, web3, rewards_address: str, rewards_abi: list, oracle: Oracle, submitter_key: str,
                 store: Path, *, deployment_block: int = 0, retries: int = 4, backoff_s: float = 0.5,
                 deadline_s: int = 3600, receipt_timeout_s: float = 120):
        from eth_account import Account

        self.w3 = web3
        self.contract = web3.eth.contract(address=rewards_address, abi=rewards_abi)
        if oracle.contract.lower() != str(rewards_address).lower():
            raise RewardError(f"the oracle signs for {oracle.contract}, not this TrainingRewards ({rewards_address})")
        self.oracle = oracle
        self.node = Node(web3, retries=retries, backoff_s=backoff_s, error=RewardError)
        self.submitter = Sender(self.node, Account.from_key(submitter_key))
        path = Path(store)
        self.store = SessionStore(path / "sessions.sqlite" if path.suffix == "" else path)
        self.deployment_block = deployment_block
        self.deadline_s = deadline_s
        self.receipt_timeout_s = receipt_timeout_s
        self.crash_at: str | None = None  # tests: raise Crash at this step
        # with the errors that bubble up from the contracts TrainingRewards calls
        self.errors = error_selectors(rewards_abi, "UnknownModel(uint256)",
                                      "ERC20InsufficientBalance(address,uint256,uint256)",
                                      "AdapterAlreadyRecorded(uint256,bytes32)")

    @property
    def rpc_calls(self) -> int:
        """Node calls made so far (benchmarks/hllm.py reports them per op)."""
        return self.node.rpc_calls

    # ------------------------------------------------------------------ the entry points

    def open_session(self, user: str, model_id: int) -> str:
        """Give a training session its id and op nonce, before training; returns the id."""
        from eth_utils import to_checksum_address

        user = to_checksum_address(user)
        top = self.store.db.execute("SELECT MAX(nonce) FROM sessions WHERE user = ?", (user,)).fetchone()[0]
        if top is None:  # a user this store has not seen (or a lost store): start past what the chain used
            used = self._ledger([user])[0]
            floor = 1 + max((n for (u, n) in used if u == user.lower()), default=-1)
        else:
            floor = top + 1  # _prepare still checks the chain before any op is sent
        session, _ = self.store.allocate(user, model_id, floor)
        return session

    def reward(self, session: str, adapter_hash: bytes, multiplier: int, interactions: int,
               low_quality: bool) -> Payout:
        """Pay the session's op, or report its payment if it was made: any number of calls, after
        any crash, pay it once."""
        if len(adapter_hash) != 32:
            raise ValueError(f"adapter_hash: expected 32 bytes, got {len(adapter_hash)}")
        if not 1 <= multiplier <= 10:
            raise ValueError(f"multiplier: expected 1..10, got {multiplier}")
        if interactions < 1:
            raise ValueError(f"interactions: expected at least 1, got {interactions}")
        prepared = self._prepare(session, adapter_hash, multiplier, interactions, low_quality,
                                 self._ledger([self.store.get(session)["user"]]))
        if isinstance(prepared, Payout):
            return prepared
        op = prepared
        signature = bytes.fromhex(self.store.get(session)["signature"])
        self._simulate(op, signature)
        tx_hash = self._send(self.contract.functions.rewardTraining(op.as_tuple(), signature), [session])
        self._step("sent")
        return self._settle(session, op, adapter_hash, tx_hash)

    def reward_many(self, items: list[tuple[str, bytes, int, int, bool]]) -> list[Payout]:
        """reward() for many sessions, (session, adapter_hash, multiplier, interactions, low_quality)
        each, in one rewardTrainingBatch transaction. If the batch would revert (one op invalid),
        each session is paid alone, so the invalid one is named and the others are paid."""
        out: dict[str, Payout] = {}
        pending: list[tuple[str, TrainingOp, bytes, bytes]] = []
        ledger = self._ledger(sorted({self.store.get(s)["user"] for s, *_ in items}))  # one query for the batch
        for session, adapter_hash, multiplier, interactions, low_quality in items:
            prepared = self._prepare(session, adapter_hash, multiplier, interactions, low_quality, ledger)
            if isinstance(prepared, Payout):
                out[session] = prepared
            else:
                pending.append((session, prepared, adapter_hash, bytes.fromhex(self.store.get(session)["signature"])))
        if pending:
            call = self.contract.functions.rewardTrainingBatch([op.as_tuple() for _, op, _, _ in pending],
                                                               [sig for *_, sig in pending])
            try:
                self._call(lambda: call.call({"from": self.submitter.address}))
            except RewardError:
                raise
            except Exception:  # noqa: BLE001 - a revert: pay one by one and name the bad op
                for session, adapter_hash, multiplier, interactions, low_quality in items:
                    if session not in out:
                        out[session] = self.reward(session, adapter_hash, multiplier, interactions, low_quality)
                return [out[s] for s, *_ in items]
            tx_hash = self._send(call, [s for s, *_ in pending])
            self._step("sent")
            receipt = self._receipt(tx_hash, wait=True)
            events = self._events(receipt) if receipt is not None and receipt["status"] == 1 else {}
            for session, op, adapter_hash, _ in pending:
                found = self._ours(events, op, adapter_hash)
                if found is not None:
                    out[session] = self._paid(session, found, replayed=False)
                else:  # skipped in the batch, or the batch failed: the session's own path decides
                    out[session] = self._settle(session, op, adapter_hash, tx_hash)
        return [out[s] for s, *_ in items]

    def _prepare(self, session: str, adapter_hash: bytes, multiplier: int, interactions: int,
                 low_quality: bool, ledger: tuple[dict, dict]) -> "TrainingOp | Payout":
        """Everything before sending: the session's payout if it is already paid (or found on the
        ledger), else its signed op, on a nonce no other adapter has used. `ledger` is the chain's
        record for the session's user (`_ledger`): a nonce is used exactly when an event names it."""
        by_nonce, by_adapter = ledger
        s = self.store.get(session)
        if s["adapter"] is not None and s["adapter"] != adapter_hash.hex():
            raise RewardError(f"session {session}: already bound to adapter {s['adapter'][:16]}…, not "
                              f"{adapter_hash.hex()[:16]}… (a new adapter is a new session)")
        if s["state"] == "paid":
            return Payout(**{**json.loads(s["payout"]), "replayed": True})
        user = s["user"].lower()
        if s["adapter"] is None:
            # a store that was lost cannot sign an adapter the chain has already paid
            earlier = by_adapter.get((user, s["fork"], adapter_hash))
            if earlier is not None:
                return self._paid(session, earlier, replayed=True)
            self.store.update(session, adapter=adapter_hash.hex())
        op = self._signed_op(session, adapter_hash, multiplier, interactions, low_quality)
        self._step("signed")
        if (user, op.nonce) in by_nonce:
            found = self._ours(by_nonce, op, adapter_hash)
            if found is not None:
                return self._paid(session, found, replayed=True)
            # another adapter was paid with this nonce: ours was not; move to a nonce nobody used
            floor = op.nonce + 1
            while (user, floor) in by_nonce:
                floor += 1
            self.store.allocate(op.user, op.modelId, floor, session)
            self.store.update(session, adapter=adapter_hash.hex())
            op = self._signed_op(session, adapter_hash, multiplier, interactions, low_quality)
        s = self.store.get(session)
        if s["tx_hash"]:
            receipt = self._receipt(s["tx_hash"], wait=False)
            if receipt is not None and receipt["status"] == 1:
                found = self._ours(self._events(receipt), op, adapter_hash)
                if found is not None:
                    return self._paid(session, found, replayed=False)
        if op.deadline <= self._now() + 30:  # not mined in time: same nonce, fresh deadline and signature
            self.store.update(session, op=None, signature=None)
            op = self._signed_op(session, adapter_hash, multiplier, interactions, low_quality)
        return op

    def _settle(self, session: str, op: TrainingOp, adapter_hash: bytes, tx_hash: str) -> Payout:
        """After sending: the session's payout from the receipt, or from the ledger."""
        receipt = self._receipt(tx_hash, wait=True)
        if receipt is None:
            raise RewardError(f"session {session}: transaction {tx_hash} not mined within {self.receipt_timeout_s:g} s; "
                              "call reward again to resume (nothing will be paid twice)")
        found = self._ours(self._events(receipt), op, adapter_hash) if receipt["status"] == 1 else None
        if found is not None:
            return self._paid(session, found, replayed=False)
        # reverted, or a batch that skipped the op (its nonce was used meanwhile): the ledger says by whom
        found = self._ours(self._ledger([op.user])[0], op, adapter_hash)
        if found is not None:
            return self._paid(session, found, replayed=True)
        raise RewardError(f"session {session}: transaction {tx_hash} did not pay it; call reward again")

    def pay(self, user: str, model_id: int, adapter_hash: bytes, multiplier: int, interactions: int,
            low_quality: bool) -> Payout:
        """open_session and reward in one call (a session that trained before it was opened)."""
        return self.reward(self.open_session(user, model_id), adapter_hash, multiplier, interactions, low_quality)

    # ------------------------------------------------------------------ steps

    def _step(self, name: str) -> None:
        if self.crash_at == name:
            raise Crash(f"simulated crash after step {name!r}")

    def _signed_op(self, session: str, adapter_hash: bytes, multiplier: int, interactions: int,
                   low_quality: bool) -> TrainingOp:
        s = self.store.get(session)
        if s["op"] is not None:
            d = json.loads(s["op"])
            return TrainingOp(**{**d, "adapterHash": bytes.fromhex(d["adapterHash"])})
        op = TrainingOp(s["user"], s["fork"], adapter_hash, multiplier, interactions, low_quality, s["nonce"],
                        self._now() + self.deadline_s)
        if self._chain() != self.oracle.chain_id:
            raise RewardError(f"the oracle signs for chain {self.oracle.chain_id}, the node is chain {self._chain()}")
        signature = self.oracle.sign(op)
        self.store.update(session, op=json.dumps({**asdict(op), "adapterHash": op.adapterHash.hex()}),
                          signature=signature.hex(), state="signed")
        return op

    def _chain(self) -> int:
        return self.node.chain_id()

    def _now(self) -> int:
        return self.node.now()

    def _call(self, fn):
        return self.node.call(fn)

    def _simulate(self, op: TrainingOp, signature: bytes) -> None:
        """eth_call first: a revert is decoded and named before any gas is spent."""
        try:
            self._call(lambda: self.contract.functions.rewardTraining(op.as_tuple(), signature).call(
                {"from": self.submitter.address}))
        except RewardError:
            raise
        except Exception as exc:  # noqa: BLE001 - nodes and test backends raise reverts as different types
            name = self._error_name(exc)
            if name == "OpReplayed":
                return  # paid meanwhile: the receipt or the ledger will say by which adapter
            raise RewardError(f"TrainingRewards rejects the op: {name}") from None

    def _send(self, call, sessions: list[str]) -> str:
        """Sign and send `call` from the submitter; the hash is stored with every session in it
        before it is sent, so a crash still knows what to look for."""
        def record(tx_hash: str) -> None:
            for session in sessions:
                self.store.update(session, tx_hash=tx_hash, state="sent")

        # one op has a known bound; a batch's first payouts to new holders cost several times its
        # later ones, so the node estimates it
        return self.submitter.send(call, gas=400_000 if len(sessions) == 1 else None, before_send=record)

    def _receipt(self, tx_hash: str, wait: bool):
        return self.node.receipt(tx_hash, wait=wait, timeout_s=self.receipt_timeout_s)

    def _ledger(self, users: list[str]) -> tuple[dict, dict]:
        """The chain's record of these users' ops, from their TrainingRecorded events (one query):
        by (user, nonce) and by (user, fork, adapter hash), each -> (event args, tx hash, block).
        Every nonce the contract consumed is in an event of the same transaction."""
        event = self.contract.events.TrainingRecorded
        logs = self._call(lambda: event.get_logs(from_block=self.deployment_block,
                                                 argument_filters={"user": list(users)}))
        by_nonce, by_adapter = {}, {}
        for log in logs:
            entry = _entry(log)
            a = entry[0]
            by_nonce[(a["user"].lower(), a["nonce"])] = entry
            by_adapter.setdefault((a["user"].lower(), a["modelId"], a["adapterHash"]), entry)
        return by_nonce, by_adapter

    def _events(self, receipt) -> dict:
        """Every TrainingRecorded in a receipt, by (user, nonce), as `_ledger` keys them: decoded
        once per transaction."""
        from web3.logs import DISCARD

        entries = map(_entry, self.contract.events.TrainingRecorded().process_receipt(receipt, errors=DISCARD))
        return {(e[0]["user"].lower(), e[0]["nonce"]): e for e in entries}

    @staticmethod
    def _ours(by_nonce: dict, op: TrainingOp, adapter_hash: bytes):
        """The entry that paid this op's (user, nonce), if it carries this adapter; else None (not
        paid, or the nonce went to another adapter)."""
        found = by_nonce.get((op.user.lower(), op.nonce))
        return found if found is not None and found[0]["adapterHash"] == adapter_hash else None

    def _paid(self, session: str, found, replayed: bool) -> Payout:
        a, tx_hash, block = found
        payout = Payout(a["user"], a["modelId"], a["nonce"], a["multiplier"], a["interactions"], a["lowQuality"],
                        a["userPayout"], a["ownerPayout"], a["burned"], a["owner"],
                        "0x" + bytes(tx_hash).hex().removeprefix("0x"), int(block), replayed, session)
        self.store.update(session, state="paid", payout=json.dumps({**asdict(payout), "replayed": False}))
        return payout

    def _error_name(self, exc) -> str:
        return revert_name(exc, self.errors)
