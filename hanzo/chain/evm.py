"""An embedded EVM: the compiled suite deployed and driven in process through pyrevm (revm's
Python bindings), for simulations that need thousands of accounts acting every day.

Ape's in-process chain traces, decodes and mines every transaction, about 30 a second; here a
transaction is one call into revm, with its calldata built by a cached encoder. What that buys,
and what it leaves out:

- The contracts are Ape's compile output (the same bytecode `hanzo deploy` sends), deployed by the
  same plan (hanzo.chain.plan), so the suite is the one the tests and the devnets run.
- Calldata: per (contract, function) the selector and eth_abi's tuple encoder are built once
  (`Function`); a transaction is a dict look-up, one encoder call and one revm call.
- A transaction is a message call from an address: no signature, no nonce, gas counted but not
  paid (gas price 0). Accounts are funded by setting their ether balance in revm.
- A block is what `mine` says: every transaction until the next `mine` sees the same block
  number and timestamp (the simulator mines one block per simulated day).
- Gas: pyrevm 0.3.7 keeps revm's journal open across transactions, so an account or storage slot
  touched once stays warm for every later transaction; `gas_used` is below a real chain's after
  the first touch. Gas figures come from Ape or anvil (benchmarks/gas.py).
- Memory: the same open journal keeps every state change and log, about 0.7 kB per token
  transfer (about 700 MB for a million).
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass
from typing import Any, Iterable

from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.encoding import TupleEncoder
from eth_abi.registry import registry
from eth_utils import keccak, to_checksum_address

from hanzo.econ.params import Tokenomics

from .plan import ZERO_ADDRESS, address_of, hand_over, wire_suite
from .tx import revert_name

CHAIN_ID = 1337
GENESIS_TIMESTAMP = 1_700_000_000  # 2023-11-14, a fixed start so runs are reproducible
TX_GAS = 30_000_000  # one transaction's gas limit: a mainnet block's
ETHER = 10**18


class EVMError(RuntimeError):
    """Bad input to the embedded EVM, or a transaction revm refused before running it."""


class Reverted(EVMError):
    """A call or transaction reverted (or halted). `error` is the custom error's name (or
    "Error"/"Panic", or the halt's reason), `error_args` its decoded arguments when the ABI knows
    it, `data` the revert data as "0x…" (what hanzo.chain.tx.revert_name reads), `gas_used` revm's."""

    def __init__(self, what: str, error: str, error_args: tuple | None, data: bytes, gas_used: int):
        self.what, self.error, self.error_args = what, error, error_args
        self.data, self.gas_used = "0x" + data.hex(), gas_used
        super().__init__(f"{what} reverted: {error}{error_args if error_args is not None else ''}")


def abi_type(param: dict) -> str:
    """An ABI parameter's canonical type: tuples spelled out, "(address,uint256)[]"."""
    t = param["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(abi_type(c) for c in param["components"]) + ")" + t[len("tuple"):]
    return t


def _tuple_encoder(types: list[str]) -> TupleEncoder:
    return TupleEncoder(encoders=[registry.get_encoder(t) for t in types])


def _tuple_decoder(types: list[str]) -> TupleDecoder:
    return TupleDecoder(decoders=[registry.get_decoder(t, strict=False) for t in types])


