"""hanzo simulate --chain: the agents on the real contracts, reconciled to the wei."""

from __future__ import annotations

import numpy as np
import pytest

from hanzo.chain.drivers import DriverError
from hanzo.sim import crosscheck, onchain
from hanzo.sim.onchain import ChainRunError, run_on_chain
from hanzo.sim.scenario import load
from hanzo.sim.world import World


FIXED = {"users.initial": 1_000_000}  # the baseline's ceiling: every account there from day 0


@pytest.fixture(scope="module")
def scenario():
    return load("baseline").with_overrides(**{"users.low_quality_share": 0.3, **FIXED})


def test_chain_run_reconciles_every_figure_and_writes_the_worlds_files(scenario, networks, tmp_path):
    # the test session already holds the in-process chain: run on it
    result = run_on_chain(scenario, network="ethereum:local:test", days=4, users=3)
    assert result.ok, result.differences
    assert result.checked >= 20 and result.transactions > 40
    # the agents trade in HanzoPool on chain: users' buys on day 0 lift its price, and each day's
    # price is the pool's as the day before left it; its reserves and every trader's TestUSD are
    # reconciled with the exact mirror
    assert len(result.prices) == 4 and result.prices[0] > scenario.tokenomics.pool_initial_price / 10**18
    for before, price in zip(result.rows, result.prices[1:]):
        assert price == pytest.approx(before["pool_usd"] / before["pool_hanzo"], rel=1e-12)
    assert len(set(result.prices)) > 1
    assert sum("HanzoPool's" in what for what in result.checked_figures) == 2
    # the float's holder, 3 users and the provider
    assert sum("TestUSD balance of" in what for what in result.checked_figures) == 5
    # the files a World run writes, from the books the reconciliation proved equal to the chain
    import json

    import pandas as pd

    files = onchain.write(result, scenario, "ethereum:local:test", 3, tmp_path)
    assert {p.name for p in files.values()} == {"series.parquet", "summary.json", "supply.png", "price.png",
                                                "compute.png", "users.png", "report.html", "comparison.csv"}
    series = pd.read_parquet(files["series"])
    assert list(series["day"]) == [1, 2, 3, 4] and list(series["hanzo_price_usd"]) == result.prices
    assert series["emitted"].is_monotonic_increasing and series["transactions"].iloc[-1] == result.transactions
    summary = json.loads(files["summary"].read_text())
    assert summary["reconciled"] is True and summary["days"] == 4 and summary["differences"] == []
    # the supply the reconciliation checked against token.totalSupply() is the last row's
    assert summary["total_supply"] == series["total_supply"].iloc[-1] > 0 and series["burned"].iloc[-1] > 0
    assert "agree with the chain to the wei" in files["report"].read_text()
    # the World at the chain's scale beside it: the emission is the same schedule on both sides, and
    # every figure that differs has its reason written down
    versus = summary["world_vs_chain"]
    assert set(versus["max_rel_diff"]) == {name for name, _, _ in crosscheck.FIGURES}
    assert versus["max_rel_diff"]["emitted"] < 1e-12
    assert all(name in versus["why"] for name, diff in versus["max_rel_diff"].items() if diff > 1e-6)
    table = pd.read_csv(files["comparison"])
    assert list(table["day"]) == [1, 2, 3, 4] and (table["emitted_world"] > 0).all()


def test_the_embedded_evm_keeps_the_same_books_as_apes_chain(scenario, networks):
    """The same scenario and seed on the embedded EVM (pyrevm) and on Ape's in-process chain: both
    reconcile to the wei, and every day's figures are the same (only the transaction count differs:
    the embedded chain gives gas money without a transaction, and where a vote's snapshot ends a day, on the
    embedded chain only, the voter's weight is checked against the books' stake rather than read)."""
    on_ape = run_on_chain(scenario, network="ethereum:local:test", days=3, users=2)
    embedded = run_on_chain(scenario, network="embedded", days=3, users=2)
    assert on_ape.ok and embedded.ok, (on_ape.differences, embedded.differences)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "transactions"} for r in rows]  # noqa: E731
    weights = lambda r: sum("vote weight" in c for c in r.checked_figures)  # noqa: E731
    assert strip(embedded.rows) == strip(on_ape.rows)
    assert embedded.checked - weights(embedded) == on_ape.checked - weights(on_ape)


def test_hanzo_simulate_chain_writes_the_plots_a_world_run_writes(tmp_path):
    """`hanzo simulate --chain` writes supply, price, compute and users plots, as a World run does: compute from
    the tier the chain's provider serves (its price and utilization), users from the accounts and their rewards."""
    import subprocess
    import sys

    import pandas as pd

    from hanzo.chain.toolchain import ROOT

    shown = subprocess.run([sys.executable, "-m", "hanzo.cli", "simulate", "baseline", "--chain", "--network",
                            "embedded", "--days", "2", "--chain-users", "2", "--quiet",
                            "--set", "users.initial=1000000", "--out", str(tmp_path)],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert shown.returncode == 0, shown.stderr
    for name in ("supply", "price", "compute", "users"):
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "report.html").read_text().count('<img src="data:image/png') == 4
    series = pd.read_parquet(tmp_path / "series.parquet")
    assert series["utilization_7b"].between(0, 1).all() and (series["utilization_7b"] > 0).any()


def test_a_bad_network_name_is_refused_before_anything_runs(scenario):
    with pytest.raises(DriverError, match="network .embeded.: .*or .embedded. for the embedded EVM"):
        run_on_chain(scenario, network="embeded", days=1, users=1)


def test_reconciliation_names_what_differs(scenario, monkeypatch):
    real = onchain.training_payout

    def off_by_one(p, multiplier, interactions, low=False):
        pay = real(p, multiplier, interactions, low)
        return type(pay)(pay.user + 1, pay.owner, pay.burned)  # the simulation's rule is wrong by 1 wei

    monkeypatch.setattr(onchain, "training_payout", off_by_one)
    result = run_on_chain(scenario, days=2, users=2)
    assert not result.ok
    assert any("HANZO balance of" in d and "differs by" in d for d in result.differences)


def test_node_that_dies_mid_run_gives_a_clear_error(scenario):
    import ape

    def kill_node_on_day_2(_):
        kill_node_on_day_2.days += 1
        if kill_node_on_day_2.days == 2:
            ape.chain.provider.process.kill()

    kill_node_on_day_2.days = 0
    with pytest.raises(ChainRunError, match=r"day [23]: .*the node (did not answer|refused the transaction|stopped answering)"):
        run_on_chain(scenario, network="ethereum:local:foundry", days=5, users=2, progress=kill_node_on_day_2)


def test_churn_and_speculators_run_on_chain_through_the_worlds_policies():
    """Accounts leave when pay is worth less than the reservation wage, and a speculator account
    trades credits on the controller's momentum with buy and sell on chain: reconciled to the wei,
    and the speculator takes out no more than it put in. Six accounts: of three, half of them leaving a day, every
    one had left for good by day 3 with seeds 2 to 5 (and seed 1's once accounts rounded their credits at random),
    and with nobody left to use compute the controller never rose and the speculator never traded (of six: seeds 1
    to 6 trade)."""
    sc = load("baseline").with_overrides(**{**FIXED,
        "agents.reservation_usd_per_interaction": 10.0, "agents.churn_per_day": 0.5,
        "agents.speculator_budget_per_day": 50.0, "agents.speculator_hold_days": 2,
        "compute.capacity_headroom": 0.5})  # demand past capacity: the controller raises prices, speculators buy
    result = run_on_chain(sc, network="ethereum:local:test", days=5, users=6)
    assert result.ok, result.differences
    assert result.churned >= 1
    spent, received = result.speculators
    assert spent > 0 and received > 0
    assert received <= spent


