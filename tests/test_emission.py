"""EmissionSchedule: the halving emission, exactly at its boundaries, against the reference model."""

from __future__ import annotations

import ape
import pytest

from hanzo.chain.deploy import Roles, deploy_suite
from hanzo.econ.params import WEI
from hanzo.econ.reference import (boost_bps, boost_float, emission_rate_per_year, emission_split, emitted_at,
                                  pool_exhaustion_elapsed)


def _boundaries(params):
    era = params.era_length
    points = [0, 1, params.year_seconds, era - 1, era, era + 1, 2 * era - 1, 2 * era, 2 * era + 1]
    exhaustion = pool_exhaustion_elapsed(params)
    return points + [exhaustion - 1, exhaustion, exhaustion + 1, 10 * era]


def test_reference_rate_halves_every_four_years(params):
    assert [emission_rate_per_year(params, y) // WEI for y in (0, 3, 4, 7, 8, 12)] == [
        100_000_000, 100_000_000, 50_000_000, 50_000_000, 25_000_000, 12_500_000]
    # pools mode: 400M in era 0, then 50M/yr exhausts the remaining 100M two years into era 1
    assert pool_exhaustion_elapsed(params) == 6 * params.year_seconds


def test_emitted_at_matches_reference_at_every_boundary(suite, params):
    e = suite.emission
    start = e.start()
    for elapsed in _boundaries(params):
        assert e.emittedAt(start + elapsed) == emitted_at(params, elapsed), elapsed


@pytest.mark.parametrize("elapsed_years", [1, 4, 6, 9])
def test_release_after_warp_mints_due_split_60_40(suite, params, chain, elapsed_years):
    e, token = suite.emission, suite.token
    start = e.start()
    chain.pending_timestamp = start + elapsed_years * params.year_seconds
    receipt = e.release(sender=suite.roles.deployer)
    due = emitted_at(params, elapsed_years * params.year_seconds)
    assert e.released() == due
    assert token.balanceOf(suite.rewards) == due * 6_000 // 10_000
    [event] = receipt.decode_logs(e.EmissionReleased)
    assert event.toTraining + event.toCompute == due
    assert token.totalMinted() == params.genesis_total + due


def test_daily_releases_sum_to_one_release(suite, params, chain):
    """Releasing every day across a halving boundary pays exactly what one release would."""
    e = suite.emission
    start = e.start()
    era = params.era_length
    t = start + era - 3 * 86_400
    chain.pending_timestamp = t
    e.release(sender=suite.roles.deployer)
    for _ in range(6):
        t += 86_400
        chain.pending_timestamp = t
        e.release(sender=suite.roles.deployer)
    assert e.released() == emitted_at(params, t - start)
    assert e.releasedToTraining() == emitted_at(params, t - start) * 6_000 // 10_000


def test_each_release_splits_as_the_reference_split_the_simulators_use(suite, params, chain):
    """hanzo.sim's World and chain mode split emission with reference.emission_split: here it is
    held to the contract's event, release by release, with odd gaps so the floors differ."""
    e = suite.emission
    t = max(e.start(), chain.blocks.head.timestamp + 1)
    for gap in (1, 7, 86_399, 3 * 86_400 + 1, params.era_length, 13):
        released = e.released()
        t += gap
        chain.pending_timestamp = t
        receipt = e.release(sender=suite.roles.deployer)
        [event] = receipt.decode_logs(e.EmissionReleased)
        assert (event.toTraining, event.toCompute) == emission_split(params, e.released(), released), gap


def test_the_simulators_boost_is_modelnfts_boost(params):
    """boost_float (arrays of HANZO, the World's form) against boost_bps (the contract's integers)."""
    stakes = [0, 1, 10**15, 37 * 10**18, 2_500 * 10**18, 10_000 * 10**18, 10**24, 10**27]
    got = boost_float(params, [s / 10**18 for s in stakes])
    for stake, value in zip(stakes, got):
        assert abs(value - boost_bps(params, stake) / 10_000) <= 1e-4, stake  # isqrt floors < 1 bps


def test_release_never_exceeds_the_pools(suite, params, chain):
    e, token = suite.emission, suite.token
    chain.pending_timestamp = e.start() + 50 * params.year_seconds
    e.release(sender=suite.roles.deployer)
    assert e.released() == params.pool_total == 500_000_000 * WEI
    assert token.balanceOf(suite.rewards) == params.allocation("training_rewards")
    assert token.totalMinted() == token.cap()
    chain.pending_timestamp += params.year_seconds
    receipt = e.release(sender=suite.roles.deployer)
    assert not receipt.decode_logs(e.EmissionReleased)
    assert token.totalMinted() == token.cap()


def test_anyone_may_release_and_a_repeat_pays_only_the_new_seconds(suite, users, params, chain):
    e = suite.emission
    start = e.start()
    chain.pending_timestamp = start + params.year_seconds
    e.release(sender=users[0])
    assert e.releasable() == 0
    t = chain.blocks.head.timestamp
    chain.pending_timestamp = t + 1
    receipt = e.release(sender=users[1])
    [event] = receipt.decode_logs(e.EmissionReleased)
    assert event.toTraining + event.toCompute == emitted_at(params, t + 1 - start) - emitted_at(params, t - start)


def test_schedule_rejects_invalid_arguments(project, suite, deployer):
    with ape.reverts(project.EmissionSchedule.InvalidSchedule):
        project.EmissionSchedule.deploy(suite.token, suite.rewards, deployer, 0, 0, 1, 1, 6000, sender=deployer)
    with ape.reverts(project.EmissionSchedule.InvalidSchedule):
        project.EmissionSchedule.deploy(suite.token, suite.rewards, deployer, 0, 1, 1, 1, 10_001, sender=deployer)


def test_inflation_mode_mints_all_genesis_and_emits_on_top(project, accounts, params, chain):
    p = params.replace(emission_mode="inflation")
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    s = deploy_suite(p, roles, proj=project)
    assert s.token.totalSupply() == p.max_supply
    assert s.token.cap() == p.max_supply + p.all_time_emission
    chain.pending_timestamp = s.emission.start() + 9 * p.year_seconds
    s.emission.release(sender=accounts[0])
    assert s.emission.released() == emitted_at(p, 9 * p.year_seconds)
    assert s.token.totalSupply() > p.max_supply  # emission on top of the 1B
    # over all time the schedule stays under its cap
    assert s.emission.emittedAt(s.emission.start() + 400 * p.year_seconds) == p.all_time_emission