class Function:
    """One function of one contract, ready to encode: the selector, the types and eth_abi's tuple
    encoder and decoder are built once, when the function is first used."""

    __slots__ = ("contract", "name", "signature", "selector", "inputs", "outputs", "static", "_encode", "_decode",
                 "_words", "_struct")

    def __init__(self, contract: str, entry: dict):
        self.contract, self.name = contract, entry["name"]
        self.inputs = [abi_type(i) for i in entry["inputs"]]
        self.outputs = [abi_type(o) for o in entry.get("outputs", [])]
        self.signature = f"{self.name}({','.join(self.inputs)})"
        self.selector = keccak(text=self.signature)[:4]
        self.static = entry.get("stateMutability") in ("view", "pure")
        self._encode, self._decode = _tuple_encoder(self.inputs), _tuple_decoder(self.outputs)
        # a single struct returned reads by its fields' names (a tier's `supply`, `capacity`...), as Ape's do
        outs = entry.get("outputs", [])
        parts = outs[0].get("components") if len(outs) == 1 and outs[0]["type"] == "tuple" else None
        self._struct = namedtuple(f"{self.name}_struct", [c["name"] for c in parts]) if parts else None
        # every argument one 32-byte word (uint, address, bool, bytes32) or an array of them: packed here,
        # without eth_abi's per-value validation and dispatch (a third of a bulk run's time, and most of it
        # for the batches' arrays); anything else goes to eth_abi
        packable = all(t in _WORDS or t[:-2] in _WORDS and t.endswith("[]") for t in self.inputs)
        self._words = tuple((t.endswith("[]"), _WORDS[t.removesuffix("[]")]) for t in self.inputs) if packable else None

    def __repr__(self) -> str:
        return f"{self.contract}.{self.signature}"

    def encode(self, args: tuple) -> bytes:
        """Calldata for `args`; a wrong count or value names the argument and its type."""
        if len(args) != len(self.inputs):
            raise EVMError(f"{self!r}: expected {len(self.inputs)} arguments, got {len(args)}")
        if self._words is not None:
            try:
                return self.selector + self._packed(args)
            except (TypeError, ValueError, OverflowError, AttributeError):
                pass  # eth_abi below names the argument at fault
        try:
            return self.selector + self._encode(args)
        except Exception:  # noqa: BLE001 - find the argument to blame (the slow path, only on error)
            for i, (t, value) in enumerate(zip(self.inputs, args)):
                try:
                    registry.get_encoder(t)(value)
                except Exception as exc:  # noqa: BLE001 - eth_abi raises several types
                    raise EVMError(f"{self!r}: argument {i} is not of type {t}: {value!r} ({exc})") from None
            raise

    def _packed(self, args: tuple) -> bytes:
        """The ABI's head and tail: a word per static argument; per array, its offset in the head, and
        its length and its elements' words in the tail."""
        head, tail, offset = [], [], 32 * len(args)
        for (array, word), a in zip(self._words, args):
            if not array:
                head.append(word(a))
                continue
            if not isinstance(a, (list, tuple)):
                raise TypeError(a)
            part = len(a).to_bytes(32, "big") + b"".join(word(x) for x in a)
            head.append(offset.to_bytes(32, "big"))
            tail.append(part)
            offset += len(part)
        return b"".join(head) + b"".join(tail)

    def decode(self, output: bytes) -> Any:
        """The return value: None, the single value, or a tuple of them."""
        if not self.outputs:
            return None
        values = self._decode(ContextFramesBytesIO(output))
        if self._struct is not None:
            return self._struct(*values[0])
        return values[0] if len(values) == 1 else values


def _uint_word(v: Any) -> bytes:
    if type(v) is not int:  # bool is an int: eth_abi refuses it for uint, and so does this
        raise TypeError(v)
    return v.to_bytes(32, "big")  # OverflowError past 2**256 - 1, and for a negative value


def _address_word(v: Any) -> bytes:
    if not (isinstance(v, str) and len(v) == 42 and v[:2] in ("0x", "0X")):
        raise ValueError(v)
    return bytes(12) + bytes.fromhex(v[2:])


def _bool_word(v: Any) -> bytes:
    if type(v) is not bool:
        raise TypeError(v)
    return (1 if v else 0).to_bytes(32, "big")


def _bytes32_word(v: Any) -> bytes:
    if not (isinstance(v, bytes) and len(v) == 32):
        raise ValueError(v)
    return v


_WORDS = {"uint256": _uint_word, "address": _address_word, "bool": _bool_word, "bytes32": _bytes32_word}


@dataclass(frozen=True)
class Event:
    """A decoded log: the emitting contract's name ("" if not the chain's) and address, the event's
    name ("" if unknown) and its arguments by name (an indexed dynamic value as its 32-byte hash)."""

    contract: str
    address: str
    name: str
    args: dict[str, Any]


def _hashed(t: str) -> bool:
    return t in ("string", "bytes") or t.endswith("]") or t.startswith("tuple")


class _EventABI:
    __slots__ = ("name", "indexed", "data_names", "_decode")

    def __init__(self, entry: dict):
        self.name = entry["name"]
        # an indexed string, bytes, array or struct is logged as its hash: kept as the 32 bytes
        self.indexed = [(i["name"], None if _hashed(i["type"]) else registry.get_decoder(i["type"]))
                        for i in entry["inputs"] if i.get("indexed")]
        data = [i for i in entry["inputs"] if not i.get("indexed")]
        self.data_names = [i["name"] for i in data]
        self._decode = _tuple_decoder([abi_type(i) for i in data])

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        args = {}
        for (name, decoder), topic in zip(self.indexed, topics[1:]):
            args[name] = topic if decoder is None else decoder(ContextFramesBytesIO(topic))
        args.update(zip(self.data_names, self._decode(ContextFramesBytesIO(data))))
        return args


