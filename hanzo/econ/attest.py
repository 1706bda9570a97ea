"""EIP-712 attestations of training operations, as the quality oracle signs them.

The typed data must match TrainingRewards.TRAINING_OP_TYPEHASH and its domain
("HanzoTrainingRewards", version "1", chain id, contract address): the signature then covers the
op, the chain and the contract, so it cannot be replayed on another chain or deployment. On this
one the contract pays a (modelId, adapterHash) once, whoever signs for it, and the deadline
bounds how long the signature is usable; the nonce is the oracle's session number, not a key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data

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


def sign_training_op(private_key: str | bytes, op: TrainingOp, chain_id: int, contract: str) -> bytes:
    """The oracle's 65-byte signature (r, s, v) of `op` for the TrainingRewards at `contract`."""
    if len(op.adapterHash) != 32:
        raise ValueError(f"adapterHash: expected 32 bytes, got {len(op.adapterHash)}")
    signable = encode_typed_data(full_message=typed_data(op, chain_id, str(contract)))
    return bytes(Account.sign_message(signable, private_key).signature)


def op_digest(op: TrainingOp, chain_id: int, contract: str) -> bytes:
    """The EIP-712 digest (what TrainingRewards.hashOp returns)."""
    from eth_account.messages import _hash_eip191_message

    return bytes(_hash_eip191_message(encode_typed_data(full_message=typed_data(op, chain_id, str(contract)))))


class Oracle:
    """The quality oracle's signing side: its key and the domain it signs for (chain id and the
    TrainingRewards address). It turns a judged session into a signed op and never sends a
    transaction: a submitter relays the op with its own key, pays the gas, and can change nothing
    the signature covers. Keeping the two apart means a leaked submitter key pays gas, not rewards."""

    def __init__(self, private_key: str | bytes, chain_id: int, contract: str):
        self._key = private_key
        self.address = Account.from_key(private_key).address
        self.chain_id, self.contract = int(chain_id), str(contract)

    def sign(self, op: TrainingOp) -> bytes:
        """The 65-byte EIP-712 signature of `op` for this oracle's chain and contract."""
        return sign_training_op(self._key, op, self.chain_id, self.contract)

    def __repr__(self) -> str:  # never the key
        return f"Oracle({self.address} for {self.contract} on chain {self.chain_id})"