def test_chain_mode_runs_the_contracts_pacing_and_reconciles_what_it_defers():
    """Issue 16, finding 6, in chain mode: TrainingRewards paces the pool (here at its lowest pace,
    1 bps, so that three users' days pass it); the ops it defers are neither paid nor burned, and the
    reference model's budgets (hanzo.econ.reference.DailyBudgets) say which, to the wei."""
    sc = load("reward_pacing").with_overrides(**{**FIXED, "tokenomics.pool_pace_bps": 1,
                                                  "users.interactions_per_day": 400.0,
                                                  "users.low_quality_share": 0.2})
    result = run_on_chain(sc, network="ethereum:local:test", days=3, users=3)
    assert result.ok, result.differences
    assert result.deferred > 0


def test_the_provider_on_chain_withdraws_capacity_that_costs_more_than_it_earns():
    """Chain mode's provider follows the World's providers' policy ([agents] provider_cost_usd_per_credit):
    at a cost far above what a credit pays, it offers less each day; at no cost it keeps the headroom."""
    costly = run_on_chain(load("baseline").with_overrides(**{**FIXED, "agents.provider_cost_usd_per_credit": 1.0}),
                          network="embedded", days=4, users=3)
    free = run_on_chain(load("baseline").with_overrides(**FIXED), network="embedded", days=4, users=3)
    assert costly.ok and free.ok
    offered = [r["capacity_7b"] for r in costly.rows]
    assert offered == sorted(offered, reverse=True) and offered[-1] < 0.9 * offered[0]
    assert free.rows[-1]["capacity_7b"] > costly.rows[-1]["capacity_7b"]


def test_the_accounts_on_chain_grow_on_the_worlds_adoption_curve_day_by_day():
    """Issue 18, item 2: the chain's population is the scenario's, scaled to its accounts (ceiling 40,
    starting at 10% of it as the scenario's initial users are of its ceiling): newcomers join, buy
    their fork and train as the World's adoption says, and the World at that scale has the same users
    every day."""
    sc = load("baseline").with_overrides(**{"users.initial": 100_000, "users.growth_per_day": 0.2})
    result = run_on_chain(sc, network="embedded", days=12, users=40)
    assert result.ok, result.differences
    users = [r["users"] for r in result.rows]
    assert users[0] == 4 and users == sorted(users) and users[-1] >= 3 * users[0] and result.accounts == users[-1]
    world = crosscheck.world_rows(sc, 40, 12)
    assert [r["users"] for r in world] == users


# Issue 18: each account follows its own strategy, drawn with its traits as the World draws its rows.
STRATEGIES = {"strategies.farmer_share": 0.25, "strategies.spammer_share": 0.25, "strategies.holder_share": 0.25,
              "strategies.spammer_low_quality": 0.5, "strategies.spammer_pay": 0.3,
              "strategies.holder_sell_share": 0.2, "strategies.holder_stake_share": 0.7}

# How far chain mode's HANZO earned per interaction worked, per strategy, may be from the World's at 120
# accounts x 8 days. The World pays each row the mean of what an op pays; the chain draws each op's
# multiplier, the oracle's junk, its own low-quality ops (a spammer's, half of them) and whether it trains
# on the developer's model (its owner's share then goes there), each op weighted by its account's
# lognormal activity. Measured over seeds 1-40 (chain / World - 1): honest -9%..+14%, farmer -8%..+9%,
# holder -13%..+19%, spammer -26%..+31% (fewest paid ops, and each credits 0.9 of its work at random). A
# chain paying a farmer as an honest trainer would be 35% above (1 / 0.74); a spammer's junk paid, 100%.
PER_INTERACTION_TOLERANCE = {"honest": 0.25, "farmer": 0.2, "holder": 0.25, "spammer": 0.45}


def test_accounts_on_chain_follow_their_strategies_and_reconcile_to_the_wei():
    from hanzo.econ.params import WEI
    from hanzo.sim.world import World

    sc = load("baseline").with_overrides(**{**FIXED, **STRATEGIES})
    result = run_on_chain(sc, network="embedded", days=8, users=120)
    assert result.ok, result.differences
    books = result.by_account
    # each account's strategy is the World's row's: drawn by hanzo.sim.strategies from the World's own stream
    world = World(crosscheck.at_chain_scale(sc, 120))
    world.start()
    world.env.run(until=8)
    st = world.strategies
    assert [b["strategy"] for b in books.values()] == [st.names[k] for k in st.kind[:120]]
    by = result.strategies()
    assert {name: s["accounts"] for name, s in by.items()} == {name: s["users"] for name, s in
                                                               st.summary(world.users).items()}
    assert all(by[name]["accounts"] >= 20 and by[name]["ops"] >= 50 for name in by)
    for book in books.values():
        name, earned = book["strategy"], book["earned"]
        if name in ("farmer", "spammer"):  # they sell everything they earn and stake nothing
            assert book["staked"] == 0 and book["sold"] == earned
        elif name == "holder":  # its own shares, to the basis point of each day's pay
            assert earned * 7 // 10 - 8 <= book["staked"] <= earned * 7 // 10
            assert earned * 2 // 10 - 8 <= book["sold"] <= earned * 2 // 10
        else:  # honest: the scenario's shares, as before strategies
            assert earned // 4 - 8 <= book["staked"] <= earned // 4 and earned // 2 - 8 <= book["sold"] <= earned // 2
    # half a spammer's ops are its own junk (with the oracle's usual share of the rest): judged low quality,
    # their reward burned (reconciled above with the chain's totalBurned); the others' only the usual share
    spam = by["spammer"]
    assert 0.4 < spam["low_quality_ops"] / spam["ops"] < 0.75 and spam["low_quality_burned"] > 0  # (0.45-0.62)
    assert by["farmer"]["low_quality_ops"] / by["farmer"]["ops"] < 0.3
    # what a unit of each strategy's work earns, against the World's (the tolerance above)
    world_by = st.summary(world.users)
    for name, tolerance in PER_INTERACTION_TOLERANCE.items():
        chain = by[name]["earned"] / WEI / by[name]["worked"]
        assert chain == pytest.approx(world_by[name]["hanzo_per_interaction"], rel=tolerance), name
    # and the figures both executors share by construction agree as in an honest run (the users to the
    # account, the emission's schedule, the pool, the treasury, the prices: at most 3e-4 over seeds 1-40)
    versus = crosscheck.compare(crosscheck.world_rows(sc, 120, 8), result.rows)
    assert versus.max_rel_diff["users"] == 0 and versus.max_rel_diff["emitted"] < 1e-12
    for name in ("training_pool", "treasury", "hanzo_price_usd", "price_7b"):
        assert versus.max_rel_diff[name] < 1e-3, name


