"""User agents with wallets (issue 17, item 1): one row per user, every flow that touches users moves
whole ledger units between the rows and the ledger, and the books check the rows every day."""

from __future__ import annotations

import numpy as np
import pytest

from hanzo.sim.ledger import UNIT, ConservationError
from hanzo.sim.run import simulate
from hanzo.sim.scenario import ScenarioError, load
from hanzo.sim.users import split
from hanzo.sim.world import World

SMALL = {"users.initial": 2_000, "users.max": 20_000, "scenario.years": 0.3}


def _rows_match_accounts(world: World) -> None:
    users, units = world.users, world.ledger.units
    n = users.rows
    assert units["users"] == int(users.wallet[:n].sum())
    assert units["stake_holders"] == int(users.stake[:n].sum())
    assert units["fork_stake"] == int(users.fork_stake[:n].sum())
    assert units["unstaking"] == int(users.unstaking[:n].sum())


@pytest.mark.parametrize("name", ["baseline", "boost_staking", "seed_fees"])
def test_users_accounts_are_the_exact_sum_of_the_rows_every_day_and_no_row_goes_negative(name):
    world = World(load(name).with_overrides(**SMALL))
    world.start()
    for day in range(1, 91):
        world.env.run(until=day)
        _rows_match_accounts(world)
        n = world.users.rows
        for field in ("wallet", "stake", "fork_stake", "unstaking", "earned"):
            assert (getattr(world.users, field)[:n] >= 0).all(), (day, field)
    assert world.ledger.checked_days == 90 and world.users.rows > 2_000
    assert world.ledger["users"] > 0 and world.ledger["stake_holders"] > 0


def test_a_row_changed_without_the_ledger_is_caught_that_day():
    world = World(load("baseline").with_overrides(**SMALL))
    world.run(5)
    world.users.wallet[7] += 1  # one micro-HANZO into one user's wallet, from nowhere
    with pytest.raises(ConservationError,
                       match="day 5: the users account holds .* the sum of its rows .*\\(\\+0.000001\\)"):
        world.env.run(until=6)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """The rule written the slow way: floors, then one unit each to the largest remainders in order."""
    exact = [w * total / sum(weights) for w in weights]
    shares = [int(np.floor(x)) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]) if weights[i] > 0 else 2, i))
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return np.array(shares)


def test_the_split_is_exact_to_the_unit_and_gives_the_leftover_units_to_the_largest_remainders():
    rng = np.random.default_rng(3)
    for n in (1, 3, 10, 57, 400):
        for _ in range(50):
            weights = rng.lognormal(0, 1, n) * (rng.random(n) > 0.3)
            if not weights.any():
                continue
            total = int(rng.integers(0, 10 ** int(rng.integers(1, 12))))
            shares = split(total, weights)
            assert shares.sum() == total and (shares >= 0).all()
            assert (shares[weights == 0] == 0).all()
            assert (shares == _largest_remainder(total, weights)).all()
    assert split(13, np.ones(10)).tolist() == [2, 2, 2, 1, 1, 1, 1, 1, 1, 1]  # ties: the lower rows
    assert split(10, np.array([1.0, 0.0, 1.0])).tolist() == [5, 0, 5]
    big = rng.lognormal(-0.5, 1.0, 1_000_000)  # the histogram path at a million rows
    assert split(10**11 + 7, big).sum() == 10**11 + 7


def test_rewards_are_paid_to_each_active_user_by_its_activity_to_the_unit():
    world = World(load("baseline").with_overrides(**SMALL))
    world.run(30)
    users, n = world.users, world.users.rows
    before = users.earned[:n].copy()
    world.env.run(until=31)
    earned = users.earned[:n] - before
    assert earned.sum() > 0
    per_activity = earned.sum() / users.activity[:n].sum()
    # every user is paid the same per unit of activity, to within the unit of rounding
    assert np.all(np.abs(earned - users.activity[:n] * per_activity) <= 1 + 1e-9 * earned)


CHURN = {"agents.reservation_usd_per_interaction": 0.004, "agents.churn_per_day": 0.02, "users.initial": 5_000,
         "users.max": 20_000, "scenario.years": 0.4}


