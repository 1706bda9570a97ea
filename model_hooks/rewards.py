"""The hook: a scored update becomes an on-chain reward, paid at most once.

Given a user, the fork's NFT id, the adapter's content hash and its quality, the hook builds the
TrainingOp, signs it with the quality oracle's key (EIP-712: chain id, contract, nonce,
deadline), submits it to TrainingRewards, waits for the receipt and returns the payout that the
ledger event recorded. It needs only web3 and the oracle's key: nothing from the trainer but
bytes and a score.

Paid once, whatever fails: before anything is sent, the signed op is written to a journal (one
JSON file per user, keyed by adapter hash, replaced atomically). A rerun after a crash finds the
entry and re-sends the same op with the same nonce; if the first one was mined, the contract
rejects the replay (OpReplayed) and the hook reports the earlier payment from its
TrainingRecorded event instead. Transient node errors are retried with backoff.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import keccak

from hanzo_econ.attest import TrainingOp, sign_training_op


class RewardError(RuntimeError):
    """The reward could not be paid; the message names the contract's error or the node's."""


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
    replayed: bool  # True: this call found the op already paid and reports that payment


class Journal:
    """Signed ops per user, written before they are sent."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, user: str) -> Path:
        return self.folder / f"{user.lower()}.json"

    def entries(self, user: str) -> dict:
        path = self._path(user)
        return json.loads(path.read_text()) if path.is_file() else {}

    def put(self, user: str, key: str, entry: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = self.entries(user)
        data[key] = entry
        tmp = self._path(user).with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(data, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self._path(user))


TRANSIENT = (ConnectionError, TimeoutError, OSError)


class RewardHook:
    def __init__(self, web3, rewards_address: str, rewards_abi: list, oracle_key: str, submitter_key: str,
                 journal: Path, *, deployment_block: int = 0, retries: int = 4, backoff_s: float = 0.5,
                 deadline_s: int = 3600):
        from eth_account import Account

        self.w3 = web3
        self.contract = web3.eth.contract(address=rewards_address, abi=rewards_abi)
        self.oracle_key = oracle_key
        self.submitter = Account.from_key(submitter_key)
        self.journal = Journal(journal)
        self.deployment_block = deployment_block
        self.retries, self.backoff_s, self.deadline_s = retries, backoff_s, deadline_s
        self.errors = {keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4]: e["name"]
                       for e in rewards_abi if e.get("type") == "error"}
        # errors that bubble up from the contracts TrainingRewards calls
        for signature in ("UnknownModel(uint256)", "ERC20InsufficientBalance(address,uint256,uint256)"):
            self.errors[keccak(text=signature)[:4]] = signature.split("(")[0]

    # ------------------------------------------------------------------ the one entry point

    def reward(self, user: str, model_id: int, adapter_hash: bytes, multiplier: int, interactions: int,
               low_quality: bool, *, crash_after_send: bool = False) -> Payout:
        """Pay (or find the payment of) the op for this user's adapter. `crash_after_send` stops
        right after the transaction is sent, as a crash would (for tests)."""
        if len(adapter_hash) != 32:
            raise ValueError(f"adapter_hash: expected 32 bytes, got {len(adapter_hash)}")
        if not 1 <= multiplier <= 10:
            raise ValueError(f"multiplier: expected 1..10, got {multiplier}")
        key = adapter_hash.hex()
        entry = self.journal.entries(user).get(key)
        if entry is None:
            entry = self._new_entry(user, model_id, adapter_hash, multiplier, interactions, low_quality)
        op = TrainingOp(**{**entry["op"], "adapterHash": bytes.fromhex(entry["op"]["adapterHash"])})
        if self._call(lambda: self.contract.functions.nonceUsed(user, op.nonce).call()):
            return self._find_payment(op)
        if op.deadline <= self._now() + 30:  # not mined in time: same nonce, fresh deadline and signature
            entry = self._sign(op.__class__(**{**asdict(op), "deadline": self._now() + self.deadline_s}), entry)
            self.journal.put(user, key, entry)
            op = TrainingOp(**{**entry["op"], "adapterHash": bytes.fromhex(entry["op"]["adapterHash"])})
        signature = bytes.fromhex(entry["signature"])
        self._simulate(op, signature)
        tx_hash = self._send(op, signature)
        entry["tx_hash"] = tx_hash
        self.journal.put(user, key, entry)
        if crash_after_send:
            raise RewardError("simulated crash after sending")
        receipt = self._call(lambda: self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120))
        if receipt["status"] != 1:
            return self._find_payment(op)  # mined by someone else first, or reverted: the event says which
        return self._from_receipt(op, receipt, replayed=False)

    # ------------------------------------------------------------------ steps

    def _new_entry(self, user, model_id, adapter_hash, multiplier, interactions, low_quality) -> dict:
        used = {e["op"]["nonce"] for e in self.journal.entries(user).values()}
        nonce = max(used, default=-1) + 1
        while self._call(lambda n=nonce: self.contract.functions.nonceUsed(user, n).call()):
            nonce += 1  # a lost journal: skip nonces the chain has already consumed
        op = TrainingOp(user, model_id, adapter_hash, multiplier, interactions, low_quality, nonce,
                        self._now() + self.deadline_s)
        entry = self._sign(op, {})
        self.journal.put(user, adapter_hash.hex(), entry)
        return entry

    def _sign(self, op: TrainingOp, entry: dict) -> dict:
        chain_id = self._call(lambda: self.w3.eth.chain_id)
        signature = sign_training_op(self.oracle_key, op, chain_id, self.contract.address)
        return {**entry, "op": {**asdict(op), "adapterHash": op.adapterHash.hex()}, "signature": signature.hex()}

    def _now(self) -> int:
        return int(self._call(lambda: self.w3.eth.get_block("latest"))["timestamp"])

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
                return  # paid meanwhile: sending will revert and _find_payment reports it
            raise RewardError(f"TrainingRewards rejects the op: {name}") from None

    def _send(self, op: TrainingOp, signature: bytes) -> str:
        tx = self.contract.functions.rewardTraining(op.as_tuple(), signature).build_transaction({
            "from": self.submitter.address, "gas": 400_000, "gasPrice": self._call(lambda: self.w3.eth.gas_price),
            "nonce": self._call(lambda: self.w3.eth.get_transaction_count(self.submitter.address, "pending")),
            "chainId": self._call(lambda: self.w3.eth.chain_id)})
        signed = self.submitter.sign_transaction(tx)
        return "0x" + self._call(lambda: self.w3.eth.send_raw_transaction(signed.raw_transaction)).hex().removeprefix("0x")

    def _find_payment(self, op: TrainingOp) -> Payout:
        event = self.contract.events.TrainingRecorded
        logs = self._call(lambda: event.get_logs(from_block=self.deployment_block,
                                                 argument_filters={"user": op.user}))
        for log in logs:
            if log["args"]["nonce"] == op.nonce:
                receipt = self._call(lambda: self.w3.eth.get_transaction_receipt(log["transactionHash"]))
                return self._from_receipt(op, receipt, replayed=True)
        raise RewardError(f"nonce {op.nonce} of {op.user} is used but no TrainingRecorded event names it "
                          f"(searched from block {self.deployment_block})")

    def _from_receipt(self, op: TrainingOp, receipt, replayed: bool) -> Payout:
        from web3.logs import DISCARD

        # DISCARD: the receipt also holds the token's Transfer logs, which are not this ABI's
        for ev in self.contract.events.TrainingRecorded().process_receipt(receipt, errors=DISCARD):
            a = ev["args"]
            if a["user"].lower() == op.user.lower() and a["nonce"] == op.nonce:
                return Payout(op.user, op.modelId, op.nonce, a["multiplier"], a["interactions"], a["lowQuality"],
                              a["userPayout"], a["ownerPayout"], a["burned"], a["owner"],
                              "0x" + bytes(receipt["transactionHash"]).hex(), receipt["blockNumber"], replayed)
        raise RewardError(f"transaction {bytes(receipt['transactionHash']).hex()} has no TrainingRecorded for this op")

    def _error_name(self, exc) -> str:
        """The custom error's name from the revert data, wherever the node put it."""
        import ast
        import re

        data = getattr(exc, "data", None)
        raw: bytes | None = None
        if isinstance(data, str) and data.startswith("0x") and len(data) >= 10:
            raw = bytes.fromhex(data[2:10])
        else:
            text = str(exc)
            literal = re.search(r"b(['\"]).*?\1", text, re.S)
            if literal:
                raw = ast.literal_eval(literal.group(0))[:4]
            else:
                hexed = re.search(r"0x[0-9a-fA-F]{8}", text)
                raw = bytes.fromhex(hexed.group(0)[2:]) if hexed else None
        if raw is not None and raw[:4] in self.errors:
            return self.errors[raw[:4]]
        return " ".join(str(exc).split())[:200]

    def _call(self, fn):
        """Run a node call, retrying transient errors with exponential backoff."""
        for attempt in range(self.retries + 1):
            try:
                return fn()
            except TRANSIENT as exc:
                if attempt == self.retries:
                    raise RewardError(f"the node did not answer after {self.retries + 1} tries: {exc}") from exc
                time.sleep(self.backoff_s * 2**attempt)