def test_an_all_honest_scenario_runs_on_chain_as_before_accounts_had_strategies():
    """The rows of a run without strategies are those of the run before chain mode had them (ca02908, the
    last day pinned), and an account whose strategy decides as an honest one (holders with the scenario's
    own shares) acts as one: the same transactions and rows. Since chain mode runs governance, the model
    developer stakes the proposers' stake before day 1 (approve and stake: 490 transactions became 492);
    no proposal falls in these 6 days, and every other figure is as pinned. Since exits cost alike, the
    provider is paid the credits' basis less the 12.5% exit fee and sells less HANZO into the pool: the pool's
    HANZO 49,999,808.53 -> 49,999,806.78 on day 6, its price 0.1000007699 -> 0.1000007758. Since the Compute
    Providers pool pays the provider through governance, a payment is proposed each day and voted from its third
    (492 -> 502 transactions); none is executed before day 11, so every other figure is as pinned. Since each
    account rounds its credits up or down at random (onchain.whole_credits; np.rint before), the credits bought
    and served, and so the reserve (9.905 -> 9.988 HANZO), the provider's sales and the pool move; the rest is as
    pinned. Since the curve prices from a position that fades (positionDecay), the day-6 price of a 7B credit is
    the base price's (the users' buffers no longer price their next purchases up the curve: 0.00100000084 ->
    0.001000000001), and the reserve, the provider's sales and the pool move by parts in a million. Since a
    redemption pays the provider the reference price and returns the curve's premium to the account (rule 3h),
    the provider sells 12.739962815 -> 12.739962129 HANZO and the pool moves by parts in a billion. Since each
    account's activity and the day's common shock come from the World's users stream (the accounts are the World's
    rows), the accounts train other amounts: the rewards paid a day, what is staked, burned and sold move, and
    which accounts' pay makes a stake or a sale (502 -> 500 transactions); the reserve and the provider's sales
    are as pinned. Since provider rows, the World's churn and the governance attacker run on chain, the rows carry
    the treasury released to an attacker (0 here); every other figure and transaction is as pinned. The rows
    carry the day's congestion charges (none: the charge is off by default). With the charge on (governance's
    switch), the accounts whose credits the desk serves past the target share of a tier's offer (the 32B and 175B
    tiers' few whole credits; the 7B tier reads 0.8) pay 0.49 HANZO of charges in the 6 days, and where a batch's
    charge is more than its refunds the account buys the rest from the pool first: five swaps (500 -> 505
    transactions), the pool's HANZO 49,999,805.58 -> 49,999,805.09 and its price 0.10000078117 -> 0.10000078310;
    every other figure is as pinned, reconciled to the wei. Since an exit takes its own fresh credits off the
    position and, for older credits, at most what the closes left (red team 22's third Low), the accounts'
    redemptions from yesterday's buffers no longer take today's purchases off the curve: the day-6 price of a 7B
    credit 0.001000000001 -> 0.001000000288, the reserve 9.987501041 -> 9.987501309, the pool by parts in 1e14.
    Since the exit fee is charged on the reference part only (the curve's premium comes back whole), the accounts'
    refunds grow by the fee on their premiums: the honest rows are as pinned; with the charge on, the accounts buy
    a hair less from the pool to pay the charges: its HANZO 49,999,805.09207202 -> 49,999,805.092072055 (parts in
    1e15), its price and USD by as little."""
    sc = load("baseline").with_overrides(**FIXED)
    honest = run_on_chain(sc, network="embedded", days=6, users=12)
    assert honest.ok and honest.transactions == 500 and honest.proposals == []
    assert [p["day"] for p in honest.provider_payments] == [1, 2, 3, 4, 5, 6]
    assert [r["rewards_paid"] for r in honest.rows] == [5.913, 4.266, 4.113, 3.123, 4.194, 7.245]
    assert honest.rows[-1] == {
        "day": 6, "hanzo_price_usd": 0.1000007811662311, "total_supply": 501643733.5804384,
        "emitted": 1643835.6164383562, "burned": 102.036, "staked": 6.034275, "reward_pool": 986267.9798630137,
        "treasury": 150657631.74657536, "treasury_drained": 0.0, "market_maker_reserve": 9.987501309487085, "users": 12,
        "pool_hanzo": 49999805.58377311, "pool_usd": 5000019.515106604, "rewards_paid": 7.245,
        "price_7b": 0.001000000288000041, "capacity_7b": 525.0, "utilization_7b": 0.8, "training_ops_paid": 12,
        "training_ops_deferred": 0, "compute_pool": 657534.2465753425, "compute_paid": 0.0,
        "provider_sold": 12.739962129473641, "congestion_charges": 0.0, "transactions": 500}
    charged = run_on_chain(sc.with_overrides(**{"tokenomics.hmm_congestion_charge": "0.833333333333333333"}),
                           network="embedded", days=6, users=12)
    assert charged.ok and charged.transactions == 505
    assert sum(r["congestion_charges"] for r in charged.rows) == pytest.approx(0.4917013, rel=1e-6)
    assert charged.rows[-1] == {**honest.rows[-1], "hanzo_price_usd": 0.10000078310255658,
                                "pool_hanzo": 49999805.092072055, "pool_usd": 5000019.564425049,
                                "congestion_charges": 0.008352600702820357, "transactions": 505}
    assert {b["strategy"] for b in honest.by_account.values()} == {"honest"}
    u = sc["users"]
    as_honest = run_on_chain(sc.with_overrides(**{"strategies.holder_share": 1.0,
                                                  "strategies.holder_sell_share": u["sell_share"],
                                                  "strategies.holder_stake_share": u["stake_share"]}),
                             network="embedded", days=6, users=12)
    assert as_honest.ok and {b["strategy"] for b in as_honest.by_account.values()} == {"holder"}
    assert as_honest.rows == honest.rows


def test_each_account_is_its_world_row_with_the_same_activity_draw():
    """Chain mode's accounts draw their activity (and the day's common shock) from the World's users stream in the
    World's order, so with every account there from day 0 each account's activity is its World row's, to the bit
    (before: the same lognormal from chain mode's own stream, 22.09 in all against the World's 24.40 at 30
    accounts); the rewards paid then differ only by the per-op draws."""
    from hanzo.sim.world import World

    sc = load("baseline").with_overrides(**FIXED)
    result = run_on_chain(sc, network="embedded", days=4, users=30)
    world = World(crosscheck.at_chain_scale(sc, 30))
    world.start()
    world.env.run(until=4)
    chain = [b["activity"] for b in result.by_account.values()]
    assert world.users.rows == len(chain) == 30
    assert chain == world.users.activity[:30].tolist() and len(set(chain)) == 30
    versus = crosscheck.compare(crosscheck.world_rows(sc, 30, 4), result.rows)
    # the per-op draws alone: 0.090 on the worst day here, 0.133 with the activity drawn from another stream
    assert versus.max_rel_diff["rewards_paid"] < 0.12


def _chain_and_world(sc, days: int, users: int):
    """`sc` run on the embedded EVM for `days` days with at most `users` accounts (reconciled to the wei), and the
    World at that scale after the same days (its days 0..days: the chain's day d follows the World's day d)."""
    from hanzo.sim.world import World

    result = run_on_chain(sc, network="embedded", days=days, users=users)
    assert result.ok, result.differences
    world = World(crosscheck.at_chain_scale(sc, users))
    world.start()
    world.env.run(until=days + 1)
    return result, world


