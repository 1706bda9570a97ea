"""HanzoTreasury (issue 16, finding 7): what a captured governance can take out of the treasury.

The Community Treasury, the Compute Providers pool and the mint fees sit in HanzoTreasury; only
the timelock may release, at most a token bucket of `treasury_release_limit` refilled per
`treasury_release_period`. An attacker who holds the quorum is tried on every path: a direct
release, a release past the bucket, raising the limit, granting itself roles on the timelock,
cutting the timelock's delay, transferring from the timelock, replacing the treasury, and a year
of releases. It takes at most hanzo.econ.treasury.max_take, and the contract follows the exact
reference model (hanzo.econ.treasury.Bucket) step by step."""

from __future__ import annotations

import dataclasses
import random
import secrets

import ape
import pytest
from eth_utils import keccak

from .capture import proposal_runner, stake_quorum
from .market import error_name
from hanzo.econ.params import DAY, WEI
from hanzo.econ.treasury import Bucket, TreasuryError, max_take

TREASURY_TYPE = 3
YEAR = 365 * DAY


@pytest.fixture(scope="module")
def attacker(suite, whale, users):
    """Bought and staked 11M HANZO: more than the 10M quorum, so every proposal it makes passes."""
    return stake_quorum(suite, whale, users[0])


@pytest.fixture(scope="module")
def capture(suite, attacker, params, chain):
    """Run `calls` as one Treasury proposal of the attacker's (see tests/capture.py)."""
    return proposal_runner(suite, attacker, params, chain, TREASURY_TYPE, "Treasury")


def test_the_treasury_holds_what_governance_held_and_the_timelock_holds_nothing(suite, attacker, params):
    t = suite.treasury
    assert suite.token.balanceOf(t) == params.allocation("community_treasury")
    assert suite.token.balanceOf(suite.timelock) == 0
    assert t.governance() == suite.timelock.address and t.token() == suite.token.address
    assert (t.limit(), t.maxLimit(), t.period(), t.raiseDelay()) == (
        params.treasury_release_limit, params.treasury_max_release_limit, params.treasury_release_period,
        params.treasury_limit_raise_delay)
    assert t.available() == params.treasury_release_limit and t.raiseAt() == 0
    assert suite.models.treasury() == t.address
    assert suite.emission.computePool() == t.address


def test_only_governance_releases_or_changes_the_limit(suite, attacker, users):
    t = suite.treasury
    for who in (attacker, users[1], suite.roles.deployer):
        with ape.reverts(t.NotGovernance, caller=who.address):
            t.release(who, 1, sender=who)
        with ape.reverts(t.NotGovernance):
            t.setLimit(0, sender=who)
        with ape.reverts(t.NotGovernance):
            t.cancelLimitRaise(sender=who)


def test_the_treasury_has_no_other_way_out(suite):
    """No roles to grant, no owner, no upgrade, no setter of governance, period, delay or bound."""
    writes = {m.name for m in suite.treasury.contract_type.mutable_methods}
    assert writes == {"release", "setLimit", "cancelLimitRaise"}


def test_a_captured_governance_takes_the_bucket_and_no_more(suite, capture, attacker, params):
    t, token, limit = suite.treasury, suite.token, params.treasury_release_limit
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(t, "release", attacker.address, limit + 1)])
    with pytest.raises(ape.exceptions.ContractLogicError):  # two releases in one proposal
        capture([(t, "release", attacker.address, limit), (t, "release", attacker.address, 1)])
    before = token.balanceOf(attacker)
    receipt = capture([(t, "release", attacker.address, limit)])
    assert token.balanceOf(attacker) - before == limit
    [event] = receipt.decode_logs(t.Released)
    assert (event.to, event.amount) == (attacker.address, limit)
    # the next proposal comes ~10 days later: a third of a 30-day bucket, not another limit
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(t, "release", attacker.address, limit)])


