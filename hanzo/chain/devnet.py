"""anvil driven at speed: pre-signed raw transactions, batched JSON-RPC, blocks mined on demand.

Chain mode on a node sends a transaction and waits for its receipt before the next (about 30 a
second, hanzo.chain.tx). Here the node never mines by itself (`--no-mining`): a day's (or a
batch's) transactions are signed locally with nonces kept here, posted many to one HTTP request,
and mined by `evm_mine` when the day is done (in blocks of at most 250 transactions, a second
apart: see Devnet.mine); then every receipt is fetched, a block's to a call, and checked.

Nothing is silently lost: every transaction signed is tracked until its receipt is read. A
revert comes back as an Outcome with the custom error's name (`ots_getTransactionError` gives
the revert data); a transaction the node refused, or one queued behind a refused nonce, is
dropped from the node's pool and named in a DevnetError; a node that stops answering raises a
DevnetError naming every transaction not confirmed.

The anvil this module starts (`Anvil`) has chain id 1337, the embedded EVM's, so an oracle
signature is valid on both; base fee 0 and gas price 0, so no account needs ether; transactions
mined in the order they arrived (`--order fifo`), so a day's dependent transfers (paid, then
passed on) run as sent; and a block gas limit large enough for a day of 10,000 accounts.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Iterable

import requests
from coincurve import PrivateKey
from eth_abi.decoding import ContextFramesBytesIO
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from .evm import (CHAIN_ID, GENESIS_TIMESTAMP, Artifacts, Contract, EVMError, NamedAccount, _tuple_decoder,
                  _tuple_encoder, abi_type)
from .plan import ZERO_ADDRESS, address_of, hand_over, wire_suite
from .tx import error_selectors

TEST_MNEMONIC = "test test test test test test test test test test test junk"  # Ape's and anvil's test accounts
BLOCK_GAS_LIMIT = 10**11  # a day of 10,000 accounts' transfers and batches in one block
SHOWN = 8  # transactions named in an error message (all are in the error's attributes)
REQUEST_BYTES = 1_000_000  # one batched request's body at most (anvil refuses bodies over 2 MB)
ERROR_STRING, PANIC = keccak(b"Error(string)")[:4], keccak(b"Panic(uint256)")[:4]


class DevnetError(RuntimeError):
    """The node refused, lost or never mined transactions, or stopped answering. `unconfirmed`
    lists every transaction (Sent) signed and not confirmed; `outcomes` the ones confirmed."""

    def __init__(self, message: str, unconfirmed: Iterable["Sent"] = (), outcomes: Iterable["Outcome"] = ()):
        super().__init__(message)
        self.unconfirmed, self.outcomes = list(unconfirmed), list(outcomes)


class DevnetReverted(DevnetError):
    """Transactions were mined and reverted (mine(check=True)); `outcomes` holds every one of the
    mined transactions, the reverted ones with their error's name."""


@dataclass
class Sent:
    """A signed transaction, tracked until its receipt is read."""

    label: str
    sender: str
    nonce: int
    hash: str
    gas: int
    refused: str | None = None  # the node's answer when it would not take it

    def __str__(self) -> str:
        return f"{self.label} ({self.sender} nonce {self.nonce}, {self.hash})"


@dataclass(frozen=True)
class Outcome:
    """A mined transaction: `error` is None when it succeeded, else the custom error's name
    ("Error: <message>", "Panic(0x11)", "out of gas", "reverted without data")."""

    label: str
    hash: str
    block: int
    gas_used: int
    error: str | None
    contract_address: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ---------------------------------------------------------------------------------------- signing


