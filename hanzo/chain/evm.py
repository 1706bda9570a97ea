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
  touched once stays warm for every later transaction until the next compaction; `gas_used` is
  below a real chain's after the first touch. Gas figures come from Ape or anvil (benchmarks/gas.py).
- Memory: the same open journal keeps every state change and log (about 0.7 kB a token transfer,
  18 kB a chain-mode account-day), and pyrevm has no call that closes it. So `mine` compacts: past
  `compact_at` journal frames (a call frame's changes each) it reads what revm loaded since the last
  compaction from its Debug text (`journal_str`, pyrevm 0.3.7 pinned: no other call lists storage
  slots; every account and slot counted against what revm lists), reverts to a snapshot opened at the
  last compaction (which drops the journal and logs since, and unloads every account and slot), and
  writes what changed into revm's database. A compaction's cost is its period's (the journal's text),
  not the whole state's; `state` reads revm back, and a direct `compact()` moves the whole state into a
  fresh revm and reads it back.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass
from functools import lru_cache
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
EVM_SPEC = "CANCUN"  # the contracts' evm_version
# revm journal frames before `mine` compacts (about 0.5 GB, 3 days of 10,000 accounts). Measured on 10,000 accounts
# for 20 days (benchmarks/chain.py --scenario 10000x20 --full): the EVM's process took 98-101 CPU s at 1.5M (the
# value before), 82 at 500k, 85-88 at 300k, 92.5 at 100k (a compaction a day), and peaked at 7.5, 2.9, 2.2, 1.3 GB:
# a journal of GBs is paid in page faults (the kernel's time fell from 28 s to 7), a compaction a day in its text.
COMPACT_AT = 500_000

# revm 8's Debug text of one account in JournaledState.state, and of one storage slot
_ACCOUNT = re.compile(
    r"(0x[0-9a-f]{40}): Account \{ info: AccountInfo \{ balance: (\d+), nonce: (\d+), code_hash: 0x[0-9a-f]{64}, "
    r"code: (?:None|Some\(Bytecode \{ bytecode: 0x([0-9a-f]*), state: (?:Raw|(?:Analysed|Checked) \{ len: (\d+)))")
_SLOT = re.compile(r"(\d+): StorageSlot \{ previous_or_original_value: \d+, present_value: (\d+) \}")


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
        # arguments built of 32-byte words (uint256, address, bool, bytes32), tuples of them, `bytes`, and arrays
        # of any of these (the market maker's batches, the training batches' ops and signatures) are packed
        # here, without eth_abi's per-value validation and dispatch (most of a bulk run's encoding time);
        # anything else goes to eth_abi, and so does any value the packer refuses (eth_abi then names it)
        packers = [_packer(t) for t in self.inputs]
        self._words = None if None in packers else tuple(packers)

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
        """The ABI's head and tail: a static argument's words in the head; a dynamic one's offset in the
        head and its encoding in the tail."""
        return _pack_sequence(self._words, args)

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


def _bytes_tail(v: Any) -> bytes:
    if not isinstance(v, bytes):
        raise TypeError(v)
    return len(v).to_bytes(32, "big") + v + bytes(-len(v) % 32)


def _pack_sequence(packers: tuple, values: Any) -> bytes:
    """The arguments' encoding: a word's bytes in the head; a dynamic part's offset in the head and its
    bytes in the tail."""
    if not isinstance(values, (tuple, list)) or len(values) != len(packers):
        raise TypeError(values)
    head, tail, offset = [], [], 32 * len(packers)  # every part's head is one word: a static part is a word
    for (dynamic, pack), v in zip(packers, values):
        part = pack(v)
        if dynamic:
            head.append(offset.to_bytes(32, "big"))
            tail.append(part)
            offset += len(part)
        else:
            head.append(part)
    return b"".join(head) + b"".join(tail)


def _packer(t: str) -> tuple[bool, Any] | None:
    """(dynamic, pack) for an argument of ABI type `t`, or None where eth_abi must do it: a word, `bytes`,
    or an array of words, of tuples of words or of `bytes`."""
    if t in _WORDS:
        return False, _WORDS[t]
    if t == "bytes":
        return True, _bytes_tail
    if t.endswith("[]"):
        inner = t[:-2]
        if inner in _WORDS:
            word = _WORDS[inner]
            return True, lambda a: _array(a) + b"".join(word(x) for x in a)
        if inner == "bytes":
            return True, _bytes_array
        if inner.startswith("(") and inner.endswith(")") and all(x in _WORDS for x in inner[1:-1].split(",")):
            words = tuple(_WORDS[x] for x in inner[1:-1].split(","))
            return True, lambda a: _array(a) + b"".join(_static_tuple(words, x) for x in a)
    return None