def test_the_accounts_that_leave_are_the_world_rows_that_leave():
    """Chain mode's churn is the World's: each day int(chance x active) accounts leave, drawn alike from the World's
    agents stream (hanzo.sim.users.leavers_alike), so the same seed takes the same rows (before: each account left
    on its own coin from the run's rng, 8 accounts here against the World's 8 but different ones, and a count that
    drifted apart). A reservation wage far above the pay makes the day's chance [agents] churn_per_day on both
    sides, whatever each pays."""
    sc = load("baseline").with_overrides(**FIXED, **{"agents.churn_per_day": 0.1,
                                                     "agents.reservation_usd_per_interaction": 1000.0})
    result, world = _chain_and_world(sc, 4, 30)  # the World churns from its day 1, as the chain's days 1-4
    chain = [b["active"] for b in result.by_account.values()]
    assert chain == world.users.on[:30].astype(int).tolist()
    assert result.churned == world.churned == 8  # int(0.1 x 30 x (1 - a sliver)) = 2 a day


@pytest.mark.parametrize("budget_usd, turnout, verdict", [
    (2e6, 0.15, "passed: governance captured"),  # 14.3M HANZO staked: over the quorum and 15% of the rest
    (2e6, 0.9, "defeated: deposit burned"),  # the same stake against 90% of the honest stake
    (5e5, 0.15, "defeated: deposit burned"),  # 4.5M HANZO: short of the 10M quorum
])
def test_the_governance_attacker_runs_on_chain_and_wins_or_loses_as_in_the_world(budget_usd, turnout, verdict):
    """The [attacker] on chain (refused before): an account that swaps its dollars for HANZO in HanzoPool for 30
    days, stakes it, and proposes a Treasury release to itself, the World's rule deciding its vote (at least the
    quorum, and more than the honest turnout against it), which the honest accounts enact with their votes. The
    verdict is the World's at the same scale and seed; a defeat burns its deposit; a win pays it what
    HanzoTreasury's bucket lets out (a release a day proposed and voted through by its own stake, never more than
    the bucket's limit plus its refill), which it sells; every balance and vote reconciles to the wei."""
    sc = load("governance_attack").with_overrides(**FIXED, **{
        "attacker.start_day": 2, "attacker.budget_usd": budget_usd, "governance.turnout": turnout})
    days = 45
    result, world = _chain_and_world(sc, days, 20)
    attack = result.attack
    assert attack["attack"] == world.gov.attack == verdict and attack["attack_day"] == world.gov.attack_day == 32
    assert attack["attack_cost_usd"] == pytest.approx(budget_usd) == world.gov.attack_cost_usd
    assert attack["bought"] == pytest.approx(world.attacker_bought, rel=0.01)  # the pools' prices differ a little
    capture = attack["proposals"][0]
    assert capture["votes_for"] == pytest.approx(attack["bought"] * 1e18, rel=1e-12)  # all of its stake, For
    if verdict.startswith("passed"):
        p = sc.tokenomics
        bound = p.treasury_release_limit * (1 + (days - 32) * 86_400 / p.treasury_release_period) / 1e18
        assert 0 < attack["treasury_drained"] <= bound and capture["votes_against"] < capture["votes_for"]
        assert result.rows[-1]["treasury_drained"] == attack["treasury_drained"]
    else:
        assert attack["treasury_drained"] == 0 and capture["burned"] == sc.tokenomics.proposal_deposit
    if turnout == 0.9:  # defeated by the honest votes: Against outweighs its For
        assert capture["votes_against"] > capture["votes_for"] >= sc.tokenomics.quorum


def test_with_reservation_spreads_each_account_weighs_its_own_wage_as_its_world_row():
    """[agents] reservation_spread on chain (refused before: chain mode's honest accounts decided alike): each
    account draws its own reservation wage from the World's agents stream as its World row does (to the bit),
    trains by its own pay against it, and leaves with its own chance, drawn in proportion
    (hanzo.sim.users.leavers_weighted) as the World draws its leavers: with a wage far above any pay, the same
    rows leave; nearer the pay, as many leave."""
    for wage, same_rows in ((1000.0, True), (0.03, False)):
        sc = load("baseline").with_overrides(**FIXED, **{"agents.churn_per_day": 0.1, "agents.reservation_spread": 1.0,
                                                         "agents.reservation_usd_per_interaction": wage})
        result, world = _chain_and_world(sc, 4, 30)
        books = list(result.by_account.values())
        assert [b["reservation_usd"] for b in books] == world.users.reservation[:30].tolist()
        assert len({b["reservation_usd"] / b["activity"] for b in books}) == 30  # each its own draw
        assert result.churned == world.churned > 0
        if same_rows:
            assert [b["active"] for b in books] == world.users.on[:30].astype(int).tolist()
        else:  # some train (those whose wage the pay beats), fewer than without a wage
            assert 0 < sum(b["worked"] for b in books) < sum(b["worked"] for b in run_on_chain(
                load("baseline").with_overrides(**FIXED), network="embedded", days=4, users=30).by_account.values())


def test_other_venues_move_hanzopool_on_chain_as_the_worlds_arbitrageurs_move_the_worlds_pool():
    """[market] external_venues on chain (refused before): the venues' price walks as the World's (the same draws
    from its market stream, day 0 included), and each day's end the holder of the Public Sale and of TestUSD's
    float swaps in HanzoPool part of the way to it (hanzo.sim.pool.hanzo_toward, as the World's arbitrageurs):
    HANZO's price on chain then follows the World's within 0.1% every day, through a 5%-a-day walk with jumps,
    where without arbitrage the pool would sit near its own price; every balance reconciles to the wei."""
    from hanzo.sim.world import World

    sc = load("baseline").with_overrides(**FIXED, **{"market.external_venues": True, "market.daily_volatility": 0.05,
                                                     "market.jump_probability": 0.05, "market.jump_size": 0.3})
    result = run_on_chain(sc, network="embedded", days=20, users=20)
    assert result.ok, result.differences
    world = World(crosscheck.at_chain_scale(sc, 20))
    world.start()
    walk = []
    for day in range(1, 22):
        world.env.run(until=day)
        walk.append(world.external_price_usd)
    assert result.venues["external_prices"] == walk  # day 0's and days 1-20's, to the bit
    assert result.venues["arbitrage_usd"] > 1e6 and max(walk) / min(walk) > 1.3
    versus = crosscheck.compare(crosscheck.world_rows(sc, 20, 20), result.rows)
    assert versus.max_rel_diff["hanzo_price_usd"] < 1e-3
    closed = run_on_chain(load("baseline").with_overrides(**FIXED), network="embedded", days=20, users=20)
    assert abs(result.prices[-1] / closed.prices[-1] - 1) > 0.1  # the venues moved it


def test_reward_farmers_enter_farm_and_sell_on_chain_as_the_worlds_farmer_population():
    """[agents] farmers_max on chain (refused before): the farmer population moves by the World's rule (in while a
    farmed interaction pays more than it costs), each farmer an account that buys its fork's HANZO with its own
    dollars, mints it, farms at multiplier 1 on it and sells all it is paid; the population on chain is the
    World's after the same days, and what farming paid follows the World's; every balance reconciles to the wei.
    At a cost above the pay, nobody enters on either side."""
    def both(cost):
        sc = load("baseline").with_overrides(**FIXED, **{"agents.farmers_max": 20, "agents.farm_entry_per_day": 0.2,
                                                         "agents.farm_cost_usd_per_interaction": cost})
        result, world = _chain_and_world(sc, 12, 20)  # (the World's farmers decide from its day 0, the chain's 1)
        return result.farmers, world

    farmers, world = both(0.0002)
    assert farmers["population"] == pytest.approx(world.farmers) and farmers["active"] == round(world.farmers) == 20
    assert farmers["entered"] == 20 and farmers["ops"] > 0 and farmers["sold"] == farmers["earned"] > 0
    # a farmed interaction pays the World's (multiplier 1, both shares, nothing rationed here)
    assert farmers["earned"] / farmers["interactions"] == pytest.approx(world.farm_paid_per_interaction, rel=1e-9)
    farmers, world = both(0.05)
    assert farmers["entered"] == farmers["ops"] == 0 and world.farmers == 0