@dataclass
class Artifact:
    """A compiled contract: its ABI (plain JSON) and its creation bytecode."""

    name: str
    abi: list[dict]
    bytecode: bytes


def artifacts_from(proj: Any = None) -> "Artifacts":
    """The compiled contracts of an Ape project (the repository's by default; Ape compiles what
    changed on first use, exactly as `hanzo deploy` does)."""
    return Artifacts(proj)


class Artifacts:
    """Compiled contracts by name, read from Ape's compile output once each."""

    def __init__(self, proj: Any = None):
        self._proj = proj
        self._cache: dict[str, Artifact] = {}

    def __getitem__(self, name: str) -> Artifact:
        if name not in self._cache:
            if self._proj is None:
                from .deploy import project

                self._proj = project()
            try:
                ct = getattr(self._proj, name).contract_type
            except AttributeError:
                raise EVMError(f"no compiled contract named {name!r} in the project") from None
            code = ct.deployment_bytecode.bytecode if ct.deployment_bytecode else None
            if not code or code == "0x":
                raise EVMError(f"{name}: no creation bytecode (an interface or an abstract contract?)")
            self._cache[name] = Artifact(name, [e.model_dump(mode="json", by_alias=True) for e in ct.abi],
                                         bytes.fromhex(code.removeprefix("0x")))
        return self._cache[name]


class Contract:
    """A contract on the embedded chain: its address, and its functions' cached encoders."""

    def __init__(self, name: str, address: str, artifact: Artifact):
        self.name, self.address, self.artifact = name, to_checksum_address(address), artifact
        self._functions: dict[str, Function] = {}
        self._by_name: dict[str, list[dict]] = {}
        for entry in artifact.abi:
            if entry.get("type") == "function":
                self._by_name.setdefault(entry["name"], []).append(entry)
        self.events = {keccak(text=f"{e['name']}({','.join(abi_type(i) for i in e['inputs'])})"): _EventABI(e)
                       for e in artifact.abi if e.get("type") == "event" and not e.get("anonymous")}

    def __repr__(self) -> str:
        return f"<{self.name} {self.address}>"

    def function(self, method: str) -> Function:
        """The function named `method`, or with the signature `method` ("transfer(address,uint256)")
        when the name is overloaded; built on first use and cached."""
        fn = self._functions.get(method)
        if fn is not None:
            return fn
        name = method.split("(")[0]
        entries = self._by_name.get(name)
        if not entries:
            raise EVMError(f"{self.name} has no function {name!r}")
        if "(" in method:
            entries = [e for e in entries if f"{name}({','.join(abi_type(i) for i in e['inputs'])})" == method]
            if not entries:
                raise EVMError(f"{self.name} has no function {method}")
        if len(entries) > 1:
            options = ", ".join(repr(Function(self.name, e)) for e in entries)
            raise EVMError(f"{self.name}.{name} is overloaded: name one by its signature ({options})")
        fn = self._functions[method] = Function(self.name, entries[0])
        return fn


@dataclass(frozen=True)
class NamedAccount:
    """An account with its key (what deploy.Roles and attest.Oracle take)."""

    address: str
    private_key: bytes


def account_from_key(private_key: bytes) -> NamedAccount:
    from coincurve import PrivateKey

    public = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return NamedAccount(to_checksum_address(keccak(public)[-20:]), private_key)


def derived_account(label: str) -> NamedAccount:
    """A reproducible account for `label` (its key is keccak("hanzo.embedded:" + label))."""
    return account_from_key(keccak(text="hanzo.embedded:" + label))


def _addresses(args: tuple) -> tuple:
    """Accounts and contracts among the arguments as their addresses (as Ape takes them)."""
    return tuple(a.address if isinstance(a, (Contract, NamedAccount)) else a for a in args)


# pyrevm's text for a failed execution: "Revert { gas_used: N, output: 0x… }", "Halt { reason: …, gas_used: N }"
_OUTCOME = re.compile(r"^(Revert|Halt) \{ (?:reason: (?P<reason>.*?), )?gas_used: (?P<gas>\d+)"
                      r"(?:, output: 0x(?P<out>[0-9a-fA-F]*))? \}$")


