"""The hook: a judged training session becomes an on-chain reward, paid exactly once.

The chain is the record, the store is not. TrainingRewards pays an adapter once per fork (its
replay key is (modelId, adapterHash): whoever owns the fork or signs for it, under any nonce, low
quality included), and each payment is one TrainingRecorded event. The hook's store (SQLite, one
writer at a time across processes) keeps what the hook signed and sent and who is working on a
session; it is never the proof of a payment. So on every call, before anything is signed or
sent, the hook reads the fork's ledger (the TrainingRecorded events of the fork, one query) and
looks the (fork, adapter) up:

- paid to this session's user: that is the payment; it is reported (`replayed` unless this
  session's own op made it and no earlier call has reported it), once it is confirmed;
- paid to another user: the session fails with `AdapterPaidElsewhere`; it was not paid and
  never will be (the contract refuses the adapter on this fork), and someone else's payment is
  not reported as its own;
- not paid: whatever the store says. A store that recorded the payment (mined, or paid) whose
  event is no longer on the chain saw a reorganisation: the op is sent again (the same signed
  op while its deadline allows, else signed again), after the submitter's nonce is re-read.
  A transaction the node still holds is waited for, not sent twice; one the node forgot, or one
  queued behind a nonce gap, is replaced.

A payment counts once it has `confirmations` blocks (1: the receipt's own block, which keeps a
devnet instant; a public chain wants more, e.g. 12 or its finality). Until then the store keeps
the session as 'mined' with the block's number and hash, `reward` waits up to the receipt
timeout for the confirmations, and otherwise raises `Unconfirmed`: call again, and the payment is
re-checked against the canonical chain.

Concurrent callers of one session (threads, processes, workers sharing the store): each call
takes the session's lease in the store (BEGIN IMMEDIATE, so taking it is atomic), renewed while
it waits on the chain and ending after `lease_s` if its holder died. The others wait for it, so
exactly one of them makes (and reports) the payment with replayed=False, and the rest report it
replayed. A session's nonce is only its number (allocated before training, `open_session`); the
contract emits it, and the hook uses it to tell its own op from another session's.

It needs only web3 and two keys: the `Oracle`'s, which signs ops (EIP-712: chain id, contract,
nonce, deadline), and the submitter's, which pays gas. Nothing from the trainer but bytes and a
verdict.

Throughput: `reward_many` pays many sessions in one `rewardTrainingBatch` transaction with one
ledger query for the batch (a paid (fork, adapter) in a batch is skipped by the contract, never
paid twice; an op over its fork's daily budget is deferred by it, and its session fails alone,
payable another day); if the batch would revert, each session is paid alone and each failure is kept
with its session (`BatchError`). The chain id is read once, the gas price at most every
`gas_price_ttl_s`, the submitter's transaction nonce is kept locally (re-read when the node says
it is stale or after a reorganisation), and receipts are polled every 10 ms: all of it in
`hanzo.chain.tx`, which the simulator's chain mode sends through too. `rpc_calls` counts the
node calls made (benchmarks/hllm.py reports them per op).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from hanzo.econ.attest import Oracle, TrainingOp
from hanzo.econ.records import add_columns, immediate

from .tx import Node, Sender, TxError, as_hex, error_selectors, revert_name


class RewardError(TxError):
    """The reward could not be paid; the message names the contract's error or the node's."""


class Crash(RewardError):
    """A simulated crash at a named step (tests)."""


class Unconfirmed(RewardError):
    """The session's op is mined but has fewer confirmations than the hook requires; call again."""

    def __init__(self, message: str, block: int, confirmations: int, required: int):
        super().__init__(message)
        self.block, self.confirmations, self.required = block, confirmations, required


class AdapterPaidElsewhere(RewardError):
    """The fork already paid this adapter to another user: this session is not paid, and never
    will be (the contract refuses a paid (fork, adapter))."""


class Busy(RewardError):
    """Another caller holds the session's lease for longer than this call would wait."""