def test_an_uncertain_scenario_runs_on_chain_with_the_worlds_draws():
    """[uncertainty] on chain (refused before): the run's growth, ceiling and sell share are drawn from the World's
    draws stream on the scenario at the chain's scale, as the World at that scale draws them (the same figures),
    and each day's word of mouth moves the adoption curve as the World's: the accounts on chain are the World's
    users every day; compute demand swings by the World's draws too; reconciled to the wei."""
    from hanzo.sim.world import World

    sc = load("uncertain")
    result = run_on_chain(sc, network="embedded", days=15, users=300)
    assert result.ok, result.differences
    world = World(crosscheck.at_chain_scale(sc, 300))
    assert result.drawn == {k: world.s["users"][k] for k in ("growth_per_day", "max", "sell_share")}
    assert result.drawn["max"] != 300 and result.drawn["sell_share"] != sc["users"]["sell_share"]
    versus = crosscheck.compare(crosscheck.world_rows(sc, 300, 15), result.rows)
    assert versus.max_rel_diff["users"] == 0 and result.rows[-1]["users"] > result.rows[0]["users"]


def test_the_attacker_proposes_its_capture_on_its_day_even_when_the_bucket_has_nothing_to_release():
    """With a release limit of 1,000 HANZO a period, the bucket has no room for a release on the attack's day (the
    providers' payments and the lateness margin a release keeps): the capture is still proposed on the World's day
    (its action then changes nothing) and wins as the World's does; the releases follow it day by day, within the
    bucket. Before, no capture was proposed at all and the attack read "none"."""
    sc = load("governance_attack").with_overrides(**FIXED, **{
        "attacker.start_day": 2, "attacker.budget_usd": 2e6, "tokenomics.treasury_release_limit": "1000"})
    result, world = _chain_and_world(sc, 45, 20)
    assert result.attack["attack"] == world.gov.attack == "passed: governance captured"
    capture, *releases = result.attack["proposals"]
    assert "payment" not in capture and all(p["payment"] > 0 for p in releases)  # (a record omits a 0 payment)
    assert result.attack["treasury_drained"] <= 1000 * (1 + (45 - 32) / 30)  # the limit and its refill at most


@pytest.mark.parametrize("processes", [1, 2])
def test_the_team_vesting_is_released_and_sold_on_chain_as_in_the_world(processes):
    """TeamVesting on chain (before, chain mode never released it: past the cliff the World's team sold its vested
    tokens and the chain's held nothing, and [market] team_sell_share was ignored): with the cliff at 0, each day
    anyone releases what vested (OpenZeppelin's VestingWallet, at the release's own block) and the team sells its
    share in HanzoPool; what was released is the World's (its days' vesting, to a few seconds' worth), HANZO's
    price follows the World's, and every balance reconciles to the wei, in one process and two."""
    sc = load("baseline").with_overrides(**FIXED, **{"tokenomics.team_vesting_cliff": 0, "market.team_sell_share": 0.9})
    result = run_on_chain(sc, network="embedded", days=8, users=10, processes=processes)
    assert result.ok, result.differences
    team = sc.tokenomics.allocation("team") / 1e18
    assert result.team["released"] == pytest.approx(team * 8 / (4 * 365), rel=1e-3)  # 8 days of 4 years' vesting
    assert result.team["sold"] == pytest.approx(0.9 * result.team["released"], rel=1e-9)
    versus = crosscheck.compare(crosscheck.world_rows(sc, 10, 8), result.rows)
    assert versus.max_rel_diff["hanzo_price_usd"] < 1e-3
    closed = run_on_chain(load("baseline").with_overrides(**FIXED), network="embedded", days=8, users=10)
    assert not closed.team and result.prices[-1] < closed.prices[-1] * 0.99  # the team's sales moved the price


def test_speculators_voters_and_a_custom_policy_run_on_chain_and_leave_as_the_world_says():
    """The other strategies chain mode runs: speculators (sell on the price's momentum), voters (stake their
    own share; the baseline's first proposal is on day 37, so no votes in these 6 days) and a custom policy
    (here: never works), with users leaving below their reservation wage; all reconciled to the wei."""
    from hanzo.sim.strategies import Decision, Strategy, register

    @register
    class _Idle(Strategy):
        name = "test_chain_idle"

        def decide(self, view, rows):
            return Decision(work=0.0)

    sc = load("baseline").with_overrides(**{
        **FIXED, "strategies.speculator_share": 0.3, "strategies.voter_share": 0.3, "strategies.voter_stake_share": 0.6,
        "strategies.custom_share": 0.2, "strategies.custom_policy": "test_chain_idle",
        "agents.churn_per_day": 0.05, "agents.reservation_usd_per_interaction": 0.01})
    result = run_on_chain(sc, network="embedded", days=6, users=40)
    assert result.ok, result.differences
    by = result.strategies()
    assert set(by) == {"honest", "speculator", "voter", "custom"} and result.churned > 0
    assert sum(s["accounts"] - s["active"] for s in by.values()) == result.churned
    assert by["custom"]["worked"] == by["custom"]["ops"] == by["custom"]["earned"] == 0
    assert by["speculator"]["ops"] > 0 and by["voter"]["ops"] > 0
    for book in result.by_account.values():
        if book["strategy"] == "voter":  # its own stake share, then the scenario's sale of what is left (0.4)
            earned = book["earned"]
            assert earned * 6 // 10 - 6 <= book["staked"] <= earned * 6 // 10
            assert earned * 4 // 10 - 6 <= book["sold"] <= earned * 4 // 10


def test_chain_mode_draws_traits_as_the_world_and_warns_of_clipped_draws():
    from hanzo.sim.strategies import ClippedWarning

    sc = load("baseline").with_overrides(**{**FIXED, "strategies.holder_share": 0.5,
                                             "strategies.holder_sell_share": 0.0,
                                             "strategies.holder_stake_share": "normal(0.5, 0.5)"})
    with pytest.warns(ClippedWarning, match=r"\[strategies\] holder_stake_share: .* (below|above) the key's bound"):
        result = run_on_chain(sc, network="embedded", days=2, users=40)
    assert result.ok and 0 < result.clipped["[strategies] holder_stake_share"] < 0.5
    # a holder whose draw was clipped to 0 stakes nothing; the others stake their own shares
    holders = [b for b in result.by_account.values() if b["strategy"] == "holder" and b["earned"]]
    shares = {round(b["staked"] / b["earned"], 2) for b in holders}
    assert 0.0 in shares and len(shares) > 3


# The World's honest governance on chain (ChainGovernance): 30 accounts x 20 days with a proposal a day on average.
GOVERNANCE = {**FIXED, "governance.proposals_per_month": 30.0}


def _proposals_by_day(records) -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for p in records:
        made, passing = out.get(p["day"], (0, 0))
        out[p["day"]] = (made + 1, passing + p["passes"])
    return out