def _rlp_int(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _rlp_string(b: bytes) -> bytes:
    if len(b) == 1 and b[0] < 0x80:
        return b
    if len(b) < 56:
        return bytes((0x80 + len(b),)) + b
    size = _rlp_int(len(b))
    return bytes((0xB7 + len(size),)) + size + b


def _rlp_list(items: list[bytes]) -> bytes:
    payload = b"".join(_rlp_string(i) for i in items)
    if len(payload) < 56:
        return bytes((0xC0 + len(payload),)) + payload
    size = _rlp_int(len(payload))
    return bytes((0xF7 + len(size),)) + size + payload


class Wallet:
    """An account's key and its next nonce, kept here (read from the node once)."""

    __slots__ = ("address", "nonce", "_key")

    def __init__(self, private_key: bytes | str, nonce: int):
        if isinstance(private_key, str):
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        self._key = PrivateKey(bytes(private_key))
        self.address = to_checksum_address(keccak(self._key.public_key.format(compressed=False)[1:])[-20:])
        self.nonce = nonce

    def sign(self, chain_id: int, nonce: int, gas_price: int, gas: int, to: str | None, value: int,
             data: bytes) -> tuple[bytes, str]:
        """A legacy EIP-155 transaction, signed: (raw bytes, hash "0x…"). The same bytes as
        eth_account's sign_transaction (tests/test_devnet.py), without its validation layers."""
        fields = [_rlp_int(nonce), _rlp_int(gas_price), _rlp_int(gas), bytes.fromhex(to[2:]) if to else b"",
                  _rlp_int(value), data]
        signature = self._key.sign_recoverable(keccak(_rlp_list(fields + [_rlp_int(chain_id), b"", b""])),
                                               hasher=None)
        v = 35 + 2 * chain_id + signature[64]
        raw = _rlp_list(fields + [_rlp_int(v), signature[:32].lstrip(b"\0"), signature[32:64].lstrip(b"\0")])
        return raw, "0x" + keccak(raw).hex()


# ---------------------------------------------------------------------------------------- the node


class Anvil:
    """An anvil process of our own on a free local port (stopped by `stop` or on leaving `with`)."""

    def __init__(self, *, accounts: int = 10, chain_id: int = CHAIN_ID, timestamp: int = GENESIS_TIMESTAMP,
                 mnemonic: str = TEST_MNEMONIC, extra: Iterable[str] = ()):
        from .toolchain import anvil_dir

        folder = anvil_dir()
        if folder is None:
            raise DevnetError("anvil is not installed (npm @foundry-rs/anvil: make setup)")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()  # its messages, for the error if it will not start
        self.process = subprocess.Popen(
            [str(folder / "anvil"), "--port", str(self.port), "--chain-id", str(chain_id), "--timestamp",
             str(timestamp), "--mnemonic", mnemonic, "--accounts", str(accounts), "--hardfork", "cancun",
             "--no-mining", "--order", "fifo", "--base-fee", "0", "--gas-price", "0",
             "--gas-limit", str(BLOCK_GAS_LIMIT), "--quiet", *extra],
            stdout=subprocess.DEVNULL, stderr=self._log)
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace").strip()
                raise DevnetError(f"anvil exited with code {self.process.returncode} on start: {err[-400:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.1):
                break
            if time.monotonic() > deadline:
                self.stop()
                raise DevnetError(f"anvil did not answer on port {self.port} within 30 s")
            time.sleep(0.05)

    def exit_code(self) -> int | None:
        """None while it runs."""
        return self.process.poll()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Anvil":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()


def _plain(args: tuple) -> tuple:
    """Contracts and accounts among call arguments as their addresses (as Ape takes them)."""
    return tuple(a.address if isinstance(a, (Contract, NamedAccount)) else a for a in args)


def _describe(txs: list[Sent]) -> str:
    shown = "; ".join(str(t) for t in txs[:SHOWN])
    return shown + (f"; and {len(txs) - SHOWN} more" if len(txs) > SHOWN else "")


class Devnet:
    """One node (an anvil started with --no-mining, e.g. by Anvil) driven in batches.

    `send` signs and queues; `flush` posts what is queued, `batch` transactions to a request;
    `mine` posts and mines the day in blocks of `block_txs` transactions, reads every receipt and
    returns the Outcomes in the order sent. `transact`, `call` and `deploy` are the one-at-a-time
    conveniences (each `transact` mines its own block) for setup and the deployment plan."""

    def __init__(self, url: str, *, node: Anvil | None = None, artifacts: Artifacts | None = None,
                 gas_price: int = 0, batch: int = 1_000, block_txs: int = 250, timeout_s: float = 300):
        self.url, self.node = url, node
        self.artifacts = artifacts or Artifacts()
        self.gas_price, self.batch, self.timeout_s = gas_price, batch, timeout_s
        if block_txs < 1:
            raise DevnetError(f"block_txs: expected at least 1 transaction a block, got {block_txs}")
        self.block_txs = block_txs
        self._http = requests.Session()
        self._id = 0
        self._wallets: dict[str, Wallet] = {}
        self._queued: list[tuple[Sent, bytes]] = []  # signed, not posted
        self._in_flight: list[Sent] = []  # posted (or refused), receipt not read
        self.contracts: dict[str, Contract] = {}  # lower-case address -> contract
        self._errors: dict[bytes, str] = {}
        self.sent = 0  # transactions posted
        # before the first call: a node that is not there is named with the transactions (none yet)
        self.chain_id = int(self.rpc("eth_chainId"), 16)
        head = self.rpc("eth_getBlockByNumber", "latest", False)
        self.block_number, self.timestamp = int(head["number"], 16), int(head["timestamp"], 16)
        # a node started with automine (Ape's anvil) would mine each transaction as it arrives
        self.rpc("evm_setAutomine", False)
        self.rpc("evm_setIntervalMining", 0)

    # ------------------------------------------------------------------ JSON-RPC

    def _post(self, body: str, what: str) -> Any:
        try:
            answer = self._http.post(self.url, data=body, timeout=self.timeout_s,
                                     headers={"Content-Type": "application/json"})
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise self._lost(what, exc) from None
        if answer.status_code != 200:
            raise DevnetError(f"{what}: the node answered HTTP {answer.status_code}: {answer.text[:200]}",
                              self._in_flight + [s for s, _ in self._queued])
        try:
            return answer.json()
        except ValueError:
            raise DevnetError(f"{what}: the node's answer is not JSON: {answer.text[:200]}",
                              self._in_flight + [s for s, _ in self._queued]) from None

    def _lost(self, what: str, exc: Exception) -> DevnetError:
        exit_code = self.node.exit_code() if self.node is not None else None
        state = f" (anvil exited with code {exit_code})" if exit_code is not None else ""
        unconfirmed = self._in_flight + [s for s, _ in self._queued]
        listed = (f"; {len(unconfirmed)} transactions signed and not confirmed: {_describe(unconfirmed)}"
                  if unconfirmed else "; no transaction was waiting")
        reason = " ".join(str(exc).split())[:160]
        return DevnetError(f"the node at {self.url} stopped answering during {what}{state}: {reason}{listed}",
                           unconfirmed)

    def rpc(self, method: str, *params: Any) -> Any:
        """One JSON-RPC call's result; an error answer raises DevnetError naming the method."""
        self._id += 1
        answer = self._post(json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}),
                            method)
        if "error" in answer:
            raise DevnetError(f"{method}: the node answered {answer['error'].get('message', answer['error'])}")
        return answer["result"]

    def rpc_batch(self, method: str, params: list[list], what: str) -> list[dict]:
        """Many calls of one method, up to `batch` calls and REQUEST_BYTES to a request; each
        answer as the node gave it ({"result": …} or {"error": …}), in the order of `params`."""
        answers: list[dict] = []
        chunk: list[str] = []  # each call's params, as JSON
        size = 0

        def post() -> None:
            first = self._id + 1
            self._id += len(chunk)
            body = "[" + ",".join(f'{{"jsonrpc":"2.0","id":{first + k},"method":"{method}","params":{p}}}'
                                  for k, p in enumerate(chunk)) + "]"
            got = self._post(body, what)
            if not isinstance(got, list) or len(got) != len(chunk):
                raise DevnetError(f"{what}: the node answered a batch of {len(chunk)} with {str(got)[:200]}",
                                  self._in_flight + [s for s, _ in self._queued])
            by_id = {a.get("id"): a for a in got}
            answers.extend(by_id.get(first + k, {"error": {"message": "no answer"}}) for k in range(len(chunk)))

        for p in params:
            encoded = json.dumps(p)
            if chunk and (len(chunk) >= self.batch or size + len(encoded) > REQUEST_BYTES):
                post()
                chunk, size = [], 0
            chunk.append(encoded)
            size += len(encoded) + 64  # and the call's envelope
        if chunk:
            post()
        return answers

    # ------------------------------------------------------------------ accounts and contracts

    def wallet(self, account: Any, *, nonce: int | None = None) -> Wallet:
        """The signing wallet of an account (anything with `.private_key`, or the key itself); its
        nonce is read from the node the first time (or taken from `nonce`, for many new accounts
        at once), then kept here."""
        key = getattr(account, "private_key", account)
        probe = Wallet(key, 0)
        known = self._wallets.get(probe.address)
        if known is None:
            probe.nonce = (int(self.rpc("eth_getTransactionCount", probe.address, "pending"), 16)
                           if nonce is None else nonce)
            known = self._wallets[probe.address] = probe
        return known

    def register(self, name: str, address: str) -> Contract:
        """The compiled contract `name` at `address`: its encoders, and its errors for revert names."""
        artifact = self.artifacts[name]
        contract = Contract(name, address, artifact)
        self.contracts[contract.address.lower()] = contract
        self._errors.update(error_selectors(artifact.abi))
        return contract

    # ------------------------------------------------------------------ sending and mining

    def send(self, sender: Wallet, to: str | None, data: bytes = b"", *, gas: int, value: int = 0,
             label: str = "") -> Sent:
        """Sign a transaction with the sender's next nonce and queue it (posted by flush or mine)."""
        raw, tx_hash = sender.sign(self.chain_id, sender.nonce, self.gas_price, gas, to, value, data)
        sent = Sent(label or "transaction", sender.address, sender.nonce, tx_hash, gas)
        sender.nonce += 1
        self._queued.append((sent, raw))
        return sent

    def flush(self, limit: int | None = None) -> None:
        """Post the queued transactions (the first `limit` of them), many to a request; the node's
        refusals are kept on each Sent and reported by the next `mine`."""
        if not self._queued:
            return
        cut = len(self._queued) if limit is None else limit
        queued, self._queued = self._queued[:cut], self._queued[cut:]
        self._in_flight.extend(s for s, _ in queued)
        answers = self.rpc_batch("eth_sendRawTransaction", [["0x" + raw.hex()] for _, raw in queued],
                                 f"sending {len(queued)} transactions")
        for (sent, _), answer in zip(queued, answers):
            if "error" in answer:
                error = answer["error"]
                sent.refused = " ".join(str(error.get("message", error)).split())[:200]
        self.sent += len(queued)

    def mine(self, timestamp: int | None = None, *, check: bool = True) -> list[Outcome]:
        """Post what is queued and mine it, the first block at `timestamp` (default: a second after
        the last block); read every receipt and return the Outcomes in the order sent. With `check`
        a revert raises DevnetReverted (every outcome in it); without, reverts are outcomes with
        their error's name. A transaction refused or left unmined raises DevnetError, after the
        others are read: they are in its `outcomes`.

        A day is mined in blocks of at most `block_txs` transactions, a second apart: anvil builds
        each receipt by walking the block's earlier ones, so reading a block's receipts costs the
        square of its size (4,000 transfers in one block: 2.6 s; in 16 blocks of 250: 0.2 s)."""
        when = self.timestamp + 1 if timestamp is None else int(timestamp)
        if when <= self.timestamp:
            raise DevnetError(f"mine: timestamp {when} is not after the last block's ({self.timestamp})")
        first = self.block_number + 1
        self.flush(self.block_txs)
        self._mine_block(when)
        while self._queued:
            self.flush(self.block_txs)
            self._mine_block(self.timestamp + 1)
        # gas beyond the block gas limit spills into more blocks, while they take any
        pending, before = int(self.rpc("txpool_status")["pending"], 16), None
        while pending and pending != before:
            self._mine_block(self.timestamp + 1)
            pending, before = int(self.rpc("txpool_status")["pending"], 16), pending
        return self._confirm(check, first)

    def _mine_block(self, timestamp: int) -> None:
        self.rpc("evm_mine", {"timestamp": timestamp})
        self.block_number, self.timestamp = self.block_number + 1, timestamp

    def _confirm(self, check: bool, first_block: int) -> list[Outcome]:
        flight = [s for s in self._in_flight if s.refused is None]
        # the blocks' receipts, one call a block; a transaction mined elsewhere is asked for alone
        blocks = self.rpc_batch("eth_getBlockReceipts", [[hex(b)] for b in range(first_block, self.block_number + 1)],
                                f"reading the receipts of {len(flight)} transactions")
        found = {r["transactionHash"]: r for answer in blocks for r in answer.get("result") or ()}
        elsewhere = [s for s in flight if s.hash not in found]
        for sent, answer in zip(elsewhere, self.rpc_batch("eth_getTransactionReceipt", [[s.hash] for s in elsewhere],
                                                          f"reading {len(elsewhere)} receipts")):
            if answer.get("result") is not None:
                found[sent.hash] = answer["result"]
        mined = [(s, found[s.hash]) for s in flight if s.hash in found]
        unmined = [s for s in self._in_flight if s.refused is not None or s.hash not in found]
        reverted = [s for s, r in mined if r["status"] != "0x1"]
        errors = self._revert_reasons(reverted)
        outcomes = []
        for s, r in mined:
            gas_used = int(r["gasUsed"], 16)
            error = None if r["status"] == "0x1" else self._reason(errors[s.hash], gas_used, s.gas)
            created = r.get("contractAddress")
            outcomes.append(Outcome(s.label, s.hash, int(r["blockNumber"], 16), gas_used, error,
                                    to_checksum_address(created) if created else None))
        self._in_flight = unmined  # until they are dropped: a node lost meanwhile names them
        if unmined:
            error = self._unmined(unmined, outcomes)
            self._in_flight = []
            raise error
        failed = [o for o in outcomes if not o.ok]
        if check and failed:
            shown = "; ".join(f"{o.label} ({o.hash}): {o.error}" for o in failed[:SHOWN])
            more = f"; and {len(failed) - SHOWN} more" if len(failed) > SHOWN else ""
            raise DevnetReverted(f"{len(failed)} of {len(outcomes)} transactions reverted: {shown}{more}",
                                 outcomes=outcomes)
        return outcomes

    def _revert_reasons(self, reverted: list[Sent]) -> dict[str, str]:
        """Each reverted transaction's revert data ("0x…"), as anvil's Otterscan API gives it."""
        if not reverted:
            return {}
        answers = self.rpc_batch("ots_getTransactionError", [[s.hash] for s in reverted],
                                 f"reading {len(reverted)} revert reasons")
        return {s.hash: a.get("result") or "0x" for s, a in zip(reverted, answers)}

    def _reason(self, data: str, gas_used: int, gas: int) -> str:
        """The revert's name: the custom error's (from every registered contract's ABI: errors
        bubble up from the contracts a call reaches), Error's message, Panic's code, or why none."""
        raw = bytes.fromhex(data.removeprefix("0x"))
        if not raw:
            return "out of gas" if gas_used >= gas else "reverted without data"
        if raw[:4] == ERROR_STRING:
            with contextlib.suppress(Exception):
                return f"Error: {_tuple_decoder(['string'])(ContextFramesBytesIO(raw[4:]))[0]}"
        if raw[:4] == PANIC:
            return f"Panic(0x{int.from_bytes(raw[4:36], 'big'):02x})"
        return self._errors.get(raw[:4], f"unknown error 0x{raw[:4].hex()}")

    def _unmined(self, unmined: list[Sent], outcomes: list[Outcome]) -> DevnetError:
        """Refused transactions, and those queued behind them (a nonce gap): taken out of the node's
        pool (anvil_removePoolTransactions: anvil_dropTransaction leaves a queued one, which a later
        transaction filling the gap would bring back), and their senders' nonces read again."""
        senders = list(dict.fromkeys(s.sender for s in unmined))
        for sender in senders:
            self.rpc("anvil_removePoolTransactions", sender)
            self._wallets[sender].nonce = int(self.rpc("eth_getTransactionCount", sender, "latest"), 16)
        refused = [s for s in unmined if s.refused is not None]
        stuck = [s for s in unmined if s.refused is None]
        known = self.rpc_batch("eth_getTransactionByHash", [[s.hash] for s in stuck], "checking the pool")
        kept = [s for s, a in zip(stuck, known) if a.get("result") is not None]
        parts = []
        if refused:
            parts.append(f"{len(refused)} refused by the node: "
                         + "; ".join(f"{s}: {s.refused}" for s in refused[:SHOWN])
                         + (f"; and {len(refused) - SHOWN} more" if len(refused) > SHOWN else ""))
        if stuck:
            parts.append(f"{len(stuck)} not mined (behind a refused nonce; dropped from the pool): {_describe(stuck)}")
        if kept:
            parts.append(f"{len(kept)} of them still known to the node (it may mine them later): {_describe(kept)}")
        return DevnetError(f"{len(unmined)} transactions not confirmed ({len(outcomes)} others mined): "
                           + " | ".join(parts), unmined, outcomes)

    # ------------------------------------------------------------------ one at a time

    def transact(self, contract: Contract, method: str, *args: Any, sender: Any, gas: int | None = None,
                 value: int = 0, timestamp: int | None = None) -> Outcome:
        """One call in a block of its own; raises DevnetReverted with the error's name."""
        fn = contract.function(method)
        data = fn.encode(_plain(args))
        wallet = self.wallet(sender)
        if gas is None:
            gas = self.estimate(wallet.address, contract.address, data, value, f"{fn!r}")
        self.send(wallet, contract.address, data, gas=gas, value=value, label=f"{fn!r}")
        (outcome,) = self.mine(timestamp)
        return outcome

    def estimate(self, sender: str, to: str | None, data: bytes, value: int, what: str) -> int:
        """The node's gas estimate, +25% and 50,000 (state may change before it is mined)."""
        call = {"from": sender, "data": "0x" + data.hex(), "value": hex(value)}
        if to:
            call["to"] = to
        try:
            return int(int(self.rpc("eth_estimateGas", call), 16) * 1.25) + 50_000
        except DevnetError as exc:
            raise DevnetError(f"{what}: would revert ({exc})") from None

    def call(self, contract: Contract, method: str, *args: Any, sender: str = ZERO_ADDRESS) -> Any:
        """A function's value at the last block (an eth_call)."""
        fn = contract.function(method)
        data = fn.encode(_plain(args))
        out = self.rpc("eth_call", {"from": address_of(sender), "to": contract.address, "data": "0x" + data.hex()},
                       "latest")
        return fn.decode(bytes.fromhex(out.removeprefix("0x")))

    def deploy(self, name: str, *args: Any, sender: Any) -> Contract:
        """Deploy the compiled contract `name` in a block of its own."""
        artifact = self.artifacts[name]
        ctor = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
        types = [abi_type(i) for i in ctor["inputs"]]
        if len(args) != len(types):
            raise EVMError(f"{name} constructor: expected {len(types)} arguments ({', '.join(types)}), got {len(args)}")
        data = artifact.bytecode + _tuple_encoder(types)(_plain(args))
        wallet = self.wallet(sender)
        gas = self.estimate(wallet.address, None, data, 0, f"deploying {name}")
        self.send(wallet, None, data, gas=gas, label=f"deploying {name}")
        (outcome,) = self.mine()
        return self.register(name, outcome.contract_address)