class Receipt:
    """A transaction's outcome: success, revm's gas used, the return value, and its logs, the last
    two decoded on first access (most bulk callers never read them)."""

    __slots__ = ("success", "gas_used", "error", "block", "_result", "_chain", "_logs", "_output", "_fn", "_value")

    def __init__(self, chain: "EmbeddedChain", result: Any, output: bytes | None = None, fn: "Function | None" = None,
                 error: str | None = None):
        self.success, self.gas_used = error is None, result.gas_used
        self.error, self.block = error, chain._block
        self._result, self._chain, self._logs = result, chain, None
        self._output, self._fn, self._value = output, fn, None

    @property
    def value(self) -> Any:
        """The function's return value (None for a revert or a function that returns nothing)."""
        if self._fn is not None:
            self._value, self._fn = self._fn.decode(self._output), None
        return self._value

    @property
    def logs(self) -> list[Event]:
        if self._logs is None:
            self._logs = [self._chain.decode_log(log) for log in self._result.logs] if self.success else []
        return self._logs

    def events(self, name: str) -> list[Event]:
        return [e for e in self.logs if e.name == name]

    def __repr__(self) -> str:
        state = "ok" if self.success else f"reverted {self.error}"
        return f"<Receipt {state}, gas {self.gas_used}, block {self.block}>"


