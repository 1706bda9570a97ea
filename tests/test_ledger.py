"""The World's books (hanzo/sim/ledger.py): one ledger owns every HANZO balance; no flow makes or
loses HANZO, none overdraws, and the books are checked at the end of every simulated day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hanzo.econ.params import CONGESTION_CHARGE_ON
from hanzo.sim.ledger import (BURNED, CHART, CONTRACT, MARKET, UNIT, WALLET, ConservationError, Ledger, Overdraft,
                              WalletOverdraft)
from hanzo.sim.run import simulate, summarize
from hanzo.sim.scenario import SCENARIO_DIR, load
from hanzo.sim.world import World

SHORT = {"scenario.years": 0.25, "users.max": 50_000, "users.initial": 1_000}


# ---------------------------------------------------------------- the ledger alone


def test_flows_keep_the_books_to_the_unit():
    ledger = Ledger(clock=lambda: 7)
    ledger.mint("training_pool", 1_000.0, "emission")
    ledger.transfer("training_pool", "holders", 333.333333333, "rewards")
    ledger.burn("holders", 0.1234567, "nft_fee")
    ledger.transfer("holders", "sell_orders", 100.0, "users sell")
    ledger.check(7)
    assert ledger.minted == 1_000.0
    assert ledger["holders"] == pytest.approx(333.333333 - 0.123457 - 100.0, abs=1e-6)
    assert sum(ledger.units.values()) == 1_000 * UNIT  # exact: integers of micro-HANZO
    assert ledger.total(WALLET) + ledger.total(CONTRACT) + ledger.total(MARKET) + ledger.total(BURNED) == 1_000.0
    assert ledger.burned()["nft_fee"] == pytest.approx(0.123457)
    assert ledger.checked_days == 1


def test_an_overdraft_is_refused_with_the_day_the_flow_and_the_account():
    ledger = Ledger(clock=lambda: 412)
    ledger.mint("holders", 10.0, "genesis")
    with pytest.raises(Overdraft) as info:
        ledger.transfer("holders", "market_maker", 10.000001, "compute credits")
    e = info.value
    assert (e.day, e.flow, e.account, e.holds, e.amount) == (412, "compute credits", "holders", 10.0, 10.000001)
    assert str(e) == ("day 412: compute credits: the holders account holds 10.000000 HANZO, "
                      "10.000001 HANZO asked")
    assert ledger["holders"] == 10.0 and ledger["market_maker"] == 0.0  # nothing moved
    with pytest.raises(Overdraft, match="burn \\(training\\)"):
        ledger.burn("training_pool", 1.0, "training")
    with pytest.raises(ValueError, match="never negative"):
        ledger.transfer("holders", "treasury", -1.0, "a negative flow")


def test_upto_takes_what_rounding_left_but_no_more():
    ledger = Ledger()
    ledger.mint("training_pool", 1.0, "emission")
    assert ledger.transfer("training_pool", "holders", 1.000001, "the whole pool", upto=True) == 1.0
    ledger.mint("training_pool", 1.0, "emission")
    with pytest.raises(Overdraft):  # two units short of 1.000002: more than rounding
        ledger.transfer("training_pool", "holders", 1.000002, "the whole pool", upto=True)


def test_a_flow_that_mints_without_recording_is_caught():
    ledger = Ledger()
    ledger.mint("treasury", 100.0, "genesis")
    ledger.check(0)
    ledger.units["holders"] += 5  # five micro-HANZO from nowhere
    with pytest.raises(ConservationError, match=r"day 3: the accounts hold 100.000005 HANZO, 100.000000 were minted"):
        ledger.check(3)
    ledger.units["holders"] -= 5
    ledger.units["treasury"] -= 7  # ... or lost
    with pytest.raises(ConservationError, match=r"\(-0.000007\)"):
        ledger.check(4)


def test_a_negative_balance_and_a_drifting_mirror_are_caught():
    ledger = Ledger()
    ledger.mint("pool", 50.0, "genesis")
    ledger.units["pool"] -= 60 * UNIT
    ledger.units["holders"] += 60 * UNIT
    with pytest.raises(ConservationError, match="negative balances {'pool': -10.0}"):
        ledger.check(1)
    ledger = Ledger()
    ledger.mint("pool", 50.0, "genesis")
    reserve = [50.0]
    ledger.mirror("pool", lambda: reserve[0])
    ledger.check(0)
    reserve[0] = 49.0  # the pool model traded a HANZO the ledger never saw
    with pytest.raises(ConservationError, match="day 2: pool holds 49.000000 HANZO by its model, 50.000000 by the"):
        ledger.check(2)


def test_the_chart_names_every_account_once_with_its_kind():
    kinds = {kind for kind, _ in CHART.values()}
    assert kinds == {WALLET, CONTRACT, MARKET, BURNED}
    assert all(description for _, description in CHART.values())


# ---------------------------------------------------------------- the World's books


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.stem)
def test_every_builtin_scenario_conserves_hanzo_every_day(path):
    scenario = load(path)
    changes = {"scenario.years": 0.5}
    if scenario["attacker"]["enabled"]:
        changes["attacker.start_day"] = 30  # the attack, its vote and the capture inside the half year
    result = simulate(scenario.with_overrides(**changes))
    s = result.series
    assert result.summary["conserved"] is True
    wallet_columns = [c for c in s.columns if c.startswith("wallet_")]
    assert (s[wallet_columns] >= 0).all().all()
    for column in ("circulating_supply", "total_supply", "treasury", "training_pool", "compute_pool", "staked",
                   "pool_hanzo", "sell_backlog", "hmm_funds"):
        assert (s[column] >= 0).all(), column
    # total supply is minted less burned, and the circulating part is no more than it
    assert np.allclose(s["total_supply"], s["minted"] - s["burned"])
    assert (s["circulating_supply"] <= s["total_supply"]).all()


def test_the_world_checks_its_books_every_day():
    world = World(load("baseline").with_overrides(**SHORT))
    world.run(40)
    assert world.ledger.checked_days == 40 and world.conserved


def test_a_world_flow_that_mints_without_recording_is_caught_that_day():
    world = World(load("baseline").with_overrides(**SHORT))
    world.run(10)

    def leak():  # a process that pays users from nowhere (as the old holders' unmet buys did)
        while True:
            world.ledger.units["holders"] += 1_000 * UNIT
            yield world.env.timeout(1)

    world.env.process(leak())
    with pytest.raises(ConservationError, match="day 10: .*\\(\\+1,000.000000\\)"):
        world.env.run(until=11)


def test_a_pool_trade_the_ledger_did_not_see_is_caught():
    world = World(load("baseline").with_overrides(**SHORT))
    world.run(5)
    world.pool.sell(1_000.0)  # HANZO into the pool that no wallet paid
    with pytest.raises(ConservationError, match="day 5: pool holds"):
        world.env.run(until=6)


def test_a_policy_that_sells_more_than_users_hold_is_an_error_naming_the_day_and_agents():
    # no public sale (its 5% in the treasury): holders hold only what they earn
    scenario = load("baseline").with_overrides(**SHORT, **{"tokenomics.alloc_public_sale_bps": 0,
                                                           "tokenomics.alloc_community_treasury_bps": 2000})
    world = World(scenario)

    class SellAndStakeEverything:  # sells all it earns and stakes it all again
        def decide(self, view, rng=None):
            return 1.0, 1.0

    world.agents["holders"] = SellAndStakeEverything()
    with pytest.raises(Overdraft) as info:
        world.run(30)
    assert (info.value.day, info.value.flow, info.value.account) == (0, "users sell", "users")
    assert info.value.kind == "user"  # each user agent pays from its own wallet (hanzo.sim.users)
    assert isinstance(info.value, WalletOverdraft) and "user agent(s) would overdraw" in str(info.value)


def test_no_one_buys_with_hanzo_they_cannot_fund():
    world = World(load("baseline").with_overrides(**SHORT))
    world.run(3)
    world.exchange.open()  # day 3's opening: the pool's depth for the day's buyers
    affordable = world.exchange.affordable("speculators")  # what is left of the pool's day: no wallet of theirs
    assert affordable > 0 and world.ledger["speculators"] == 0
    with pytest.raises(Overdraft, match="speculators"):
        world.exchange.buy("speculators", affordable * 1.01, "speculators' credits")
    world.exchange.buy("speculators", affordable, "speculators' credits")  # all of it is fine
    assert world.exchange.affordable("speculators") == pytest.approx(affordable, abs=1e-3)  # it holds it now


def test_large_adoption_keeps_supply_non_negative_and_spends_only_what_buyers_hold():
    # 70M users: before the ledger, holders paid 961M HANZO of purchases the pool could not sell
    # with HANZO nobody held, and circulating supply went negative on day 304 (-712M by day 547).
    # What made it large is demand against the pool's depth, so the test runs the economy 500 times
    # smaller on both sides: a 140,000-user cap and a Liquidity allocation of 1 bp instead of 500
    # (the rest to the treasury). At 70M users some 4M user agents each pay from its own wallet
    # row by row on most days (minutes); here 64,000 do, from day 0, with the same shortfalls
    cap = 140_000
    result = simulate(load("high_adoption").with_overrides(**{
        "users.max": cap, "users.initial": 10_000, "scenario.years": 1.0, "tokenomics.alloc_liquidity_bps": 1,
        "tokenomics.alloc_community_treasury_bps": 1999}))
    s, summary = result.series, result.summary
    assert summary["conserved"] is True
    assert (s["circulating_supply"] >= 0).all() and (s["total_supply"] >= 0).all()
    assert (s[[c for c in s.columns if c.startswith("wallet_")]] >= 0).all().all()
    # demand outruns what the pool's day and holders' wallets can fund: those purchases are not made
    # (newcomers wait for their fork's fee, users buy fewer credits)
    assert summary["users_waiting_peak"] > cap / 7 and summary["market"]["credits_unfunded_days"] > 0
    assert (s["users"] + s["users_waiting"] <= cap).all()
    # users pay from their own wallets (the public sale's holders no longer pay for them), never beyond them
    assert (s["wallet_users"] >= 0).all() and (s["wallet_holders"] == s["wallet_holders"][0]).all()
    # the unmet part of each day's purchases came out of buyers' own wallets, never beyond them
    assert summary["market"]["unmet_hanzo_buys"] > 0


def test_the_users_pay_the_congestion_charge_the_maker_keeps_it_and_the_books_hold():
    """With the charge on, past the target share (80%) of the day's capacity each tier's redemptions pay the charge,
    congestion_charge x P_ref per credit of the excess (one aggregate provider a tier). The users pay it, out of
    the premium the maker owes them and the rest bought as credits are; the daily rows record it, and the ledger,
    checked every day, holds the maker's funds and the premium owed to a billionth. Without the charge none is
    recorded. (Each epoch's charges are read as the epoch closes, before the step clears them.)"""
    kappa = CONGESTION_CHARGE_ON / 10**18  # governance's switch (off by default)
    recorded = {}
    for k in (kappa, 0.0):
        world = World(load("baseline").with_overrides(**SHORT, **{"tokenomics.hmm_congestion_charge": k}))
        m, step, expected = world.market, world.market.step, []

        def closing(*args, m=m, step=step, expected=expected):
            # the contract's threshold: whole credits, rounded down (the float product's last bits rounded off)
            excess = np.maximum(m.redeemed - np.floor(np.round(m.target * m.capacity, 6)), 0.0)
            expected.append((float(m.charged.sum()), float((k * m.ref_price * excess).sum())))
            return step(*args)

        m.step = closing
        world.run(90)
        charges = [r["congestion_charges"] for r in world.rows]
        assert np.allclose(charges, [kept for kept, _ in expected], rtol=1e-12, atol=0)
        assert np.allclose(charges, [owed for _, owed in expected], rtol=1e-9, atol=1e-12)
        recorded[k] = sum(charges)
        summary = summarize(world, pd.DataFrame(world.rows))
        assert summary["market"]["congestion_charges"] == pytest.approx(recorded[k], rel=1e-12)
    assert recorded[kappa] > 0 and recorded[0.0] == 0
