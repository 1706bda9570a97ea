"""Transactions below Ape: one node wrapper and one sender, used by every bulk path (the reward
hook, chain-mode simulation, the benchmarks).

Ape traces and decodes every transaction it sends, which costs more than the transaction on a
local node; bulk traffic is built from the contract ABIs, signed locally and sent raw. The pieces
every such path needs, written once:

- `Node`: node calls retried with exponential backoff on transient errors, counted (`rpc_calls`),
  with the chain id read once and the gas price and block time cached;
- `Sender`: one account's transactions, its nonce kept locally (pipelined) and re-read when the
  node says it is stale or a caller saw the chain reorganise (`resync`); a transaction the node
  already knows is waited for, not resent;
- `revert_name`: a custom error's name from revert data, wherever the node or backend put it.
"""

from __future__ import annotations

import ast
import re
import time
from typing import Any, Callable

from eth_utils import keccak

TRANSIENT = (ConnectionError, TimeoutError, OSError)


class TxError(RuntimeError):
    """A transaction or node call failed; the message says which and why."""


def abi_of(ape_contract) -> list[dict]:
    """An Ape contract's ABI as the plain JSON web3 takes."""
    return [entry.model_dump(mode="json", by_alias=True) for entry in ape_contract.contract_type.abi]


def web3_contract(w3, ape_contract):
    """The web3 view of an Ape contract instance (same address, same ABI)."""
    return w3.eth.contract(address=str(ape_contract.address), abi=abi_of(ape_contract))


def error_selectors(abi: list[dict], *signatures: str) -> dict[bytes, str]:
    """4-byte selector -> custom error name, for the ABI's errors and any extra signatures (errors
    that bubble up from contracts the ABI's contract calls)."""
    found = {keccak(text=f"{e['name']}({','.join(i['type'] for i in e['inputs'])})")[:4]: e["name"]
             for e in abi if e.get("type") == "error"}
    for signature in signatures:
        found[keccak(text=signature)[:4]] = signature.split("(")[0]
    return found


def revert_name(exc: BaseException, selectors: dict[bytes, str]) -> str:
    """The custom error's name in a revert, else the exception's text (one line, 200 characters).
    Nodes put the data in `exc.data` as hex; test backends in the message as a bytes literal."""
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
    if raw is not None and raw[:4] in selectors:
        return selectors[raw[:4]]
    return " ".join(str(exc).split())[:200]


def as_hex(value) -> str:
    """A hash from web3 (HexBytes, bytes or str) as "0x…" lower case."""
    if isinstance(value, str):
        return "0x" + value.lower().removeprefix("0x")
    return "0x" + bytes(value).hex()


class Node:
    """A web3 node, called with retries; `error` is the exception type raised when it will not
    answer (callers name their own failure: RewardError, ChainRunError)."""

    def __init__(self, w3, *, retries: int = 4, backoff_s: float = 0.5, gas_price_ttl_s: float = 30.0,
                 error: type[Exception] = TxError):
        self.w3 = w3
        self.retries, self.backoff_s, self.gas_price_ttl_s = retries, backoff_s, gas_price_ttl_s
        self.error = error
        self.rpc_calls = 0
        self._chain_id: int | None = None
        self._gas_price: tuple[float, int] | None = None  # (read at, wei)
        self._block_time: tuple[float, int] | None = None  # (read at, chain timestamp)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run a node call, retrying transient errors with exponential backoff."""
        for attempt in range(self.retries + 1):
            self.rpc_calls += 1
            try:
                return fn()
            except TRANSIENT as exc:
                if attempt == self.retries:
                    raise self.error(f"the node did not answer after {self.retries + 1} tries: {exc}") from exc
                time.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.call(lambda: self.w3.eth.chain_id))
        return self._chain_id

    def gas_price(self) -> int:
        now = time.monotonic()
        if self._gas_price is None or now - self._gas_price[0] > self.gas_price_ttl_s:
            self._gas_price = (now, int(self.call(lambda: self.w3.eth.gas_price)))
        return self._gas_price[1]

    def now(self) -> int:
        """The chain's time, read at most once a second (the clock between reads is the host's)."""
        now = time.monotonic()
        if self._block_time is None or now - self._block_time[0] > 1.0:
            self._block_time = (now, int(self.call(lambda: self.w3.eth.get_block("latest"))["timestamp"]))
        return self._block_time[1] + int(now - self._block_time[0])

    def block_time(self, block_number: int) -> int:
        return int(self.call(lambda: self.w3.eth.get_block(block_number))["timestamp"])

    def block_number(self) -> int:
        return int(self.call(lambda: self.w3.eth.block_number))

    def block_hash(self, block_number: int) -> str | None:
        """The canonical block's hash at this height ("0x…"), None past the head."""
        from web3.exceptions import BlockNotFound

        try:
            block = self.call(lambda: self.w3.eth.get_block(block_number))
        except BlockNotFound:
            return None
        return as_hex(block["hash"])

    def transaction(self, tx_hash):
        """The transaction as the node knows it (mined or pending), or None if it does not."""
        from web3.exceptions import TransactionNotFound

        try:
            return self.call(lambda: self.w3.eth.get_transaction(tx_hash))
        except TransactionNotFound:
            return None

    def receipt(self, tx_hash, *, wait: bool, timeout_s: float = 120):
        """The receipt, or None if the node has none (yet, or within `timeout_s` when waiting)."""
        from web3.exceptions import TimeExhausted, TransactionNotFound

        try:
            if wait:
                return self.call(lambda: self.w3.eth.wait_for_transaction_receipt(
                    tx_hash, timeout=timeout_s, poll_latency=0.01))
            return self.call(lambda: self.w3.eth.get_transaction_receipt(tx_hash))
        except (TimeExhausted, TransactionNotFound):
            return None