class EmbeddedChain:
    """One in-process EVM (Cancun rules, the contracts' evm_version), its clock and its contracts.

    `keep_logs` keeps every successful transaction's logs (undecoded) for `history`, which the
    embedded audit replays; a bulk run that never audits can turn it off."""

    def __init__(self, *, chain_id: int = CHAIN_ID, timestamp: int = GENESIS_TIMESTAMP,
                 artifacts: Artifacts | None = None, keep_logs: bool = True):
        from pyrevm import EVM, BlockEnv, CfgEnv, Env

        if timestamp <= 0:
            raise EVMError(f"timestamp: expected a positive Unix time, got {timestamp}")
        env = Env(cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=1, timestamp=timestamp))
        self.evm = EVM(spec_id="CANCUN", env=env)
        self.chain_id = chain_id
        self._block, self._time = 1, timestamp  # the block env, mirrored: reading pyrevm's copies it
        self.artifacts = artifacts or Artifacts()
        self.contracts: dict[str, Contract] = {}  # lower-case address -> contract
        self.keep_logs = keep_logs
        self._history: list[tuple[int, Any]] = []  # (block, pyrevm result) of each successful transaction
        self._errors: dict[bytes, str] = {}  # selector -> custom error name, for tx.revert_name
        self._error_args: dict[bytes, TupleDecoder] = {}
        self._add_errors([{"type": "error", "name": "Error", "inputs": [{"type": "string"}]},
                          {"type": "error", "name": "Panic", "inputs": [{"type": "uint256"}]}])
        self.transactions = 0

    # ------------------------------------------------------------------ clock

    @property
    def block_number(self) -> int:
        return self._block

    @property
    def timestamp(self) -> int:
        """The current block's timestamp: every transaction until the next `mine` sees it."""
        return self._time

    def mine(self, seconds: int = 0, *, blocks: int = 1) -> None:
        """Start a new block `blocks` later and `seconds` later (the simulator: one a day)."""
        if seconds < 0 or blocks < 1:
            raise EVMError(f"mine: expected seconds >= 0 and blocks >= 1, got seconds={seconds}, blocks={blocks}")
        block = self.evm.env.block
        block.number, block.timestamp = self._block + blocks, self._time + seconds
        self.evm.set_block_env(block)
        self._block, self._time = block.number, block.timestamp

    def mine_until(self, timestamp: int) -> None:
        """A new block at `timestamp` (not before the current one)."""
        if timestamp < self.timestamp:
            raise EVMError(f"mine_until: {timestamp} is before the current block's timestamp {self.timestamp}")
        self.mine(timestamp - self.timestamp)

    # ------------------------------------------------------------------ accounts

    def fund(self, addresses: Iterable[Any], wei: int = 1_000 * ETHER) -> None:
        """Set each address's ether balance (no transaction: revm's state directly)."""
        for a in addresses:
            self.evm.set_balance(address_of(a), wei)

    def accounts(self, n: int, wei: int = 1_000 * ETHER, *, label: str = "user") -> list[NamedAccount]:
        """`n` funded accounts with keys, reproducible: the i-th is derived_account(f"{label}/{i}")."""
        if n < 0:
            raise EVMError(f"accounts: expected n >= 0, got {n}")
        made = [derived_account(f"{label}/{i}") for i in range(n)]
        self.fund(made, wei)
        return made

    def balance(self, address: Any) -> int:
        return self.evm.get_balance(address_of(address))

    # ------------------------------------------------------------------ contracts

    def _add_errors(self, abi: list[dict]) -> None:
        for e in abi:
            if e.get("type") == "error":
                types = [abi_type(i) for i in e["inputs"]]
                selector = keccak(text=f"{e['name']}({','.join(types)})")[:4]
                self._errors[selector] = e["name"]
                self._error_args[selector] = _tuple_decoder(types)

    def _register(self, name: str, address: str) -> Contract:
        artifact = self.artifacts[name]
        contract = Contract(name, address, artifact)
        self.contracts[contract.address.lower()] = contract
        self._add_errors(artifact.abi)  # errors bubble up from the contracts a call reaches: know them all
        return contract

    def deploy(self, name: str, *args: Any, sender: Any, gas: int = TX_GAS) -> Contract:
        """Deploy the compiled contract `name` with constructor arguments `args` from `sender`."""
        artifact = self.artifacts[name]
        ctor = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
        types = [abi_type(i) for i in ctor["inputs"]]
        if len(args) != len(types):
            raise EVMError(f"{name} constructor: expected {len(types)} arguments ({', '.join(types)}), got {len(args)}")
        try:
            encoded = _tuple_encoder(types)(args)
        except Exception as exc:  # noqa: BLE001 - eth_abi raises several types
            raise EVMError(f"{name} constructor: arguments do not match ({', '.join(types)}): {exc}") from None
        self._add_errors(artifact.abi)  # a constructor's revert is named by its own errors
        try:
            address = self.evm.deploy(address_of(sender), artifact.bytecode + encoded, gas=gas)
        except RuntimeError as exc:
            raise self._failure(f"deploying {name}", exc) from None
        self.transactions += 1
        self._keep(self.evm.result)
        return self._register(name, address)

    def at(self, name: str, address: str) -> Contract:
        """The contract `name` already at `address` (one a contract created)."""
        if not self.evm.get_code(address):
            raise EVMError(f"{name}: no code at {address}")
        return self._register(name, address)

    # ------------------------------------------------------------------ calls

    def call(self, contract: Contract, method: str, *args: Any, sender: Any = ZERO_ADDRESS) -> Any:
        """A function's return value, changing nothing: a view runs static; any other function is
        run and undone (an eth_call). Raises Reverted with the error's name."""
        fn = contract.function(method)
        data = fn.encode(_addresses(args))
        checkpoint = None if fn.static else self.evm.snapshot()
        try:
            out = self.evm.message_call(address_of(sender), contract.address, data, gas=TX_GAS, is_static=fn.static)
        except RuntimeError as exc:
            raise self._failure(f"{fn!r}", exc) from None
        finally:
            if checkpoint is not None:
                self.evm.revert(checkpoint)
            self.evm.reset_transient_storage()
        return fn.decode(out)

    def transact(self, contract: Contract, method: str, *args: Any, sender: Any, value: int = 0,
                 gas: int = TX_GAS, check: bool = True) -> Receipt:
        """A state-changing transaction from `sender`. A revert changes nothing; with `check` it
        raises Reverted (the custom error's name in `.error`), else comes back as a Receipt with
        success False and the error's name."""
        fn = contract.function(method)
        return self.send(address_of(sender), contract, fn, fn.encode(_addresses(args)), value=value, gas=gas,
                         check=check)

    def send(self, sender: str, contract: Contract, fn: Function, data: bytes, *, value: int = 0, gas: int = TX_GAS,
             check: bool = True) -> Receipt:
        """`transact` with the calldata already encoded (by `fn.encode`): the bulk path."""
        try:
            out = self.evm.message_call(sender, contract.address, data, value=value, gas=gas)
        except RuntimeError as exc:
            self.evm.reset_transient_storage()
            failure = self._failure(f"{fn!r}", exc)
            if check or not isinstance(failure, Reverted):
                raise failure from None
            return Receipt(self, self.evm.result, error=failure.error)
        # transient storage lives for one transaction (EIP-1153); pyrevm's open journal would keep it
        self.evm.reset_transient_storage()
        self.transactions += 1
        result = self.evm.result
        if self.keep_logs:
            self._history.append((self._block, result))
        return Receipt(self, result, out, fn if fn.outputs else None)

    def _keep(self, result: Any) -> None:
        if self.keep_logs:
            self._history.append((self._block, result))

    def _failure(self, what: str, exc: RuntimeError) -> EVMError:
        """pyrevm's error text ("Revert { gas_used: …, output: 0x… }", "Halt { reason: …, … }")
        as Reverted with the custom error's name; anything else (a transaction revm would not run)
        as EVMError."""
        text = str(exc)
        m = _OUTCOME.match(text)
        if m is None:
            return EVMError(f"{what}: revm refused it: {text}")
        if m.group(1) == "Halt":
            return Reverted(what, f"halt: {m.group('reason')}", None, b"", int(m.group("gas")))
        data = bytes.fromhex(m.group("out") or "")
        if not data:
            return Reverted(what, "reverted without data", None, data, int(m.group("gas")))
        failure = Reverted(what, "", None, data, int(m.group("gas")))
        name = revert_name(failure, self._errors)  # the selector's name, or the text when unknown
        args = None
        decoder = self._error_args.get(data[:4])
        if decoder is not None:
            try:
                args = decoder(ContextFramesBytesIO(data[4:]))
            except Exception:  # noqa: BLE001 - data that does not fit the error's types: show the name alone
                args = None
        else:
            name = f"unknown error 0x{data[:4].hex()}"
        return Reverted(what, name, args, data, int(m.group("gas")))

    # ------------------------------------------------------------------ logs

    def decode_log(self, log: Any) -> Event:
        topics, data = log.data
        contract = self.contracts.get(log.address.lower())
        abi = contract.events.get(topics[0]) if contract is not None and topics else None
        if abi is None:
            return Event(contract.name if contract else "", log.address, "", {"topics": topics, "data": data})
        return Event(contract.name, contract.address, abi.name, abi.decode(topics, data))

    def history(self, since_block: int = 0, names: Iterable[str] | None = None) -> list[tuple[int, Event]]:
        """(block, event) of every kept transaction's logs since `since_block`, in order."""
        wanted = set(names) if names is not None else None
        found = []
        for block, result in self._history:
            if block < since_block:
                continue
            for log in result.logs:
                event = self.decode_log(log)
                if wanted is None or event.name in wanted:
                    found.append((block, event))
        return found