def _worlds_proposals_by_day(sc, users: int, days: int) -> dict[int, tuple[int, int]]:
    from hanzo.sim.world import World

    w = World(crosscheck.at_chain_scale(sc, users))
    w.start()
    out, before = {}, (0, 0)
    for day in range(1, days + 1):
        w.env.run(until=day)
        now = (w.gov.proposals, w.gov.passed)
        if now != before:
            out[day] = (now[0] - before[0], now[1] - before[1])
        before = now
    return out


def test_defeated_proposals_on_chain_burn_their_deposits_as_the_worlds_do():
    """At the scenario's turnout (0.3 of 30M staked by the proposers, short of the 10M quorum) the World defeats
    every proposal and burns its deposit; on chain the developer proposes on the World's days (its governance
    stream), the deposit is locked, nobody votes For, and after the voting period settleDeposit burns it: the
    books burn the same sHANZO and HANZO, reconciled to the wei with the Governor's state and locked stake."""
    from hanzo.econ.params import WEI

    sc = load("baseline").with_overrides(**GOVERNANCE)
    result = run_on_chain(sc, network="embedded", days=20, users=30)
    assert result.ok, result.differences
    deposit = sc.tokenomics.proposal_deposit
    assert _proposals_by_day(result.proposals) == _worlds_proposals_by_day(sc, 30, 20)
    settled = [p for p in result.proposals if p["status"] == "settled"]
    assert len(settled) >= 3 and not any(p["passes"] for p in result.proposals)
    for p in result.proposals:
        assert p["votes_for"] == 0  # the developer does not vote for a proposal the rule defeats
        if p["status"] == "settled":  # the voting period is over with day + 8: settled by a block a second later
            assert p["settled_day"] == p["day"] + 8 and p["burned"] == deposit
        else:
            assert p["day"] + 8 > 20 and p["burned"] == 0
    assert result.governance() == {"proposals": len(result.proposals), "passed": 0, "defeated": len(settled),
                                   "deposits_burned": len(settled) * deposit / WEI}
    # the day's burned (the run's row) takes each settled deposit on its settlement day
    by_day = {r["day"]: r["burned"] for r in result.rows}
    for day in {p["settled_day"] for p in settled}:
        burned_then = sum(p["burned"] for p in settled if p["settled_day"] == day) / WEI
        assert burned_then <= by_day[day] - by_day[day - 1] < burned_then + 100
    for what in ("governance: the developer's stake locked as deposits", "governance: proposal 1's state (Defeated)",
                 "governance: proposal 1's unsettled deposit", "governance: proposal 1's votes For"):
        assert any(c.startswith(what) for c in result.checked_figures), what


def test_voters_vote_their_stake_on_chain_and_a_passed_proposal_gets_its_deposit_back():
    """With voter accounts (each its own turnout) and a turnout that reaches the quorum, the rule passes a proposal
    with the pass draw: the voters that turn out vote their stake as the snapshot counts it (For a passing
    proposal, Against a failing one), the developer votes For a passing one; a passed proposal is queued,
    executed through the timelock and its deposit returned; the same days and verdicts as the World's."""
    sc = load("baseline").with_overrides(**{**GOVERNANCE, "governance.turnout": 0.4, "strategies.voter_share": 0.3})
    result = run_on_chain(sc, network="embedded", days=20, users=30)
    assert result.ok, result.differences
    assert _proposals_by_day(result.proposals) == _worlds_proposals_by_day(sc, 30, 20)
    voters = {a for a, b in result.by_account.items() if b["strategy"] == "voter"}
    developer = {a for p in result.proposals for a in p["voters"]} - voters
    assert len(developer) == 1
    executed = [p for p in result.proposals if p["passes"] and p["status"] == "settled"]
    failed = [p for p in result.proposals if not p["passes"] and p["status"] == "settled"]
    assert executed and failed
    for p in executed:  # queued a second after its vote ended, executed after the timelock's 2 days
        assert p["settled_day"] == p["day"] + 10 and p["burned"] == 0
    for p in failed:
        assert p["burned"] == sc.tokenomics.proposal_deposit
    voted = 0
    for p in result.proposals:
        if p["voted_day"] is None:
            continue
        support = 1 if p["passes"] else 0
        assert p["voted_day"] == p["day"] + 2  # Active from the day after its snapshot
        assert set(p["voters"]) <= set(p["turned_out"]) | developer and set(p["turned_out"]) <= voters
        assert (set(p["voters"]) & developer) == (developer if p["passes"] else set())
        for a, (s, weight) in p["voters"].items():
            assert s == support and weight > 0
            if a in voters:  # no more than it staked over the run (its weight is its stake at the snapshot)
                assert weight <= result.by_account[a]["staked"]
                voted += 1
        assert p["votes_for" if p["passes"] else "votes_against"] == sum(w for _, w in p["voters"].values())
    assert voted >= 10
    # each voter's weight was compared with the books' stake at the snapshot
    assert sum(c.startswith("governance: proposal ") and "vote weight" in c for c in result.checked_figures) >= voted


def test_governance_on_apes_chain_keeps_the_embedded_runs_books(networks):
    """On Ape's chain a transaction is a block a second later, so a proposal's snapshot and deadline fall
    within a day: its settlement mines its own block first (the state is read at that time). The books, the
    proposals' verdicts and their settlement days are the embedded run's."""
    sc = load("baseline").with_overrides(**{**GOVERNANCE, "governance.turnout": 0.4, "strategies.voter_share": 0.3})
    on_ape = run_on_chain(sc, network="ethereum:local:test", days=12, users=4)
    embedded = run_on_chain(sc, network="embedded", days=12, users=4)
    assert on_ape.ok and embedded.ok, (on_ape.differences, embedded.differences)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "transactions"} for r in rows]  # noqa: E731
    assert strip(on_ape.rows) == strip(embedded.rows)
    keep = ("day", "passes", "settled_day", "status", "burned")
    assert [{k: p[k] for k in keep} for p in on_ape.proposals] == [{k: p[k] for k in keep} for p in embedded.proposals]
    assert any(p["status"] == "settled" for p in on_ape.proposals)
    # and the Compute Providers pool's payments: proposed, voted, queued and executed alike
    assert [{k: p[k] for k in (*keep, "payment")} for p in on_ape.provider_payments] == \
        [{k: p[k] for k in (*keep, "payment")} for p in embedded.provider_payments]
    assert sum(p["status"] == "settled" for p in on_ape.provider_payments) == 2


def test_the_evm_in_a_second_process_gives_the_one_process_runs_results():
    """run_on_chain(processes=2): the books run ahead and the EVM runs in a child process (hanzo.chain.pipeline),
    syncing only where governance reads the Governor and for the reconciliation. Every account from day 0 with
    proposals, votes and settlements: the same transactions, rows, books, proposals and reconciliation as the
    one-process run, to the last field."""
    import dataclasses

    sc = load("baseline").with_overrides(**GOVERNANCE)
    one = run_on_chain(sc, network="embedded", days=20, users=300)
    two = run_on_chain(sc, network="embedded", days=20, users=300, processes=2)
    assert one.ok and two.ok, (one.differences, two.differences)
    assert len(one.proposals) >= 3 and any(p["status"] == "settled" for p in one.proposals)
    assert sum(p["status"] == "settled" for p in one.provider_payments) == 10  # the pool's payments, executed
    assert dataclasses.asdict(two) == dataclasses.asdict(one)
    assert two.transactions == one.transactions > 300 * 20