def test_users_who_leave_are_drawn_at_random_not_the_latest_joiners_and_keep_their_wallets():
    world = World(load("baseline").with_overrides(**CHURN))
    world.run(146)
    users, n = world.users, world.users.rows
    left = users.left[:n] >= 0
    assert left.sum() > 1_000 and world.churned == left.sum()
    # last in, first out would take the last rows; at random the leavers are spread over all rows
    first_half, second_half = left[:n // 2].mean(), left[n // 2:].mean()
    assert first_half > 0.5 * left.mean() and second_half < 1.0
    assert abs(np.flatnonzero(left).mean() / n - 0.5) < 0.15
    # those who left keep what they hold and earn nothing after leaving
    assert users.wallet[:n][left].sum() + users.stake[:n][left].sum() > 0
    before = users.earned[:n][left].copy()
    world.env.run(until=156)
    assert (users.earned[:n][left] == before).all()


def test_each_user_leaves_by_its_own_reservation_wage():
    spread = load("baseline").with_overrides(**CHURN, **{"agents.reservation_spread": 1.0})
    world = World(spread)
    world.run(146)
    users, n = world.users, world.users.rows
    ratio = users.reservation[:n] / users.activity[:n]  # the reservation per unit of activity: each user's own
    assert ratio.std() > 0.5 * ratio.mean()
    left = users.left[:n] >= 0
    assert left.any() and (~left).any()
    assert np.median(ratio[left]) > 1.5 * np.median(ratio[~left])  # the dearest leave first
    same = World(load("baseline").with_overrides(**CHURN))
    same.run(5)
    r = same.users.reservation[:same.users.rows] / same.users.activity[:same.users.rows]
    assert np.allclose(r, r[0])  # without a spread: everyone's per interaction is the scenario's


def test_a_reservation_spread_without_a_reservation_wage_is_refused():
    with pytest.raises(ScenarioError, match="reservation_spread: has no effect unless"):
        load("baseline").with_overrides(**{"agents.reservation_spread": 0.5})


def test_each_fork_is_boosted_by_its_own_users_stake():
    world = World(load("boost_staking").with_overrides(**SMALL))
    world.run(60)
    users, n = world.users, world.users.rows
    boost = users.boost[:n]
    assert boost.min() >= 1.0 and boost.std() > 0.01  # heterogeneous, not the mean for everyone
    staked = users.fork_stake[:n] / UNIT
    on = users.on[:n]
    assert np.corrcoef(staked[on], boost[on])[0, 1] > 0.5
    before = users.earned[:n].copy()
    world.env.run(until=61)
    earned = (users.earned[:n] - before)[on]
    own = 1 - world.s["users"]["developer_model_share"]
    weight = users.activity[:n][on] * (own * boost[on] + 1 - own)
    per_weight = earned.sum() / weight.sum()
    assert np.all(np.abs(earned - weight * per_weight) <= 1 + 1e-9 * earned)  # paid by its own boost, to the unit
    assert boost[on].min() < world.boost < boost[on].max()  # the aggregate reward's factor: their weekly mean


def test_the_summary_gives_reward_and_wealth_gini_from_the_rows():
    result = simulate(load("baseline").with_overrides(**SMALL))
    s = result.summary
    assert 0 < s["reward_gini"] < 1 and 0 < s["wealth_gini"] < 1
    assert s["conserved"] is True


def test_the_summary_says_who_holds_the_wealth_and_the_votes_and_which_cohorts_left():
    """Issue 17, item 3, from the rows: the top 1% and 10% of users' share of their HANZO, who holds
    the votes (users, proposers, an attacker; the top users' share of all), and per year of joining
    how many users left by the end (churn by cohort)."""
    sc = load("governance_attack").with_overrides(**{**CHURN, "scenario.years": 1.5, "attacker.start_day": 200,
                                                     "users.max": 40_000})
    world = World(sc)
    world.run(sc.days)
    from hanzo.sim.run import summarize, top_share
    import pandas as pd

    s = summarize(world, pd.DataFrame(world.rows))
    users, n = world.users, world.users.rows
    held = np.sort(users.holdings()[:n])[::-1]
    assert s["wealth_top_1pct_share"] == pytest.approx(held[:n // 100].sum() / held.sum())
    assert 0.01 < s["wealth_top_1pct_share"] < s["wealth_top_10pct_share"] < 1
    v = s["votes"]
    assert v["users_share"] + v["proposers_share"] + v["attacker_share"] == pytest.approx(1.0)
    assert v["attacker_share"] > 0 and v["top_1pct_users_share"] < v["top_10pct_users_share"] <= v["users_share"]
    cohorts = s["churn_by_cohort"]
    assert [c["year"] for c in cohorts] == [1, 2]
    assert sum(c["users_joined"] for c in cohorts) == n
    assert sum(c["users_left"] for c in cohorts) == world.churned > 0
    # the first year's users had longer to leave
    assert cohorts[0]["left_share"] > cohorts[1]["left_share"]
    assert top_share(np.array([1.0, 1.0, 1.0, 97.0]), 0.25) == pytest.approx(0.97)


MIXED = {**SMALL, "strategies.holder_share": 0.2, "strategies.speculator_share": 0.2,
         "strategies.farmer_share": 0.05, "strategies.spammer_share": 0.05}


def test_stakes_moved_row_by_row_are_settled_lazily_to_what_a_daily_settlement_gives():
    """With strategies each row's stake moves its own way every day without settling the window: a
    deposit of the window, moved on by each unstaking in floats and rounded at the settlement. Left
    unread for 90 days the rows hold, to a few units, what rows settled every day hold, and the
    accounts are their exact sums either way (the ledger checked it daily)."""
    lazy, daily = (World(load("baseline").with_overrides(**MIXED)) for _ in range(2))
    lazy.run(90)
    daily.start()
    for day in range(1, 91):
        daily.env.run(until=day)
        daily.users.settle()  # as any read of the rows does
    assert lazy.users.deposited == 90 and daily.users.deposited == 0  # a window of 90 days' stakes, unsettled
    assert lazy.rows == daily.rows  # the economy is the same to the unit: only rows' rounding differs
    for world in (lazy, daily):
        _rows_match_accounts(world)
        assert world.users.deposited == 0
    n = lazy.users.rows
    for field in ("wallet", "stake", "unstaking", "earned"):
        a, b = getattr(lazy.users, field)[:n], getattr(daily.users, field)[:n]
        assert (a >= 0).all() and np.abs(a - b).max() <= 20, field