def _array(a: Any) -> bytes:
    """An array's length word (and the check that it is one)."""
    if not isinstance(a, (list, tuple)):
        raise TypeError(a)
    return len(a).to_bytes(32, "big")


def _static_tuple(words: tuple, v: Any) -> bytes:
    if not isinstance(v, (tuple, list)) or len(v) != len(words):
        raise TypeError(v)
    return b"".join(w(x) for w, x in zip(words, v))


def _bytes_array(a: Any) -> bytes:
    """bytes[]: the length, an offset per element (from the first offset's word), then the elements."""
    length = _array(a)
    parts = [_bytes_tail(x) for x in a]
    head, offset = [], 32 * len(parts)
    for part in parts:
        head.append(offset.to_bytes(32, "big"))
        offset += len(part)
    return length + b"".join(head) + b"".join(parts)


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


@lru_cache(maxsize=None)
def _code_hash(code: bytes) -> bytes:
    return keccak(code)  # keccak(b"") is revm's KECCAK_EMPTY, an account without code's


def _merge(base: dict, touched: dict, write: Any) -> None:
    """`touched` (revm's accounts and loaded slots, zeros included) over `base` (the state as of the last
    compaction, non-zero slots only), in place; `write(address, balance, nonce, code, changed)` for each
    touched account, with the (slot, value) pairs that differ from `base` (a zero where a slot was cleared)."""
    for address, (balance, nonce, code, loaded) in touched.items():
        kept = base.get(address)
        slots = kept[3] if kept is not None else {}
        changed = [(slot, value) for slot, value in loaded.items() if slots.get(slot, 0) != value]
        for slot, value in changed:
            if value:
                slots[slot] = value
            else:
                del slots[slot]
        base[address] = (balance, nonce, code, slots)
        write(address, balance, nonce, code, changed)


def _analysed(evm: Any, state: dict) -> dict[str, Any]:
    """revm's own AccountInfo of each contract in `state` (address -> (balance, nonce, code, slots)), to be
    written back as it is: its code analysed (the jump table revm builds when it creates a contract).
    pyrevm's AccountInfo(code=...) holds raw code, which revm analyses again at every call frame (a
    transfer took 15-17 µs after a compaction, 12-13 before). Read inside a snapshot, then reverted: an
    account not loaded stays so. Only where revm holds the same balance and nonce (it does: `state` is
    read from it)."""
    infos = {}
    checkpoint = evm.snapshot()
    try:
        for address, (balance, nonce, code, _) in state.items():
            if code:
                info = evm.basic(address)
                if info.balance == balance and info.nonce == nonce and info.code_hash == _code_hash(code):
                    infos[address] = info
    finally:
        evm.revert(checkpoint)
    return infos