def test_a_revert_in_the_evms_process_stops_the_run_naming_its_day(scenario, monkeypatch):
    """The books predict every outcome, so the loop does not wait for the EVM's process; a transaction that
    reverts there anyway (here a stake of more than the account holds, sent on day 2) stops the run with that
    transaction's own day and its revert, not a later day's, and no hang."""
    from hanzo.chain.pipeline import PipelinedDriver

    real = PipelinedDriver.send

    def wrong_on_day_2(self, account, name, method, *args, what):
        if what == "day 2: stake":
            args = (10**30,)  # the books' amount, deliberately wrong
        return real(self, account, name, method, *args, what=what)

    monkeypatch.setattr(PipelinedDriver, "send", wrong_on_day_2)
    with pytest.raises(ChainRunError, match=r"^day 2: stake: StakedHanzo.stake\(uint256\) reverted: .*EVM's process"):
        run_on_chain(scenario, network="embedded", days=6, users=20, processes=2)


def test_a_killed_evm_process_stops_the_run_with_a_clear_error_not_a_hang(scenario):
    """The EVM's process killed on day 2: the run stops within seconds, naming the first transaction the process
    had not confirmed (its day), and leaves no process behind."""
    import multiprocessing
    import time

    def kill_on_day_2(_):
        kill_on_day_2.days += 1
        if kill_on_day_2.days == 2:
            for child in multiprocessing.active_children():
                if child.name == "hanzo-embedded-evm":
                    child.kill()

    kill_on_day_2.days = 0
    t0 = time.monotonic()
    with pytest.raises(ChainRunError, match=r"the EVM's process ended \(exit code -9\) before confirming .*'day \d+: "):
        run_on_chain(scenario, network="embedded", days=30, users=20, processes=2, progress=kill_on_day_2)
    assert time.monotonic() - t0 < 120
    assert not [c for c in multiprocessing.active_children() if c.name == "hanzo-embedded-evm"]


def world_release(scenario, users: int, days: int) -> list[float]:
    """The World's Compute Providers pool release to date (HANZO) after each of `days` days, at chain scale:
    what flowed into the pool (its genesis allocation and the emission's compute share) less what it holds."""
    from hanzo.sim.world import World

    p = scenario.tokenomics
    genesis = dict(p.genesis_allocations).get("compute_providers", 0) / 10**18
    w = World(crosscheck.at_chain_scale(scenario, users))
    w.start()
    out = []
    for day in range(1, days + 1):
        w.env.run(until=day)
        inflow = genesis + w.supply.emitted * (1 - p.training_share_bps / 10_000)
        out.append(inflow - w.ledger["compute_pool"])
    return out


def test_the_compute_providers_pool_pays_the_provider_what_the_worlds_providers_take(scenario):
    """The World's providers take 1/365 of the Compute Providers pool a day and sell half of it with their
    income; on chain the pool is in HanzoTreasury, so each day's release is a Treasury proposal of
    treasury.release(provider, amount), voted through by the developer's stake and executed ten days later
    (voting delay, voting period, timelock). The day's amounts are the World's release to 1e-8; the treasury
    pays what was executed, the provider sells half of it in HanzoPool, and the books reconcile to the wei.
    Without the payments (pay_providers=False, as chain mode was) the pool stays in the treasury."""
    days, users = 14, 2
    paid = run_on_chain(scenario, network="embedded", days=days, users=users)
    kept = run_on_chain(scenario, network="embedded", days=days, users=users, pay_providers=False)
    assert paid.ok and kept.ok, (paid.differences, kept.differences)
    assert paid.provider_payments_off == "" and kept.provider_payments == []
    payments = paid.provider_payments
    assert [p["day"] for p in payments] == list(range(1, days + 1))  # one proposal a day
    proposed = [sum(p["payment"] for p in payments[:day]) / 10**18 for day in range(1, days + 1)]
    assert proposed == pytest.approx(world_release(scenario, users, days), rel=1e-8)  # (the World's float rounding)
    # executed (and its deposit returned) ten days after it was proposed: days 1..4 by day 14
    executed = [p for p in payments if p["status"] == "settled"]
    assert [(p["day"], p["settled_day"]) for p in executed] == [(d, d + 10) for d in range(1, days - 9)]
    assert all(p["passes"] and p["burned"] == 0 and p["votes_for"] >= scenario.tokenomics.quorum for p in executed)
    total = sum(p["payment"] for p in executed) / 10**18
    last, before = paid.rows[-1], kept.rows[-1]
    assert last["compute_paid"] == pytest.approx(total, rel=1e-12) and total > 1000
    assert [r["compute_paid"] for r in paid.rows[:10]] == [0.0] * 10
    # out of the treasury (the World's `treasury` figure counts the pool: the two now move alike) ...
    assert before["treasury"] - last["treasury"] == pytest.approx(total, rel=1e-9)
    assert last["compute_pool"] == pytest.approx(before["compute_pool"] - total, rel=1e-12)
    # ... and half of it sold in HanzoPool the day after it was paid (day 14's payment is sold on day 15)
    sold = paid.rows[-1]["provider_sold"] - kept.rows[-1]["provider_sold"]
    unsold = payments[days - 11]["payment"] / 10**18
    assert sold == pytest.approx((total - unsold) / 2, rel=1e-3)
    assert last["pool_hanzo"] > before["pool_hanzo"] and last["hanzo_price_usd"] < before["hanzo_price_usd"]
    # every payment's proposal, votes, queue and execution were checked against the Governor
    assert sum(c.startswith("governance: provider payment ") for c in paid.checked_figures) >= 6 * days


def test_the_treasurys_bucket_bounds_the_providers_payments():
    """In inflation mode the Compute Providers allocation is minted into HanzoTreasury at genesis, and 1/365 of
    it a day (about 548,000 HANZO) is far more than the treasury's bucket lets out (200,000 HANZO, refilling
    200,000 per 30 days): each payment is cut to what the bucket will hold when it executes, so every one of
    them executes (a payment over the bucket would revert and stop the run) and the rest waits in the pool."""
    sc = load("inflation_mode").with_overrides(**FIXED)
    p = sc.tokenomics
    days = 13
    result = run_on_chain(sc, network="embedded", days=days, users=2)
    assert result.ok, result.differences
    payments = result.provider_payments
    day_due = p.allocation("compute_providers") // 365
    assert payments[0]["payment"] < p.treasury_release_limit < day_due
    executed = [x for x in payments if x["status"] == "settled"]
    assert len(executed) == days - 10
    # at most the bucket and its refill over the payments' span; within a day's refill and the lateness margin
    refill = p.treasury_release_limit * (days - 10) * 86_400 // p.treasury_release_period
    total = sum(x["payment"] for x in executed)
    assert p.treasury_release_limit - 2 * refill < total <= p.treasury_release_limit + refill
    assert result.rows[-1]["compute_paid"] * 10**18 == pytest.approx(total, rel=1e-12)


