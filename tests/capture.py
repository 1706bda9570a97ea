"""A captured governance, for the tests that try what it can take (tests/test_treasury.py,
tests/test_capture_paths.py): an attacker who bought and staked more than the quorum, and its
proposals run through the vote, the queue and the timelock."""

from __future__ import annotations

import secrets

from hanzo.econ.params import WEI

QUORUM_PLUS = 11_000_000 * WEI  # more than the 10M quorum: every proposal the attacker makes passes


def stake_quorum(suite, whale, who):
    """`who` buys (from the whale) and stakes more than the quorum."""
    suite.token.transfer(who, QUORUM_PLUS, sender=whale)
    suite.token.approve(suite.staked, QUORUM_PLUS, sender=who)
    suite.staked.stake(QUORUM_PLUS, sender=who)
    return who


def proposal_runner(suite, attacker, params, chain, kind: int, label: str):
    """run(calls): `calls` as one proposal of the attacker's of type `kind`, through its vote, the
    queue and the timelock; a call is (contract, method, *args) or (address, raw calldata). Returns
    the execution's receipt; raises if the execution reverts."""

    def advance(seconds):
        chain.pending_timestamp = chain.blocks.head.timestamp + seconds
        chain.mine()

    def run(calls):
        gov = suite.governor
        targets, calldatas = [], []
        for call in calls:
            if isinstance(call[1], bytes):
                targets.append(call[0])
                calldatas.append(call[1])
            else:
                contract, method, *args = call
                targets.append(contract.address)
                calldatas.append(getattr(contract, method).encode_input(*args))
        values = [0] * len(calls)
        description = f"{label}: mine {secrets.token_hex(4)}"
        pid = gov.proposeTyped(targets, values, calldatas, description, kind,
                               sender=attacker).decode_logs(gov.ProposalCreated)[0].proposalId
        advance(params.voting_delay + 1)
        gov.castVote(pid, 1, sender=attacker)
        advance(params.voting_period)
        desc_hash = chain.provider.web3.keccak(text=description)
        gov.queue(targets, values, calldatas, desc_hash, sender=attacker)
        advance(params.timelock_delay)
        return gov.execute(targets, values, calldatas, desc_hash, sender=attacker)

    return run
