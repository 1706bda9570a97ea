"""EIP-712 attestations of training operations, as the quality oracle signs them.

The typed data must match TrainingRewards.TRAINING_OP_TYPEHASH and its domain
("HanzoTrainingRewards", version "1", chain id, contract address): the signature then covers the
op, the chain and the contract, so it cannot be replayed on another chain or deployment. On this
one the contract pays a (modelId, adapterHash) once, whoever signs for it, and the deadline
bounds how long the signature is usable; the nonce is the oracle's session number, not a key.

Signing is on the simulator's hot path (one op per agent per day), so it is done directly: the
type hash once per process and the domain separator once per Oracle, the struct hash from the
fields' 32-byte words, and the signature by libsecp256k1 (coincurve). eth_account's typed-data
path gives the same bytes about ten times slower (benchmarks/chain.py measures both).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from coincurve import PrivateKey
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

DOMAIN_NAME = "HanzoTrainingRewards"
DOMAIN_VERSION = "1"

TRAINING_OP_TYPES = {
    "TrainingOp": [
        {"name": "user", "type": "address"},
        {"name": "modelId", "type": "uint256"},
        {"name": "adapterHash", "type": "bytes32"},
        {"name": "multiplier", "type": "uint256"},
        {"name": "interactions", "type": "uint256"},
        {"name": "lowQuality", "type": "bool"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}

# Hashed once: the struct's type string, written from TRAINING_OP_TYPES so the two cannot drift
TRAINING_OP_TYPEHASH = keccak(
    ("TrainingOp(" + ",".join(f"{f['type']} {f['name']}" for f in TRAINING_OP_TYPES["TrainingOp"]) + ")").encode())
EIP712_DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


@dataclass(frozen=True)
class TrainingOp:
    """One quality-scored training operation (TrainingRewards.TrainingOp)."""

    user: str
    modelId: int  # noqa: N815 - the on-chain field name
    adapterHash: bytes  # noqa: N815
    multiplier: int
    interactions: int
    lowQuality: bool  # noqa: N815
    nonce: int
    deadline: int

    def as_tuple(self) -> tuple:
        """The op as the contract's ABI tuple."""
        return (self.user, self.modelId, self.adapterHash, self.multiplier, self.interactions,
                self.lowQuality, self.nonce, self.deadline)


def typed_data(op: TrainingOp, chain_id: int, contract: str) -> dict:
    """The op as EIP-712 typed data (eth_account's `encode_typed_data` form): what a wallet would
    show, and what tests/test_devnet.py signs with eth_account to check `sign_training_op`."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **TRAINING_OP_TYPES,
        },
        "primaryType": "TrainingOp",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": contract},
        "message": asdict(op),
    }


def _address_word(value, field: str) -> bytes:
    """An address as its 32-byte ABI word ("0x" + 40 hex digits in any case, or 20 bytes)."""
    if isinstance(value, str):
        digits = value[2:] if value[:2] in ("0x", "0X") else value
        if len(digits) == 40:
            try:
                return bytes(12) + bytes.fromhex(digits)
            except ValueError:
                pass
    elif isinstance(value, (bytes, bytearray)) and len(value) == 20:
        return bytes(12) + bytes(value)
    raise ValueError(f"{field}: expected an address (0x and 40 hex digits, or 20 bytes), got {value!r}")


def _uint_word(value, field: str) -> bytes:
    """A uint256 as its ABI word; a bool, a float or a string is refused, not coerced."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{field}: expected an integer (uint256), got {value!r}")
    value = int(value)
    if not 0 <= value < 2**256:
        raise ValueError(f"{field}: expected 0 <= value < 2**256, got {value}")
    return value.to_bytes(32, "big")