def test_hanzo_simulate_chain_runs_the_evm_in_a_second_process_with_processes_2(tmp_path):
    """`hanzo simulate --chain --network embedded --processes 2`: the EVM in a second process, the same run
    (reconciled, the Compute Providers pool's payments executed and reported); --processes is refused where it
    cannot apply, with one line saying why."""
    import json

    from click.testing import CliRunner

    from hanzo.cli import main

    base = ["simulate", "baseline", "--chain", "--network", "embedded", "--days", "12", "--chain-users", "2",
            "--quiet", "--set", "users.initial=1000000"]
    runs = {n: CliRunner().invoke(main, [*base, "--processes", str(n), "--out", str(tmp_path / str(n))])
            for n in (1, 2)}
    for n, shown in runs.items():
        assert shown.exit_code == 0, (n, shown.output)
        assert "reconciled: all" in shown.output
        assert "Compute Providers pool: 12 payments proposed, 2 executed" in shown.output
    summaries = {n: json.loads((tmp_path / str(n) / "summary.json").read_text()) for n in (1, 2)}
    assert summaries[2] == summaries[1] and summaries[2]["compute_providers"]["payments_executed"] == 2
    assert summaries[2]["compute_providers"]["paid"] > 0
    for args, says in ((["simulate", "baseline", "--processes", "2"], "--processes: only with --chain"),
                       ([*base[:4], "ethereum:local:test", *base[5:], "--processes", "2"],
                        "only the embedded EVM (--network embedded) runs in a second process"),
                       ([*base, "--processes", "3"], "--processes: expected 1 or 2, got 3")):
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 1 and says in refused.output, refused.output


def test_no_provider_payments_where_the_proposers_stake_cannot_pass_them():
    """A proposers' stake below the quorum plus a deposit cannot vote a payment through (it would be Defeated
    and its deposit burned): the pool stays in the treasury and the run says why, reconciled as before."""
    sc = load("baseline").with_overrides(**{**FIXED, "governance.developer_stake_share": 0.01})
    result = run_on_chain(sc, network="embedded", days=2, users=2)
    assert result.ok and result.provider_payments == []
    off = result.provider_payments_off
    assert "stake (1,500,000 HANZO" in off and "plus a deposit (10,100,000 HANZO)" in off


def test_training_on_developers_models_spreads_over_forks_below_the_daily_cap():
    """The World's developers' models take any amount of training; a fork on chain takes at most
    max_interactions_per_fork_day (10,000) of others' interactions a day and defers the rest. With every
    account's developer-model share on one fork, 10,000 accounts had 45% of their ops deferred (rewards paid 44%
    below the World's over the year); now the model developer mints another fork when none has room: 1,500
    accounts train about 15,000 interactions a day on developers' models, on two forks, and nothing is deferred."""
    result = run_on_chain(load("baseline").with_overrides(**FIXED), network="embedded", days=2, users=1500)
    assert result.ok, result.differences
    assert result.developer_forks == 2 and result.deferred == 0
    assert sum(r["training_ops_paid"] for r in result.rows) > 2 * 1400


def test_each_account_rounds_its_credits_at_random_so_their_total_follows_the_worlds_demand():
    """The World's users spend a continuous demand (the baseline's 175B: 2.5 credits a user a day); an account
    spends whole credits, each rounded down or up at random with the chance of the fraction, so the accounts'
    total is the World's and moves with the price as the World's does: a rise of the demand by 0.01% turns a few
    accounts' 2 into 3, where rounding alike (np.rint) turned every account's at once."""
    demand = np.array([35.0, 12.5, 2.5])
    use, keep = onchain.whole_credits(onchain.credit_stream(1), 10_000, demand, demand * 3)
    assert use.shape == keep.shape == (10_000, 3) and use.dtype.kind == keep.dtype.kind == "i"
    assert (use[:, 0] == 35).all() and set(use[:, 2]) == {2, 3} and set(keep[:, 2]) == {7, 8}
    assert list(use.sum(axis=0)) == pytest.approx([350_000, 125_000, 25_000], rel=0.01)
    assert list(keep.sum(axis=0)) == pytest.approx([1_050_000, 375_000, 75_000], rel=0.01)
    more, _ = onchain.whole_credits(onchain.credit_stream(1), 10_000, demand * 1.0001, demand * 3)
    assert 0 <= more[:, 2].sum() - use[:, 2].sum() < 20


def test_a_tier_of_half_a_credit_a_user_is_used_as_in_the_world_not_all_or_nothing():
    """A 7B demand of 0.5 credits a user a day (5 credits, a tenth of them 7B). Rounded alike (np.rint), every
    account spent none of its 7B credits or every account one: the tier's utilization was 0 or 1 (0, 1, 1, 1, 0,
    1, 1, 0 over 8 days of 100 accounts), the controller swung its price, and with the baseline's 175B tier (2.5
    a user) the market maker's reserve swung by about 10% a day however many accounts ran (docs/simulator.md,
    why the market maker's reserve differs). Each account rounding at random, the tier is used as the World
    uses it: 0.71 to 0.95, 0.82 on average, against the World's 0.8 (its demand over capacity_headroom 1.25)."""
    sc = load("baseline").with_overrides(**{**FIXED, "users.inference_credits_per_day": 5.0,
                                            "compute.tier_mix": "0.1,0.5,0.4"})
    result = run_on_chain(sc, network="embedded", days=8, users=100)
    assert result.ok, result.differences
    utilization = [r["utilization_7b"] for r in result.rows]
    assert all(0.6 < u < 1.0 for u in utilization), utilization
    assert np.mean(utilization) == pytest.approx(0.8, abs=0.06)


def test_with_the_congestion_charge_on_the_chain_reconciles_and_agrees_with_the_world_as_without_it():
    """Governance's switch on (1 / the demand's elasticity), 40 accounts for 30 days: the chain reconciles to the
    wei, accounts paying charges beyond their refunds from HANZO they bought (41 swaps more: 6,370 -> 6,411
    transactions), and every figure the World and the chain share differs as without the charge (HANZO's price
    0.001704 -> 0.001705 at most apart, the rest alike to 1e-5): the charges are a few HANZO against a pool of
    50M. They differ between the executors: the World's aggregate provider reads each tier's continuous use,
    held at the target by the controller, against a threshold of whole credits as the contract's, and pays 0.22
    HANZO; chain mode's accounts spend whole credits
    (rounded at random about the World's demand) of a whole-credit offer, and the 32B and 175B tiers' few credits
    a day run past 80% of their offer on some days, each account charged at its provider's own excess, which is at
    least the tier's: 5.65 HANZO."""
    runs = {}
    for kappa in ("0", "0.833333333333333333"):
        sc = load("baseline").with_overrides(**FIXED, **{"tokenomics.hmm_congestion_charge": kappa})
        result = run_on_chain(sc, network="embedded", days=30, users=40)
        assert result.ok, result.differences
        world = crosscheck.world_rows(sc, 40, 30)
        runs[kappa] = result, crosscheck.compare(world, result.rows)
    (off, off_versus), (on, on_versus) = runs["0"], runs["0.833333333333333333"]
    assert (off.transactions, on.transactions) == (6_370, 6_411)
    assert sum(r["congestion_charges"] for r in off.rows) == 0
    assert sum(r["congestion_charges"] for r in on.rows) == pytest.approx(5.654846, rel=1e-6)
    for name, worst in on_versus.max_rel_diff.items():
        assert worst == pytest.approx(off_versus.max_rel_diff[name], abs=1e-5), name
    sc = load("baseline").with_overrides(**FIXED, **{"tokenomics.hmm_congestion_charge": "0.833333333333333333"})
    w = World(crosscheck.at_chain_scale(sc, 40))
    w.run(30)
    assert sum(r["congestion_charges"] for r in w.rows) == pytest.approx(0.216502, rel=1e-4)