class Sender:
    """One account's transactions through `node`: signed locally, nonce kept locally."""

    def __init__(self, node: Node, account):
        self.node, self.account = node, account
        self.address = str(account.address)
        self._nonce: int | None = None
        self.sent = 0

    def resync(self) -> None:
        """Re-read the account's nonce before the next transaction: a reorganisation (or a
        devnet's evm_revert) took back transactions this sender counted, and a nonce past the
        account's would leave the next one queued behind a gap, never mined."""
        self._nonce = None

    def behind_a_gap(self, tx) -> bool:
        """Whether a pending transaction of this account waits on a nonce nobody will send: its
        nonce is past the account's mined count, and this sender keeps one transaction in flight."""
        mined = int(self.node.call(lambda: self.node.w3.eth.get_transaction_count(self.address, "latest")))
        return tx.get("blockNumber") is None and int(tx["nonce"]) > mined

    def send(self, call, *, gas: int | None = None, before_send: Callable[[str], None] | None = None) -> str:
        """Sign and send a contract call; returns its hash. `before_send(hash)` runs after signing
        and before the node sees it, so a caller can record what to look for if it crashes. Without
        `gas` the node estimates it (+25% and 50,000 for state that changes before it is mined).
        A transaction the node already knows, or a nonce already used, returns the hash: the
        receipt says what happened; nothing is signed twice for one call."""
        node = self.node
        if gas is None:
            gas = int(node.call(lambda: call.estimate_gas({"from": self.address})) * 1.25) + 50_000
        for attempt in range(2):
            if self._nonce is None:
                self._nonce = int(node.call(lambda: node.w3.eth.get_transaction_count(self.address, "pending")))
            tx = call.build_transaction({"from": self.address, "gas": gas, "gasPrice": node.gas_price(),
                                         "nonce": self._nonce, "chainId": node.chain_id()})
            signed = self.account.sign_transaction(tx)
            tx_hash = "0x" + keccak(signed.raw_transaction).hex()
            if before_send is not None:
                before_send(tx_hash)
            try:
                node.call(lambda: node.w3.eth.send_raw_transaction(signed.raw_transaction))
            except node.error:
                self._nonce = None
                raise
            except Exception as exc:  # noqa: BLE001 - node errors arrive as ValueError / Web3RPCError
                text = str(exc).lower()
                if "already known" in text or "known transaction" in text:
                    self._nonce += 1
                    return tx_hash  # the node has it: wait for it
                self._nonce = None  # re-read the nonce next time
                if "nonce too low" in text:
                    if node.transaction(tx_hash) is not None:
                        return tx_hash  # this very transaction used it: the receipt says what happened
                    if attempt == 0:
                        continue  # another transaction took the nonce (a stale local count): sign again
                raise node.error(f"the node refused the transaction: {' '.join(str(exc).split())[:200]}") from None
            self._nonce += 1
            self.sent += 1
            return tx_hash
        raise AssertionError("unreachable")

    def transact(self, call, what: str, *, gas: int | None = None, timeout_s: float = 60):
        """send(), wait for the receipt and require success; `what` names the step in errors."""
        try:
            tx_hash = self.send(call, gas=gas)
        except self.node.error as exc:
            raise self.node.error(f"{what}: {exc}") from exc
        receipt = self.node.receipt(tx_hash, wait=True, timeout_s=timeout_s)
        if receipt is None:
            raise self.node.error(f"{what}: transaction {tx_hash} not mined within {timeout_s:g} s")
        if receipt["status"] != 1:
            raise self.node.error(f"{what}: reverted in block {receipt['blockNumber']} (tx {tx_hash})")
        return receipt