class BatchError(RewardError):
    """Some sessions of a `reward_many` batch were not paid. `payouts` holds each paid session's
    Payout, `failures` each other session's RewardError, both by session id."""

    def __init__(self, payouts: dict, failures: dict):
        self.payouts, self.failures = payouts, failures
        detail = "; ".join(f"{s}: {e}" for s, e in failures.items())
        super().__init__(f"{len(failures)} of {len(payouts) + len(failures)} sessions not paid: {detail}")


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
    replayed: bool  # True: the payment was reported before, or made by another session's op (not news)
    session: str = ""


@dataclass(frozen=True)
class _Entry:
    """One TrainingRecorded event (from the fork's ledger or a receipt)."""

    args: dict
    tx_hash: str
    block: int
    block_hash: str


@dataclass(frozen=True)
class _Plan:
    """What a session needs next: its signed op sent, or (tx_hash) a transaction awaited."""

    op: TrainingOp
    signature: bytes
    tx_hash: str | None = None


class _Reorganised(Exception):
    """A payment's block left the canonical chain while the hook waited on it: start over."""


class SessionStore:
    """Sessions and their op nonces, durable and shared by every worker (SQLite, WAL). A nonce is
    allocated, and a session's lease taken, inside an exclusive transaction, so two workers never
    share a nonce nor work on one session at once."""

    COLUMNS = {"block": "INTEGER", "block_hash": "TEXT", "lease": "TEXT", "lease_until": "REAL"}

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        # one connection per store object (per worker); a worker may run in another thread than
        # the one that built it, and SQLite's own locking serialises the workers. The lock keeps
        # two threads of one worker from interleaving their transactions on the one connection.
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("""CREATE TABLE IF NOT EXISTS sessions (
            id TEXT PRIMARY KEY, user TEXT NOT NULL, fork INTEGER NOT NULL, nonce INTEGER NOT NULL,
            state TEXT NOT NULL, adapter TEXT, op TEXT, signature TEXT, tx_hash TEXT, payout TEXT,
            UNIQUE (user, nonce))""")
        # a store written before confirmations and leases gains their columns
        add_columns(self.db, "sessions", self.COLUMNS)

    def _exclusive(self):
        return immediate(self.db, self._lock)

    def allocate(self, user: str, fork: int, floor: int, session: str | None = None,
                 new_id: str | None = None) -> tuple[str, int]:
        """A new session (id `new_id`, or a fresh one) with the user's next nonce >= floor, or
        `session` moved to a new nonce."""
        with self._exclusive():
            top = self.db.execute("SELECT MAX(nonce) FROM sessions WHERE user = ?", (user,)).fetchone()[0]
            nonce = max(floor, -1 if top is None else top + 1)
            if session is None:
                session = new_id or uuid.uuid4().hex
                self.db.execute("INSERT INTO sessions (id, user, fork, nonce, state) VALUES (?, ?, ?, ?, 'open')",
                                (session, user, fork, nonce))
            else:
                self.db.execute("UPDATE sessions SET nonce = ?, state = 'open', op = NULL, signature = NULL, "
                                "tx_hash = NULL WHERE id = ?", (nonce, session))
        return session, nonce

    def top_nonce(self, user: str) -> int | None:
        with self._lock:
            return self.db.execute("SELECT MAX(nonce) FROM sessions WHERE user = ?", (user,)).fetchone()[0]

    def find(self, session: str) -> dict | None:
        with self._lock:
            cur = self.db.execute("SELECT * FROM sessions WHERE id = ?", (session,))
            row = cur.fetchone()
        return None if row is None else dict(zip([c[0] for c in cur.description], row))

    def get(self, session: str) -> dict:
        found = self.find(session)
        if found is None:
            raise RewardError(f"session {session!r}: unknown to this store (open it with open_session first)")
        return found

    def update(self, session: str, **fields) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self._lock:
            self.db.execute(f"UPDATE sessions SET {sets} WHERE id = ?", (*fields.values(), session))

    def claim(self, session: str, holder: str, lease_s: float) -> float | None:
        """Take (or renew) the session's lease for `holder`: None if taken, else the time
        (time.time()) until which another holder has it. An expired lease is taken over."""
        with self._exclusive():
            row = self.db.execute("SELECT lease, lease_until FROM sessions WHERE id = ?", (session,)).fetchone()
            if row is None:
                raise RewardError(f"session {session!r}: unknown to this store (open it with open_session first)")
            lease, until = row
            now = time.time()
            if lease is not None and lease != holder and until is not None and until > now:
                return until
            self.db.execute("UPDATE sessions SET lease = ?, lease_until = ? WHERE id = ?",
                            (holder, now + lease_s, session))
        return None

    def release(self, session: str, holder: str) -> None:
        with self._lock:
            self.db.execute("UPDATE sessions SET lease = NULL, lease_until = NULL WHERE id = ? AND lease = ?",
                            (session, holder))