class EmbeddedSteps:
    """hanzo.chain.plan's steps on an embedded chain, every transaction from `deployer`."""

    def __init__(self, chain: EmbeddedChain, deployer: Any):
        self.chain, self.deployer = chain, address_of(deployer)

    def deploy(self, name: str, *args: Any) -> Contract:
        return self.chain.deploy(name, *args, sender=self.deployer)

    def at(self, name: str, address: str) -> Contract:
        return self.chain.at(name, address)

    def view(self, contract: Contract, method: str, *args: Any) -> Any:
        return self.chain.call(contract, method, *args, sender=self.deployer)

    def send(self, contract: Contract, method: str, *args: Any) -> None:
        self.chain.transact(contract, method, *args, sender=self.deployer)

    def pending_timestamp(self) -> int:
        return self.chain.timestamp


def default_roles() -> Any:
    """deploy.Roles of reproducible accounts: the deployer and the oracle with keys, the team
    beneficiary, the model developers and the sale-and-liquidity holder by address."""
    from .deploy import Roles

    named = {label: derived_account(label) for label in
             ("deployer", "oracle", "team_beneficiary", "model_developers", "sale_and_liquidity")}
    return Roles(named["deployer"], named["oracle"], named["team_beneficiary"].address,
                 named["model_developers"].address, named["sale_and_liquidity"].address)


def deploy_suite(params: Tokenomics, roles: Any = None, *, chain: EmbeddedChain | None = None,
                 handover: bool = True, log: Any = None) -> tuple[EmbeddedChain, Any]:
    """Deploy the suite on an embedded chain (a new one unless `chain`) by hanzo.chain.plan, as
    deploy.deploy_suite does through Ape; every named role is funded with ether. Returns the chain
    and a deploy.Deployment (network "embedded") whose contracts are this chain's."""
    from .deploy import Deployment

    chain = chain or EmbeddedChain()
    roles = roles or default_roles()
    chain.fund([roles.deployer, roles.oracle, roles.registrar, roles.team_beneficiary, roles.model_developers,
                roles.sale_and_liquidity])
    first_block = chain.block_number
    steps = EmbeddedSteps(chain, roles.deployer)
    contracts, allocations = wire_suite(params, roles, steps, log or (lambda *_: None))
    if handover:
        hand_over(contracts, roles.deployer, steps)
    deployment = Deployment(network="embedded", chain_id=chain.chain_id, block=first_block, params=params,
                            contracts=contracts, roles=roles, genesis_allocations=allocations)
    return chain, deployment