class DevnetSteps:
    """hanzo.chain.plan's steps on a devnet, every transaction from `deployer`, each in its own block."""

    def __init__(self, devnet: Devnet, deployer: Any):
        self.devnet, self.deployer = devnet, deployer

    def deploy(self, name: str, *args: Any) -> Contract:
        return self.devnet.deploy(name, *args, sender=self.deployer)

    def at(self, name: str, address: str) -> Contract:
        return self.devnet.register(name, address)

    def view(self, contract: Contract, method: str, *args: Any) -> Any:
        return self.devnet.call(contract, method, *args, sender=address_of(self.deployer))

    def send(self, contract: Contract, method: str, *args: Any) -> None:
        self.devnet.transact(contract, method, *args, sender=self.deployer)

    def pending_timestamp(self) -> int:
        return self.devnet.timestamp + 1  # what the next `mine` without a timestamp uses


def deploy_suite(devnet: Devnet, params: Any, roles: Any, *, handover: bool = True) -> Any:
    """Deploy the suite on a devnet by hanzo.chain.plan (as deploy.deploy_suite does through Ape
    and hanzo.chain.evm in process). `roles.deployer` needs its key; the devnet's gas price is 0,
    so nobody needs ether. Returns a deploy.Deployment (network "devnet")."""
    from .deploy import Deployment

    first_block = devnet.block_number + 1
    steps = DevnetSteps(devnet, roles.deployer)
    contracts, allocations = wire_suite(params, roles, steps)
    if handover:
        hand_over(contracts, roles.deployer, steps)
    return Deployment(network="devnet", chain_id=devnet.chain_id, block=first_block, params=params,
                      contracts=contracts, roles=roles, genesis_allocations=allocations)