def _entry(log) -> _Entry:
    """A TrainingRecorded event (from a log query or a receipt)."""
    args = {**dict(log["args"]), "adapterHash": bytes(log["args"]["adapterHash"])}
    return _Entry(args, as_hex(log["transactionHash"]), int(log["blockNumber"]), as_hex(log["blockHash"]))


class RewardHook:
    """Pays judged sessions through TrainingRewards: each (fork, adapter) once, each session's
    payment reported once as fresh, after `confirmations` blocks.

    `lease_s` bounds how long a crashed caller keeps others off its session (default: the receipt
    timeout and a minute; a live caller renews it while it waits on the chain)."""

    def __init__(self, web3, rewards_address: str, rewards_abi: list, oracle: Oracle, submitter_key: str,
                 store: Path, *, deployment_block: int = 0, retries: int = 4, backoff_s: float = 0.5,
                 deadline_s: int = 3600, receipt_timeout_s: float = 120, confirmations: int = 1,
                 lease_s: float | None = None, poll_s: float = 0.05):
        from eth_account import Account

        if confirmations < 1:
            raise ValueError(f"confirmations: expected at least 1 (the receipt's own block), got {confirmations}")
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
        self.confirmations = confirmations
        self.lease_s = receipt_timeout_s + 60 if lease_s is None else lease_s
        self.poll_s = poll_s
        self._holder: dict[str, str] = {}  # session -> this call's lease, renewed while it waits
        self.crash_at: str | None = None  # tests: raise Crash at this step
        # with the errors that bubble up from the contracts TrainingRewards calls
        self.errors = error_selectors(rewards_abi, "UnknownModel(uint256)",
                                      "ERC20InsufficientBalance(address,uint256,uint256)")

    @property
    def rpc_calls(self) -> int:
        """Node calls made so far (benchmarks/hllm.py reports them per op)."""
        return self.node.rpc_calls

    # ------------------------------------------------------------------ the entry points

    def open_session(self, user: str, model_id: int, session: str | None = None) -> str:
        """Give a training session its id and op nonce, before training; returns the id. An id the
        store does not know (a store lost after the oracle's gate accepted the session) is opened
        again under that id; one it knows must name the same user and fork."""
        from eth_utils import to_checksum_address

        user = to_checksum_address(user)
        if session is not None:
            known = self.store.find(session)
            if known is not None:
                if (known["user"], known["fork"]) != (user, model_id):
                    raise RewardError(f"session {session}: opened for {known['user']} on fork {known['fork']}, "
                                      f"not {user} on fork {model_id}")
                return session
        top = self.store.top_nonce(user)
        if top is None:  # a user this store has not seen (or a lost store): number past the fork's ledger
            mine = [e.args["nonce"] for e in self._ledger([model_id]).values() if e.args["user"] == user]
            floor = 1 + max(mine, default=-1)
        else:
            floor = top + 1
        opened, _ = self.store.allocate(user, model_id, floor, new_id=session)
        return opened

    def reward(self, session: str, adapter_hash: bytes, multiplier: int, interactions: int,
               low_quality: bool) -> Payout:
        """Pay the session's op, or report its payment if it was made: any number of calls, after
        any crash, reorganisation or lost store, from any number of workers at once, pay it once."""
        _check(adapter_hash, multiplier, interactions)
        with self._lease(session):
            for attempt in range(3):
                deadline = time.monotonic() + self.receipt_timeout_s
                try:
                    ledger = self._ledger([self.store.get(session)["fork"]])
                    return self._pay_one(session, adapter_hash, multiplier, interactions, low_quality, ledger,
                                         deadline)
                except _Reorganised:
                    self.submitter.resync()
                    if attempt == 2:
                        raise RewardError(f"session {session}: the chain reorganised under the payment three "
                                          "times in one call; call reward again") from None
        raise AssertionError("unreachable")

    def reward_many(self, items: list[tuple[str, bytes, int, int, bool]]) -> list[Payout]:
        """reward() for many sessions, (session, adapter_hash, multiplier, interactions, low_quality)
        each, in one rewardTrainingBatch transaction and one ledger query. If the batch would
        revert (one op invalid), each session is paid alone. Every session is tried: if any is not
        paid, BatchError carries each session's Payout or error."""
        for _, adapter_hash, multiplier, interactions, _ in items:
            _check(adapter_hash, multiplier, interactions)
        unique: dict[str, tuple] = {}
        for item in items:  # a session named twice is paid once, and must name one op
            if unique.setdefault(item[0], tuple(item)) != tuple(item):
                raise ValueError(f"session {item[0]}: named twice in one batch with different ops")
        out: dict[str, Payout] = {}
        failures: dict[str, RewardError] = {}
        holder = uuid.uuid4().hex
        claimed, waiting = [], []
        try:
            for session in unique:
                if self.store.claim(session, holder, self.lease_s) is None:
                    claimed.append(session)
                    self._holder[session] = holder
                else:
                    waiting.append(session)
            if claimed:
                self._batch([unique[s] for s in claimed], out, failures)
        finally:
            for session in claimed:
                self._holder.pop(session, None)
                self.store.release(session, holder)
        for session in waiting:  # another caller is on it: wait for it, one by one
            try:
                out[session] = self.reward(*unique[session])
            except Crash:
                raise
            except RewardError as exc:
                failures[session] = exc
        if failures:
            raise BatchError(out, failures)
        return [out[s] for s, *_ in items]

    def pay(self, user: str, model_id: int, adapter_hash: bytes, multiplier: int, interactions: int,
            low_quality: bool) -> Payout:
        """open_session and reward in one call (a session that trained before it was opened)."""
        return self.reward(self.open_session(user, model_id), adapter_hash, multiplier, interactions, low_quality)

    # ------------------------------------------------------------------ one session, one batch

    def _pay_one(self, session, adapter_hash, multiplier, interactions, low_quality, ledger, deadline) -> Payout:
        plan = self._prepare(session, adapter_hash, multiplier, interactions, low_quality, ledger, deadline)
        if isinstance(plan, Payout):
            return plan
        if plan.tx_hash is not None:  # a transaction of ours the node still holds
            return self._settle(session, plan.op, plan.tx_hash, deadline)
        if self._simulate(plan.op, plan.signature) == "OpReplayed":
            # the fork paid the adapter since the ledger was read: the ledger says to whom
            found = self._ledger([plan.op.modelId]).get((plan.op.modelId, adapter_hash))
            if found is None:
                raise RewardError(f"session {session}: TrainingRewards says fork {plan.op.modelId} paid adapter "
                                  f"{adapter_hash.hex()[:16]}…, but its ledger has no event yet; call reward again")
            return self._found(session, found, deadline)
        tx_hash = self._send(self.contract.functions.rewardTraining(plan.op.as_tuple(), plan.signature), [session])
        self._step("sent")
        return self._settle(session, plan.op, tx_hash, deadline)

    def _batch(self, items, out: dict, failures: dict) -> None:
        """reward_many's sessions whose leases this call holds."""
        deadline = time.monotonic() + self.receipt_timeout_s
        ledger = self._ledger(sorted({self.store.get(s)["fork"] for s, *_ in items}))  # one query for the batch
        pending: list[tuple[tuple, _Plan]] = []
        for item in items:
            with self._each(item, out, failures):
                plan = self._prepare(*item, ledger, deadline)
                if isinstance(plan, Payout):
                    out[item[0]] = plan
                elif plan.tx_hash is not None:
                    out[item[0]] = self._settle(item[0], plan.op, plan.tx_hash, deadline)
                else:
                    pending.append((item, plan))
        if not pending:
            return
        call = self.contract.functions.rewardTrainingBatch([p.op.as_tuple() for _, p in pending],
                                                           [p.signature for _, p in pending])
        try:
            self._call(lambda: call.call({"from": self.submitter.address}))
        except RewardError:
            raise
        except Exception:  # noqa: BLE001 - a revert: pay one by one, and keep each session's error
            for item, _ in pending:  # the batch's ledger still answers for each (keys are distinct,
                self._alone(item, out, failures, ledger)  # and a repeated one is caught by the contract)
            return
        tx_hash = self._send(call, [item[0] for item, _ in pending])
        self._step("sent")
        receipt = self._receipt(tx_hash, wait=True)
        if receipt is None:
            tx = self.node.transaction(tx_hash)
            if tx is None or self.submitter.behind_a_gap(tx):
                self.submitter.resync()  # the next call sends it again
            for item, _ in pending:
                failures[item[0]] = RewardError(
                    f"session {item[0]}: transaction {tx_hash} not mined within {self.receipt_timeout_s:g} s; "
                    "call reward again to resume (nothing will be paid twice)")
            return
        events = self._events(receipt) if receipt["status"] == 1 else {}
        deferred = self._deferred(receipt) if receipt["status"] == 1 else {}
        later = None  # the ledger, read once if the batch skipped (or did not make) any op
        for item, plan in pending:
            session, key = item[0], (plan.op.modelId, plan.op.adapterHash)
            with self._each(item, out, failures):
                found = events.get(key)
                if found is None and key in deferred:  # not payable today: the adapter is not consumed
                    raise RewardError(f"session {session}: deferred by TrainingRewards ({deferred[key]}); not paid "
                                      "today, and payable another day: call reward again then")
                if found is None:
                    if later is None:
                        later = self._ledger(sorted({p.op.modelId for _, p in pending}))
                    found = later.get(key)
                if found is None:
                    raise RewardError(f"session {session}: transaction {tx_hash} did not pay it; call reward again")
                out[session] = self._found(session, found, deadline)

    @contextlib.contextmanager
    def _each(self, item, out: dict, failures: dict):
        """One session's step inside a batch: a reorganisation under it pays it alone, its error is
        kept for it (the others go on), a simulated crash stops everything."""
        try:
            yield
        except _Reorganised:
            self.submitter.resync()
            self._alone(item, out, failures)
        except Crash:
            raise
        except RewardError as exc:
            failures[item[0]] = exc

    def _alone(self, item, out: dict, failures: dict, ledger: dict | None = None) -> None:
        """One session of a batch paid on its own (this call holds its lease); its error is kept."""
        session = item[0]
        try:
            deadline = time.monotonic() + self.receipt_timeout_s
            if ledger is None:
                ledger = self._ledger([self.store.get(session)["fork"]])
            out[session] = self._pay_one(*item, ledger, deadline)
        except _Reorganised:
            self.submitter.resync()
            failures[session] = RewardError(f"session {session}: the chain reorganised under the payment; "
                                            "call reward again")
        except Crash:
            raise
        except RewardError as exc:
            failures[session] = exc

    def _prepare(self, session: str, adapter_hash: bytes, multiplier: int, interactions: int,
                 low_quality: bool, ledger: dict, deadline: float) -> "Payout | _Plan":
        """Everything before sending: the session's payout if the fork's ledger shows its adapter
        paid, else what to do: a transaction of ours to await, or a signed op to send."""
        s = self.store.get(session)
        if s["adapter"] is not None and s["adapter"] != adapter_hash.hex():
            raise RewardError(f"session {session}: already bound to adapter {s['adapter'][:16]}…, not "
                              f"{adapter_hash.hex()[:16]}… (a new adapter is a new session)")
        found = ledger.get((s["fork"], adapter_hash))
        if found is not None:
            return self._found(session, found, deadline)
        # not on the canonical chain: a payment the store recorded was taken back by a reorganisation
        if s["state"] in ("mined", "paid"):
            self.submitter.resync()
            self.store.update(session, state="sent", block=None, block_hash=None, payout=None)
        if s["adapter"] is None:
            self.store.update(session, adapter=adapter_hash.hex())
        op = self._signed_op(session, adapter_hash, multiplier, interactions, low_quality)
        self._step("signed")
        if s["tx_hash"]:
            receipt = self._receipt(s["tx_hash"], wait=False)
            if receipt is not None and receipt["status"] == 1 and self._canonical(receipt):
                # mined since the ledger was read
                found = self._events(receipt).get((op.modelId, adapter_hash))
                if found is not None:
                    return self._found(session, found, deadline)
            if receipt is None:
                tx = self.node.transaction(s["tx_hash"])
                if tx is not None and not self.submitter.behind_a_gap(tx):
                    return _Plan(op, self._signature(session), s["tx_hash"])  # still in the pool: await it
                self.submitter.resync()  # forgotten (a reorganisation dropped it), or stuck behind a gap
        if op.deadline <= self._now() + 30:  # not paid in time: same nonce, fresh deadline and signature
            self.store.update(session, op=None, signature=None)
            op = self._signed_op(session, adapter_hash, multiplier, interactions, low_quality)
        return _Plan(op, self._signature(session))

    def _settle(self, session: str, op: TrainingOp, tx_hash: str, deadline: float) -> Payout:
        """After sending: the session's payout from the receipt, or from the ledger."""
        receipt = self._receipt(tx_hash, wait=True)
        if receipt is None:
            tx = self.node.transaction(tx_hash)
            if tx is None or self.submitter.behind_a_gap(tx):
                self.submitter.resync()  # the next call sends it again
            raise RewardError(f"session {session}: transaction {tx_hash} not mined within {self.receipt_timeout_s:g} s; "
                              "call reward again to resume (nothing will be paid twice)")
        key = (op.modelId, op.adapterHash)
        found = self._events(receipt).get(key) if receipt["status"] == 1 else None
        if found is None:
            # reverted, or a batch that skipped the op (the fork paid the adapter meanwhile): the ledger says to whom
            found = self._ledger([op.modelId]).get(key)
        if found is not None:
            return self._found(session, found, deadline)
        raise RewardError(f"session {session}: transaction {tx_hash} did not pay it; call reward again")

    def _found(self, session: str, found: _Entry, deadline: float) -> Payout:
        """The fork's payment of the session's adapter, once confirmed: this session's (reported
        fresh the first time), an earlier session's of the same user (replayed), or another
        user's (AdapterPaidElsewhere)."""
        s = self.store.get(session)
        a = found.args
        if a["user"].lower() != s["user"].lower():
            raise AdapterPaidElsewhere(
                f"session {session}: fork {s['fork']} already paid adapter {a['adapterHash'].hex()[:16]}… to "
                f"{a['user']} (tx {found.tx_hash}, block {found.block}); it is not {s['user']}'s payment, and "
                "the contract will not pay the adapter on this fork again")
        # Fresh only for this session's own signed op (whoever submitted it) not reported before;
        # a payment found before this session signed anything (a lost or restored store, another
        # session of the same adapter) is a replay, even when session numbers collide.
        ours = s["op"] is not None and json.loads(s["op"])["nonce"] == a["nonce"]
        # (a store written before blocks were kept has paid rows without a block hash)
        reported = s["state"] == "paid" and s["block_hash"] in (None, found.block_hash)
        payout = Payout(a["user"], a["modelId"], a["nonce"], a["multiplier"], a["interactions"], a["lowQuality"],
                        a["userPayout"], a["ownerPayout"], a["burned"], a["owner"], found.tx_hash, found.block,
                        reported or not ours, session)
        if reported and s["block_hash"] == found.block_hash:
            return payout  # confirmed before, and still on the canonical chain (it is in the ledger)
        record = json.dumps({**asdict(payout), "replayed": False})
        if self.confirmations > 1:
            self.store.update(session, state="mined", block=found.block, block_hash=found.block_hash, payout=record)
            self._confirm(session, found, deadline)
        self.store.update(session, state="paid", block=found.block, block_hash=found.block_hash, payout=record)
        return payout

    def _confirm(self, session: str, found: _Entry, deadline: float) -> None:
        """Wait (until `deadline`) for the payment's block to have `confirmations` blocks on the
        canonical chain; Unconfirmed if it does not, _Reorganised if the block left the chain."""
        while True:
            have = self.node.block_number() - found.block + 1
            if have < 1:
                raise _Reorganised()  # the chain is now shorter than the payment's block
            if have >= self.confirmations:
                if self.node.block_hash(found.block) != found.block_hash:
                    raise _Reorganised()
                return
            if time.monotonic() >= deadline:
                raise Unconfirmed(
                    f"session {session}: paid in block {found.block} (tx {found.tx_hash}), {have} of "
                    f"{self.confirmations} confirmations after {self.receipt_timeout_s:g} s; call reward again to "
                    "confirm it (a payment a reorganisation takes back is made again, never twice)",
                    found.block, have, self.confirmations)
            self._renew(session)
            time.sleep(self.poll_s)

    # ------------------------------------------------------------------ steps

    @contextlib.contextmanager
    def _lease(self, session: str):
        """Hold the session's lease for the call: wait while another live caller holds it."""
        holder = uuid.uuid4().hex
        give_up = time.monotonic() + self.lease_s + 2 * self.receipt_timeout_s
        while (until := self.store.claim(session, holder, self.lease_s)) is not None:
            if time.monotonic() >= give_up:
                raise Busy(f"session {session}: another caller has been paying it for over "
                           f"{self.lease_s + 2 * self.receipt_timeout_s:g} s (its lease runs until "
                           f"{time.strftime('%H:%M:%S', time.localtime(until))}); call reward again")
            time.sleep(self.poll_s)
        self._holder[session] = holder
        try:
            yield
        finally:
            self._holder.pop(session, None)
            self.store.release(session, holder)

    def _renew(self, session: str) -> None:
        holder = self._holder.get(session)
        if holder is not None:
            self.store.claim(session, holder, self.lease_s)

    def _step(self, name: str) -> None:
        if self.crash_at == name:
            raise Crash(f"simulated crash after step {name!r}")

    def _signature(self, session: str) -> bytes:
        return bytes.fromhex(self.store.get(session)["signature"])

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
                          signature=signature.hex(), state="signed" if s["state"] == "open" else s["state"])
        return op

    def _chain(self) -> int:
        return self.node.chain_id()

    def _now(self) -> int:
        return self.node.now()

    def _call(self, fn):
        return self.node.call(fn)

    def _simulate(self, op: TrainingOp, signature: bytes) -> str | None:
        """eth_call first: a revert is decoded and named before any gas is spent. Returns
        "OpReplayed" when the fork has paid the adapter (the ledger then says to whom)."""
        try:
            self._call(lambda: self.contract.functions.rewardTraining(op.as_tuple(), signature).call(
                {"from": self.submitter.address}))
        except RewardError:
            raise
        except Exception as exc:  # noqa: BLE001 - nodes and test backends raise reverts as different types
            name = self._error_name(exc)
            if name == "OpReplayed":
                return name
            raise RewardError(f"TrainingRewards rejects the op: {name}") from None
        return None

    def _send(self, call, sessions: list[str]) -> str:
        """Sign and send `call` from the submitter; the hash is stored with every session in it
        before it is sent, so a crash still knows what to look for."""
        def record(tx_hash: str) -> None:
            for session in sessions:
                self.store.update(session, tx_hash=tx_hash, state="sent", block=None, block_hash=None)

        # one op has a known bound; a batch's first payouts to new holders cost several times its
        # later ones, so the node estimates it
        return self.submitter.send(call, gas=400_000 if len(sessions) == 1 else None, before_send=record)

    def _receipt(self, tx_hash: str, wait: bool):
        return self.node.receipt(tx_hash, wait=wait, timeout_s=self.receipt_timeout_s)

    def _canonical(self, receipt) -> bool:
        """Whether the receipt's block is still the chain's block at its height."""
        return self.node.block_hash(int(receipt["blockNumber"])) == as_hex(receipt["blockHash"])

    def fork_head(self, model_id: int) -> bytes | None:
        """The adapter the chain last paid a fork's owner for (its TrainingRecorded events, in
        chain order), whatever its NFT records now; None for a fork nobody has paid its owner for.
        The oracle continues a fork from here: resetting or re-setting the NFT's adapter
        (`updateAdapter`) buys nothing, low-quality ops never move it, and another user's paid
        session on the fork does not either (ModelNFT records only its owner's adapters)."""
        event = self.contract.events.TrainingRecorded
        logs = self._call(lambda: event.get_logs(from_block=self.deployment_block,
                                                 argument_filters={"modelId": model_id}))
        paid = [_entry(log).args for log in logs]
        heads = [a["adapterHash"] for a in paid if not a["lowQuality"] and a["user"] == a["owner"]]
        return heads[-1] if heads else None

    def _ledger(self, forks: list[int]) -> dict[tuple[int, bytes], _Entry]:
        """The canonical chain's record of these forks' ops, from their TrainingRecorded events
        (one query, by the indexed modelId, for every user): (fork, adapter hash) -> entry. The
        contract pays a (fork, adapter) once, so a key has at most one event."""
        event = self.contract.events.TrainingRecorded
        logs = self._call(lambda: event.get_logs(from_block=self.deployment_block,
                                                 argument_filters={"modelId": list(forks)}))
        ledger = {}
        for log in logs:
            entry = _entry(log)
            ledger.setdefault((entry.args["modelId"], entry.args["adapterHash"]), entry)
        return ledger

    def _events(self, receipt) -> dict[tuple[int, bytes], _Entry]:
        """Every TrainingRecorded in a receipt, keyed as `_ledger` keys them."""
        from web3.logs import DISCARD

        entries = map(_entry, self.contract.events.TrainingRecorded().process_receipt(receipt, errors=DISCARD))
        return {(e.args["modelId"], e.args["adapterHash"]): e for e in entries}

    def _deferred(self, receipt) -> dict[tuple[int, bytes], str]:
        """The ops a batch receipt deferred (OpDeferred): (fork, adapter) -> the error's name."""
        from web3.logs import DISCARD

        logs = self.contract.events.OpDeferred().process_receipt(receipt, errors=DISCARD)
        return {(e.args["modelId"], e.args["adapterHash"]): self.errors.get(bytes(e.args["reason"]), "deferred")
                for e in logs}

    def _error_name(self, exc) -> str:
        return revert_name(exc, self.errors)


def _check(adapter_hash: bytes, multiplier: int, interactions: int) -> None:
    if len(adapter_hash) != 32:
        raise ValueError(f"adapter_hash: expected 32 bytes, got {len(adapter_hash)}")
    if adapter_hash == bytes(32):
        raise ValueError("adapter_hash: zero means no adapter; a session pays for the adapter it trained")
    if not 1 <= multiplier <= 10:
        raise ValueError(f"multiplier: expected 1..10, got {multiplier}")
    if interactions < 1:
        raise ValueError(f"interactions: expected at least 1, got {interactions}")