def test_raising_the_limit_waits_a_year_and_cannot_pass_the_bound(suite, capture, attacker, params, chain):
    t, limit, bound = suite.treasury, params.treasury_release_limit, params.treasury_max_release_limit
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(t, "setLimit", bound + 1)])
    with pytest.raises(ape.exceptions.ContractLogicError):  # raise and spend in one proposal
        capture([(t, "setLimit", bound), (t, "release", attacker.address, limit + 1)])
    receipt = capture([(t, "setLimit", bound)])
    [event] = receipt.decode_logs(t.LimitRaiseScheduled)
    at = chain.blocks.head.timestamp + params.treasury_limit_raise_delay
    assert (event.newLimit, event.effectiveAt) == (bound, at) and t.raiseAt() == at
    chain.pending_timestamp = at - 1
    chain.mine()
    assert t.currentLimit() == limit and t.available() <= limit
    chain.pending_timestamp = at
    chain.mine()
    assert t.currentLimit() == bound


def test_a_lower_limit_applies_at_once_and_cancels_a_pending_raise(suite, capture, params):
    t, limit = suite.treasury, params.treasury_release_limit
    capture([(t, "setLimit", params.treasury_max_release_limit)])
    receipt = capture([(t, "setLimit", limit // 2)])
    assert t.limit() == limit // 2 and t.raiseAt() == 0 and t.pendingLimit() == 0
    assert t.available() == limit // 2
    assert receipt.decode_logs(t.LimitRaiseCancelled)[0].cancelledLimit == params.treasury_max_release_limit
    assert receipt.decode_logs(t.LimitChanged)[0].newLimit == limit // 2
    with pytest.raises(ape.exceptions.ContractLogicError):  # nothing pending
        capture([(t, "cancelLimitRaise")])


def test_timelock_admin_operations_do_not_open_the_treasury(suite, capture, attacker, params, chain):
    """The attacker makes itself a proposer and executor of the timelock and cuts its delay to
    zero: it then runs operations at will, and still takes at most the bucket; the timelock itself
    holds no HANZO to transfer."""
    t, tl, token = suite.treasury, suite.timelock, suite.token
    capture([(tl, "grantRole", tl.PROPOSER_ROLE(), attacker.address),
             (tl, "grantRole", tl.DEFAULT_ADMIN_ROLE(), attacker.address),
             (tl, "updateDelay", 0)])
    assert tl.getMinDelay() == 0 and tl.hasRole(tl.PROPOSER_ROLE(), attacker)

    def run(target, data):
        salt = secrets.token_bytes(32)
        tl.schedule(target, 0, data, b"\x00" * 32, salt, 0, sender=attacker)
        return tl.execute(target, 0, data, b"\x00" * 32, salt, sender=attacker)

    with pytest.raises(ape.exceptions.ContractLogicError):
        run(token.address, token.transfer.encode_input(attacker.address, 1))  # the timelock holds nothing
    with pytest.raises(ape.exceptions.ContractLogicError):
        run(t.address, t.release.encode_input(attacker.address, t.available() + 1))
    # a year of draining at will: every 30 days, all the bucket holds
    start, taken = chain.blocks.head.timestamp, 0
    before = token.balanceOf(attacker)
    for month in range(13):
        chain.pending_timestamp = start + 1 + month * params.treasury_release_period
        amount = t.available()
        if amount:
            run(t.address, t.release.encode_input(attacker.address, amount))
            taken += amount
    elapsed = chain.blocks.head.timestamp - start
    assert elapsed <= YEAR
    assert token.balanceOf(attacker) - before == taken <= max_take(params, elapsed) <= max_take(params, YEAR)
    assert taken >= max_take(params, elapsed) - 13 * 2 * WEI  # the bound is what the bucket gives (to rounding)


def test_the_mint_fees_cannot_be_redirected(suite, capture, attacker, params):
    """ModelNFT's treasury is fixed at construction (it had a setter governance could point at
    itself: tests/test_capture_paths.py); a proposal calling the old setter reverts."""
    held = suite.token.balanceOf(suite.treasury)
    call = keccak(text="setTreasury(address)")[:4] + bytes(12) + bytes.fromhex(attacker.address[2:])
    with pytest.raises(ape.exceptions.ContractLogicError):
        capture([(suite.models.address, call)])
    assert suite.models.treasury() == suite.treasury.address
    assert suite.token.balanceOf(suite.treasury) == held


@pytest.mark.parametrize("period, delay, limit, bound, error", [
    (0, YEAR, 1, 1, "InvalidConfiguration"),
    (YEAR + 1, YEAR, 1, 1, "InvalidConfiguration"),
    (DAY, YEAR - 1, 1, 1, "InvalidConfiguration"),
    (DAY, YEAR, 2, 1, "LimitOutOfBounds"),
    (DAY, YEAR, 1, 2**128, "InvalidConfiguration"),
])
def test_the_treasury_refuses_an_unbounded_configuration(project, suite, accounts, period, delay, limit, bound,
                                                          error):
    d = accounts[0]
    with pytest.raises(ape.exceptions.ContractLogicError) as refused:
        project.HanzoTreasury.deploy(suite.token, d, limit, bound, period, delay, sender=d)
    assert type(refused.value).__name__ == error
    with pytest.raises(ape.exceptions.ContractLogicError):
        project.HanzoTreasury.deploy(suite.token, "0x" + "00" * 20, 1, 1, DAY, YEAR, sender=d)


def test_the_contract_follows_the_reference_bucket(project, suite, accounts, whale, params, chain):
    """Random releases, raises, lowerings, cancels and waits on a treasury governed by an account:
    the contract's available() and its reverts are the reference model's, step by step."""
    gov = accounts[10]
    limit, bound, period = 1_000 * WEI, 5_000 * WEI, 7 * DAY
    t = project.HanzoTreasury.deploy(suite.token, gov, limit, bound, period, YEAR, sender=gov)
    suite.token.transfer(t, 10**7 * WEI, sender=whale)
    model = Bucket(limit, bound, period, YEAR, limit, chain.blocks.head.timestamp)
    rng = random.Random(16)
    for _ in range(70):
        chain.pending_timestamp = chain.blocks.head.timestamp + rng.choice((1, 3600, DAY, 5 * DAY, 40 * DAY, 200 * DAY))
        now = chain.pending_timestamp
        action = rng.choice(("release", "release", "set", "cancel"))
        saved, expected = dataclasses.replace(model), None
        try:
            if action == "release":
                amount = max(1, rng.choice((1, model.available(now), model.available(now) + 1,
                                            rng.randint(1, bound))))
                model.release(amount, now)
            elif action == "set":
                amount = rng.choice((rng.randint(0, bound), bound + 1, model.limit, model.limit + 1))
                model.set_limit(amount, now)
            else:
                model._sync(now)
                if not model.raise_at:
                    raise TreasuryError("NoPendingRaise")
                model.pending_limit, model.raise_at = 0, 0
        except TreasuryError as e:
            expected, model = e.name, saved  # a reverted call changes nothing
        call = {"release": lambda: t.release(gov, amount, sender=gov),
                "set": lambda: t.setLimit(amount, sender=gov),
                "cancel": lambda: t.cancelLimitRaise(sender=gov)}[action]
        if expected:
            with pytest.raises(ape.exceptions.ContractLogicError) as refused:
                call()
            assert error_name(refused.value, t) == expected, (action, expected)
        else:
            call()
        lim, avail, _ = model.current(chain.blocks.head.timestamp)
        assert (t.available(), t.currentLimit()) == (avail, lim), action
        assert (t.limit(), t.pendingLimit(), t.raiseAt()) == (model.limit, model.pending_limit, model.raise_at)