def _struct_hash(op: TrainingOp) -> bytes:
    """keccak256(abi.encode(TRAINING_OP_TYPEHASH, op)): every field is static, so abi.encode is
    the fields' 32-byte words in order (what eth_abi would produce, without its dispatch)."""
    if not isinstance(op.adapterHash, (bytes, bytearray)) or len(op.adapterHash) != 32:
        raise ValueError(f"adapterHash: expected 32 bytes, got {op.adapterHash!r}")
    if not isinstance(op.lowQuality, (bool, np.bool_)):
        raise ValueError(f"lowQuality: expected a bool, got {op.lowQuality!r}")
    return keccak(
        TRAINING_OP_TYPEHASH
        + _address_word(op.user, "user")
        + _uint_word(op.modelId, "modelId")
        + bytes(op.adapterHash)
        + _uint_word(op.multiplier, "multiplier")
        + _uint_word(op.interactions, "interactions")
        + (b"\0" * 31 + (b"\x01" if op.lowQuality else b"\0"))
        + _uint_word(op.nonce, "nonce")
        + _uint_word(op.deadline, "deadline")
    )


def domain_separator(chain_id: int, contract: str) -> bytes:
    """TrainingRewards' EIP-712 domain separator (OpenZeppelin EIP712._domainSeparatorV4)."""
    return keccak(EIP712_DOMAIN_TYPEHASH + keccak(DOMAIN_NAME.encode()) + keccak(DOMAIN_VERSION.encode())
                  + _uint_word(chain_id, "chain_id") + _address_word(str(contract), "contract"))


def _private_key(private_key: str | bytes) -> PrivateKey:
    """A secp256k1 key from "0x…" hex or 32 bytes (Ape's accounts give hex, hanzo.chain.evm bytes)."""
    if isinstance(private_key, str):
        try:
            private_key = bytes.fromhex(private_key.removeprefix("0x"))
        except ValueError:
            raise ValueError("private_key: expected 64 hex digits (the key is not shown)") from None
    if len(private_key) != 32:
        raise ValueError(f"private_key: expected 32 bytes, got {len(private_key)} (the key is not shown)")
    return PrivateKey(bytes(private_key))


def _sign_digest(key: PrivateKey, digest: bytes) -> bytes:
    """(r, s, v) with v = 27 + recovery id, as eth_account signs: both use RFC 6979 nonces and the
    low s, so the bytes are the same (tests/test_devnet.py checks it)."""
    signature = key.sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes((27 + signature[64],))


def sign_training_op(private_key: str | bytes, op: TrainingOp, chain_id: int, contract: str) -> bytes:
    """The oracle's 65-byte signature (r, s, v) of `op` for the TrainingRewards at `contract`."""
    return _sign_digest(_private_key(private_key), op_digest(op, chain_id, contract))


def op_digest(op: TrainingOp, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest (what TrainingRewards.hashOp returns)."""
    return keccak(b"\x19\x01" + domain_separator(chain_id, contract) + _struct_hash(op))


class Oracle:
    """The quality oracle's signing side: its key and the domain it signs for (chain id and the
    TrainingRewards address). It turns a judged session into a signed op and never sends a
    transaction: a submitter relays the op with its own key, pays the gas, and can change nothing
    the signature covers. Keeping the two apart means a leaked submitter key pays gas, not rewards."""

    def __init__(self, private_key: str | bytes, chain_id: int, contract: str):
        self._key = _private_key(private_key)
        public = self._key.public_key.format(compressed=False)[1:]
        self.address = to_checksum_address(keccak(public)[-20:])
        self.chain_id, self.contract = int(chain_id), str(contract)
        # the domain is fixed per oracle: hashed once, not per op
        self._prefix = b"\x19\x01" + domain_separator(self.chain_id, self.contract)

    def sign(self, op: TrainingOp) -> bytes:
        """The 65-byte EIP-712 signature of `op` for this oracle's chain and contract."""
        return _sign_digest(self._key, keccak(self._prefix + _struct_hash(op)))

    def __repr__(self) -> str:  # never the key
        return f"Oracle({self.address} for {self.contract} on chain {self.chain_id})"