def _write(evm: Any, address: str, balance: int, nonce: int, code: bytes, slots: Iterable[tuple[int, int]],
           info: Any = None) -> None:
    """An account and slots into revm's database, leaving its state (the journal) as it was. pyrevm writes a
    slot of an unloaded account to the database and then loads the account (so that a second slot would go to
    the journal): each slot is written inside a snapshot, reverted. An account revm holds loaded outside the
    journal (the block's coinbase, loaded at every transaction's start) takes the writes in its state
    instead, where the next `_touched` reads them again. `info`: revm's AccountInfo to write (`_analysed`),
    else one made of balance, nonce and code."""
    from pyrevm import AccountInfo

    evm.insert_account_info(address, info or AccountInfo(balance=balance, nonce=nonce, code=code or None))
    for slot, value in slots:
        checkpoint = evm.snapshot()
        evm.insert_account_storage(address, slot, value)
        evm.revert(checkpoint)


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
                 artifacts: Artifacts | None = None, keep_logs: bool = True, compact_at: int | None = COMPACT_AT):
        from pyrevm import EVM, BlockEnv, CfgEnv, Env

        if timestamp <= 0:
            raise EVMError(f"timestamp: expected a positive Unix time, got {timestamp}")
        env = Env(cfg=CfgEnv(chain_id=chain_id), block=BlockEnv(number=1, timestamp=timestamp))
        self.evm = EVM(spec_id=EVM_SPEC, env=env)
        self.chain_id = chain_id
        self._block, self._time = 1, timestamp  # the block env, mirrored: reading pyrevm's copies it
        self.artifacts = artifacts or Artifacts()
        self.contracts: dict[str, Contract] = {}  # lower-case address -> contract
        self.keep_logs = keep_logs
        if compact_at is not None and compact_at < 1:
            raise EVMError(f"compact_at: expected a positive number of journal frames or None, got {compact_at}")
        self.compact_at = compact_at
        self.compactions = 0
        # what the compactions wrote to revm's database (the state as of the last one; `compact`), and the
        # snapshot opened after it (where a compacting chain has one: its transactions run inside it)
        self._base: dict[str, tuple[int, int, bytes, dict[int, int]]] = {}
        self._period = self.evm.snapshot() if compact_at is not None else None
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
        if self.compact_at is not None and self.evm.journal_len >= self.compact_at:
            self.compact(check=False)
        block = self.evm.env.block
        block.number, block.timestamp = self._block + blocks, self._time + seconds
        self.evm.set_block_env(block)
        self._block, self._time = block.number, block.timestamp

    def _touched(self) -> dict[str, tuple[int, int, bytes, dict[int, int]]]:
        """The accounts revm's state holds (those loaded since the last compaction, or since the chain began):
        lower-case address -> (balance, nonce, code, {slot: value} of every slot it loaded, zeros included),
        read from revm's Debug text (the only place pyrevm 0.3.7 lists storage slots), checked to list every
        account and slot the text holds."""
        if self.evm.journal_depth != (1 if self._period is not None else 0):
            raise EVMError("state: a snapshot is open (inside a call); read the state between transactions")
        text = self.evm.journal_str
        end = text.find(", transient_storage: ")
        if not text.startswith("JournaledState { state: {") or end < 0:
            raise EVMError("state: revm's Debug text is not the JournaledState pyrevm 0.3.7 writes")
        out: dict[str, tuple[int, int, bytes, dict[int, int]]] = {}
        pos, expected = 0, text.count(": Account { info: ", 0, end)
        while (m := _ACCOUNT.search(text, pos, end)) is not None:
            address, balance, nonce, code, length = m.groups()
            closing = text.index("}, status: ", m.end(), end)
            opening = text.rindex(", storage: {", m.end(), closing)
            raw = bytes.fromhex(code or "")
            slots = {int(k): int(v) for k, v in _SLOT.findall(text, opening, closing)}
            out[address] = (int(balance), int(nonce), raw[:int(length)] if length else raw, slots)
            pos = closing
        slots = sum(len(v[3]) for v in out.values())
        listed = text.count(": StorageSlot { ", 0, end)
        if len(out) != expected or slots != listed:
            raise EVMError(f"state: read {len(out)} of revm's {expected} accounts and {slots} of its {listed} "
                           "storage slots (its Debug text changed?)")
        return out

    def state(self) -> dict[str, tuple[int, int, bytes, dict[int, int]]]:
        """Every account revm holds: lower-case address -> (balance, nonce, code, {slot: value} of its non-zero
        storage slots), read from revm itself: the accounts and slots loaded since the last compaction from its
        Debug text (`_touched`), every other account and slot a compaction wrote to its database read back one
        by one (`basic`, `storage`, inside a snapshot that is then reverted, so that reading changes nothing),
        and the accounts that sit only in its database (never touched) from there."""
        touched = self._touched()
        out = {a: (b, n, code, {s: v for s, v in slots.items() if v}) for a, (b, n, code, slots) in touched.items()}
        if self._base:
            checkpoint = self.evm.snapshot()
            try:
                for address, (balance, nonce, code, slots) in self._base.items():
                    now = out.get(address)
                    if now is None:
                        info = self.evm.basic(address)
                        if info.code_hash != _code_hash(code):  # what revm holds, to be compared by the caller
                            code = info.code or b""
                        now = out[address] = (info.balance, info.nonce, code, {})
                    loaded = touched.get(address, (0, 0, b"", {}))[3]
                    for slot in slots:
                        if slot not in loaded and (value := self.evm.storage(address, slot)):
                            now[3][slot] = value
            finally:
                self.evm.revert(checkpoint)
        for address, info in self.evm.db_accounts.items():  # inserted but never loaded since
            out.setdefault(address.lower(), (info.balance, info.nonce, info.code or b"", {}))
        return out

    def compact(self, *, check: bool = True) -> None:
        """Leave revm's journal and logs behind (pyrevm keeps both for every transaction since the chain began
        and cannot drop them), keeping the state, the block and the chain id.

        `mine`'s way (`check` False): revm's state since the last compaction is read (`_touched`), the
        snapshot opened at that compaction is reverted (which drops the journal and the logs since, and every
        account and slot loaded since), and what changed is written to revm's database (each slot by
        `insert_account_storage` inside a snapshot that is then reverted, so that it goes to the database and
        the account stays unloaded); a new snapshot opens the next period. Its cost is the period's: the
        slots that never change again are not read or written again. The database's content is kept here
        (`_base`) beside revm's.
        With `check` (a direct call): the whole state goes into a fresh revm by the same writes, and is then
        read back from it (`state`): it must read exactly as before, else EVMError (and the old revm stays).
        Gas: a compaction is like a new block (every account and slot cold again, SSTORE's "original" value
        the value at the compaction), while between compactions the open journal keeps them warm: gas differs
        from a real chain's (the module's docstring)."""
        from pyrevm import EVM

        touched = self._touched()
        if check or self._period is None:
            before = {a: (b, n, code, dict(slots)) for a, (b, n, code, slots) in self._base.items()}
            for address, info in self.evm.db_accounts.items():  # inserted but never loaded since
                before.setdefault(address.lower(), (info.balance, info.nonce, info.code or b"", {}))
            _merge(before, touched, lambda *_: None)
            infos = _analysed(self.evm, before)
            fresh = EVM(spec_id=EVM_SPEC, env=self.evm.env)
            for address, (balance, nonce, code, slots) in before.items():
                _write(fresh, address, balance, nonce, code, slots.items(), infos.get(address))
            saved = self.evm, self._base, self._period
            self.evm, self._base, self._period = fresh, before, fresh.snapshot()
            if check:
                after = self.state()
                if after != before:
                    self.evm, self._base, self._period = saved
                    lost = next(a for a in before if after.get(a) != before[a])
                    raise EVMError(f"compact: account {lost} did not carry over to the fresh revm; kept the old one")
        else:
            evm = self.evm
            infos = _analysed(evm, touched)
            evm.revert(self._period)  # the period's journal, logs and loaded accounts: gone; the database stays
            _merge(self._base, touched, lambda address, balance, nonce, code, changed:
                   _write(evm, address, balance, nonce, code, changed, infos.get(address)))
            self._period = evm.snapshot()
        self.compactions += 1

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
        return fn.decode(self.call_data(contract, fn, fn.encode(_addresses(args)), sender=sender))

    def call_data(self, contract: Contract, fn: Function, data: bytes, *, sender: Any = ZERO_ADDRESS) -> bytes:
        """`call` with the calldata already encoded (by `fn.encode`): the raw return data."""
        checkpoint = None if fn.static else self.evm.snapshot()
        try:
            return self.evm.message_call(address_of(sender), contract.address, data, gas=TX_GAS, is_static=fn.static)
        except RuntimeError as exc:
            raise self._failure(f"{fn!r}", exc) from None
        finally:
            if checkpoint is not None:
                self.evm.revert(checkpoint)
            self.evm.reset_transient_storage()

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

    def push(self, sender: str, contract: Contract, fn: Function, data: bytes) -> None:
        """`send` for a caller that reads nothing back (chain mode's bulk path): no receipt, and revm's result
        is not read unless logs are kept; a revert raises Reverted, as `send` with `check`."""
        try:
            self.evm.message_call(sender, contract.address, data, gas=TX_GAS)
        except RuntimeError as exc:
            self.evm.reset_transient_storage()
            raise self._failure(f"{fn!r}", exc) from None
        self.evm.reset_transient_storage()  # transient storage lives for one transaction (EIP-1153)
        self.transactions += 1
        if self.keep_logs:
            self._history.append((self._block, self.evm.result))

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
