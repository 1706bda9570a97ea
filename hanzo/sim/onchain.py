"""EVM in the loop: the scenario's agents acting on the deployed contracts, day by day.

A chain cannot afford a million users, so the population is a handful of accounts (`users`)
that follow the scenario's rules: they mint forks, train (an oracle-signed batch of training ops
a day, low-quality ones included), stake part of what they earn, buy compute credits and spend
them with a provider; anyone releases the day's emission and pokes the market maker. Alongside,
an exact integer ledger applies the same actions with hanzo.econ.s reference model (emission,
payouts, mint fees, the market maker). At the end the two are reconciled: every balance, the
supply, the burn, the emission and the market maker's reserve must agree to the wei, or the run
lists exactly what differs and by how much.

Bulk traffic goes below Ape's per-transaction tracing: transactions are built from the contract
ABIs, signed locally and sent raw through web3. Ape deploys the suite and moves the clock.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from eth_account import Account

from hanzo.econ.attest import Oracle, TrainingOp
from hanzo.econ.hmm import HMMError, HMMState
from hanzo.econ.params import DAY, WEI
from hanzo.econ.reference import DailyBudgets, emission_split, emitted_at, nft_mint_fee, training_payout
from hanzo.chain.tx import Node, Sender, web3_contract

from .agents import View, from_scenario, gas_usd, starting_pay
from .pool import ConstantProductPool
from .scenario import SPEC, Scenario, ScenarioError
from .strategies import shares as strategy_shares

BASE_MODEL = 1


class ChainRunError(RuntimeError):
    """A transaction failed or the node stopped answering; the message says which and where."""


@dataclass
class Ledger:
    """The exact integer books the simulation keeps beside the chain."""

    hanzo: dict[str, int] = field(default_factory=dict)
    staked: dict[str, int] = field(default_factory=dict)
    supply: int = 0
    burned: int = 0
    released: int = 0

    def move(self, frm: str, to: str, amount: int) -> None:
        self.hanzo[frm] = self.hanzo.get(frm, 0) - amount
        self.hanzo[to] = self.hanzo.get(to, 0) + amount

    def burn(self, frm: str, amount: int) -> None:
        self.hanzo[frm] = self.hanzo.get(frm, 0) - amount
        self.supply -= amount
        self.burned += amount


class RawSender:
    """Every agent's transactions through one node (hanzo.chain.tx), each receipt checked."""

    def __init__(self, web3):
        self.node = Node(web3, retries=2, backoff_s=0.2, error=ChainRunError)
        self.senders: dict[str, Sender] = {}

    @property
    def sent(self) -> int:
        return sum(s.sent for s in self.senders.values())

    def contract(self, ape_contract):
        return web3_contract(self.node.w3, ape_contract)

    def timestamp(self, receipt) -> int:
        return self.node.block_time(receipt["blockNumber"])

    def send(self, account, call, what: str, gas: int = 8_000_000):
        address = str(account.address)
        if address not in self.senders:
            self.senders[address] = Sender(self.node, Account.from_key(account.private_key))
        return self.senders[address].transact(call, what, gas=gas)


@dataclass
class Reconciliation:
    days: int
    transactions: int
    checked: int
    differences: list[str]
    prices: list[float] = field(default_factory=list)  # the HANZO pool's price (USD) at the start of each day
    churned: int = 0  # user accounts that left
    speculators: tuple[int, int] = (0, 0)  # (wei spent on credits, wei received selling them back)
    deferred: int = 0  # training ops the contract deferred (a fork's daily budget, or the pool's pace)
    rows: list[dict] = field(default_factory=list)  # a row a day, from the books kept beside the chain (HANZO)

    @property
    def ok(self) -> bool:
        return not self.differences


# what only the World models: a scenario that switches one on is refused by --chain rather than run without it
WORLD_ONLY = {
    ("attacker", "enabled"): "the governance attacker is modelled",
    ("agents", "farmers_max"): "reward farmers are modelled",
    ("agents", "provider_cost_usd_per_credit"): "providers' capacity answers to their margin (chain mode's provider "
                                                "is fixed)",
    ("market", "external_venues"): "other venues and their arbitrageurs are modelled",
}


def run_on_chain(scenario: Scenario, *, network: str = "ethereum:local:test", days: int = 30, users: int = 6,
                 log: Callable[[str], None] = lambda _m: None, progress: Callable[[int], None] | None = None
                 ) -> Reconciliation:
    """Deploy the suite on `network`, run `days` days of the scenario's agents on it, reconcile."""
    mixed = [f"{k}_share" for k, v in strategy_shares(scenario["strategies"]).items() if k != "honest" and v > 0]
    if mixed:  # chain mode's accounts all follow the honest policies: a strategy would be silently ignored
        raise ScenarioError(f"{scenario.path}: [strategies] {mixed[0]}: strategies per user run in the World only "
                            "(chain mode's accounts train honestly), so --chain refuses it")
    drawn = [k for k, v in scenario["uncertainty"].items() if v != SPEC["uncertainty"][k][3]]
    if drawn:  # chain mode runs the scenario's own figures: a draw would be silently ignored
        raise ScenarioError(f"{scenario.path}: [uncertainty] {drawn[0]}: uncertainty is drawn in the World only "
                            "(chain mode runs the scenario's own figures), so --chain refuses it")
    for (table, key), what in WORLD_ONLY.items():  # switched on, each would be silently ignored on chain
        if scenario[table][key] != SPEC[table][key][3]:
            raise ScenarioError(f"{scenario.path}: [{table}] {key}: {what} in the World only, so --chain refuses it")
    import ape

    from hanzo.chain.deploy import Roles, deploy_suite, project

    p, u = scenario.tokenomics, scenario["users"]
    rng = np.random.default_rng(scenario["scenario"]["seed"])
    with ape.networks.parse_network_choice(network) as provider:
        from ape import accounts, chain

        acc = accounts.test_accounts
        deployer, oracle, provider_acct, developer = acc[0], acc[1], acc[8], acc[3]
        people = [acc.generate_test_account() for _ in range(users)]
        log(f"deploying to {network}")
        suite = deploy_suite(p, Roles(deployer, oracle, acc[2].address, developer.address, acc[4].address),
                             proj=project(), handover=False)
        token, rewards, models, staked, hmm, emission = (suite.token, suite.rewards, suite.models, suite.staked,
                                                         suite.hmm, suite.emission)
        tx = {"sender": deployer}
        hmm.grantRole(hmm.PROVIDER_ROLE(), provider_acct, **tx)
        models.registerBaseModel(BASE_MODEL, u["fork_performance"], sender=oracle)
        start = emission.start()

        ledger = Ledger(supply=token.totalSupply(), burned=token.totalBurned())
        for holder in [deployer, oracle, provider_acct, developer, acc[4], *people]:
            ledger.hanzo[str(holder.address)] = token.balanceOf(holder)
        for c in (rewards, models, staked, hmm, suite.timelock, suite.treasury, suite.vesting):
            ledger.hanzo[str(c.address)] = token.balanceOf(c)
        market = HMMState.from_tokenomics(p, now=hmm.epochStart())
        signer = Oracle(oracle.private_key, chain.chain_id, rewards.address)
        market.providers.add(str(provider_acct.address))

        sender = RawSender(provider.web3)
        w = {name: sender.contract(c) for name, c in
             (("token", token), ("rewards", rewards), ("models", models), ("staked", staked), ("hmm", hmm),
              ("emission", emission))}
        whale = acc[4]  # the Public Sale and Liquidity holder sells HANZO to the users
        pool = ConstantProductPool.at_genesis(scenario)

        # day 0: users buy HANZO for their fork and their first credits, approve, and mint forks
        fee, fee_burned = nft_mint_fee(p, u["fork_performance"])
        fork_of: dict[str, int] = {}
        for person in people:
            a = str(person.address)
            deployer.transfer(person, 10**18)  # gas money (ether)
            budget = fee + 1_000 * WEI
            sender.send(whale, w["token"].functions.transfer(a, budget), "fund user")
            ledger.move(str(whale.address), a, budget)
            pool.buy(budget / WEI)
            sender.send(person, w["token"].functions.approve(str(models.address), 2**256 - 1), "approve forks")
            sender.send(person, w["token"].functions.approve(str(staked.address), 2**256 - 1), "approve staking")
            sender.send(person, w["token"].functions.approve(str(hmm.address), 2**256 - 1), "approve credits")
            sender.send(person, w["models"].functions.mint(BASE_MODEL, secrets.token_bytes(32), 2**256 - 1), "mint fork")
            ledger.burn(a, fee_burned)
            ledger.move(a, str(suite.treasury.address), fee - fee_burned)
            fork_of[a] = models.totalForks()
        # the model developer owns a fork too: the share of training on developers' models goes there
        deployer.transfer(developer, 10**18)
        sender.send(developer, w["token"].functions.approve(str(models.address), 2**256 - 1), "developer approve")
        sender.send(developer, w["models"].functions.mint(BASE_MODEL, secrets.token_bytes(32), 2**256 - 1), "developer fork")
        ledger.burn(str(developer.address), fee_burned)
        ledger.move(str(developer.address), str(suite.treasury.address), fee - fee_burned)
        developer_fork = models.totalForks()
        activity = rng.lognormal(-u["activity_sigma"] ** 2 / 2, u["activity_sigma"], users)
        nonce = 0
        # the same policies as the World's cohorts (hanzo.sim.agents), and the same HANZO market: the
        # World's pool, seeded from the Liquidity allocation that the whale holds on chain. Users buy
        # HANZO from the whale and sell to it; the pool prices both, and the agents see its price.
        agents = from_scenario(scenario)
        trainers, spammers, holders = agents["trainers"], agents["spammers"], agents["holders"]
        adopters, speculators = agents["adopters"], agents["speculators"]
        active = {str(person.address) for person in people}  # accounts leave when adopters churn
        spec = None
        if speculators.budget_per_day:  # one account trades credits for the scenario's speculators
            spec = acc[5]
            s_addr = str(spec.address)
            funding = int(speculators.budget_per_day * WEI) * days  # the whole run's budget, bought on day 0
            deployer.transfer(spec, 10**18)
            sender.send(whale, w["token"].functions.transfer(s_addr, funding), "fund speculator")
            ledger.move(str(whale.address), s_addr, funding)
            pool.buy(funding / WEI)
            sender.send(spec, w["token"].functions.approve(str(hmm.address), 2**256 - 1), "approve speculator")
        spec_spent = spec_received = 0
        costs = scenario["costs"]
        op_usd = gas_usd(costs["gas_per_op"], costs)
        prices: list[float] = []
        paid_per_interaction = starting_pay(p, u["mean_multiplier"])
        budgets = DailyBudgets(p)  # TrainingRewards' daily budgets: each fork's two, and the pool's pace
        deferred = 0
        rows: list[dict] = []
        for day in range(1, days + 1):
            try:
                chain.pending_timestamp = start + day * DAY
                now = start + day * DAY
                # emission, released by anyone, and the market maker's epoch step
                receipt = sender.send(deployer, w["emission"].functions.release(), f"day {day}: release emission")
                due = emitted_at(p, sender.timestamp(receipt) - start)
                to_training, to_compute = emission_split(p, due, ledger.released)
                ledger.hanzo[str(rewards.address)] += to_training
                ledger.hanzo[str(suite.treasury.address)] += to_compute
                ledger.supply += due - ledger.released
                ledger.released = due
                next_block = chain.blocks.head.timestamp + 1
                if next_block >= hmm.epochStart() + market.params.epoch_length:
                    # pin the poke's block to that second: anvil may otherwise mine it in the same
                    # second as the release before it, before the epoch has ended (seen under load)
                    chain.pending_timestamp = next_block
                    receipt = sender.send(deployer, w["hmm"].functions.poke(), f"day {day}: poke")
                    market.poke(sender.timestamp(receipt))
                # training: one signed batch a day
                shock = rng.gamma(50.0, 1 / 50.0)
                prices.append(pool.price)
                view = View(day, prices[-1], prices[max(0, len(prices) - 31)], paid_per_interaction, None, op_usd)
                worth, junk_share = trainers.decide(view), spammers.decide(view)
                sell_share, stake_share = holders.decide(view)
                _, churn = adopters.decide(view)
                if churn:
                    active -= {a for a in sorted(active) if rng.random() < churn}
                ops, sigs = [], []
                for i, person in enumerate(people):
                    a = str(person.address)
                    if a not in active:
                        continue
                    # the oracle signs no more than one op may carry; the day's budgets are the contract's
                    interactions = min(int(rng.poisson(u["interactions_per_day"] * activity[i] * shock * worth)),
                                       p.max_interactions_per_op)
                    if interactions == 0:
                        continue
                    draw = rng.random()
                    low = draw < junk_share
                    leaked = low and draw >= spammers.base_share and rng.random() < spammers.leak
                    multiplier = 1 if low else int(np.clip(round(rng.normal(u["mean_multiplier"], 1.5)), 1, p.max_multiplier))
                    low = low and not leaked  # junk the oracle let through is paid at multiplier 1
                    on_developer = developer_fork is not None and rng.random() < u["developer_model_share"]
                    model = developer_fork if on_developer else fork_of[a]
                    op = TrainingOp(a, model, secrets.token_bytes(32), multiplier, interactions, low, nonce, now + DAY)
                    nonce += 1
                    ops.append(op)
                    sigs.append(signer.sign(op))
                if ops:
                    receipt = sender.send(deployer, w["rewards"].functions.rewardTrainingBatch(
                        [o.as_tuple() for o in ops], sigs), f"day {day}: training batch of {len(ops)}")
                    # the ops the contract pays, as the reference model's budgets say (the day's first
                    # op sets the pool's budget from the pool before the batch); the rest it defers
                    # (OpDeferred), and this run does not send them again
                    when, pool_before = sender.timestamp(receipt), ledger.hanzo[str(rewards.address)]
                    sent = len(ops)
                    ops = [o for o in ops if budgets.admit(
                        when, o.modelId, o.modelId == fork_of.get(o.user), o.interactions,
                        training_payout(p, o.multiplier, o.interactions, o.lowQuality), o.lowQuality,
                        pool_before) is None]
                    deferred += sent - len(ops)
                    total_burn = accepted = accepted_pay = 0
                    for op in ops:
                        pay = training_payout(p, op.multiplier, op.interactions, op.lowQuality)
                        owner = op.user if op.modelId == fork_of.get(op.user) else str(developer.address)
                        ledger.move(str(rewards.address), op.user, pay.user)
                        ledger.move(str(rewards.address), owner, pay.owner)
                        total_burn += pay.burned
                        if not op.lowQuality:
                            accepted += op.interactions
                            accepted_pay += pay.user
                    ledger.burn(str(rewards.address), total_burn)
                    if accepted:
                        paid_per_interaction = accepted_pay / WEI / accepted
                    # users stake part of what they earned today
                    for person in people:
                        a = str(person.address)
                        if a not in active:
                            continue
                        earned = sum(training_payout(p, o.multiplier, o.interactions, o.lowQuality).paid
                                     for o in ops if o.user == a)
                        amount = earned * round(stake_share * 100) // 100
                        if amount:
                            sender.send(person, w["staked"].functions.stake(amount), f"day {day}: stake")
                            ledger.move(a, str(staked.address), amount)
                            ledger.staked[a] = ledger.staked.get(a, 0) + amount
                        sold = earned * round(sell_share * 100) // 100
                        if sold:  # sold into the pool: the HANZO goes to the Liquidity holder
                            sender.send(person, w["token"].functions.transfer(str(whale.address), sold),
                                        f"day {day}: sell")
                            ledger.move(a, str(whale.address), sold)
                            pool.sell(sold / WEI)
                # inference: each user buys a day's credits of the 7B tier and spends what is served
                credits = max(1, int(u["inference_credits_per_day"]))
                if active:
                    sender.send(provider_acct, w["hmm"].functions.offerCapacity(0, credits * len(active)),
                                f"day {day}: capacity")
                    market.offer_capacity(str(provider_acct.address), 0, credits * len(active))
                for person in people:
                    a = str(person.address)
                    if a not in active:
                        continue
                    market.hanzo[a] = ledger.hanzo[a]
                    cost = market.buy(a, 0, credits, 2**255, 2**64, now)
                    sender.send(person, w["hmm"].functions.buy(0, credits, 2**255, 2**64), f"day {day}: buy credits")
                    ledger.move(a, str(hmm.address), cost)
                    paid = market.redeem(a, 0, credits, str(provider_acct.address))
                    sender.send(person, w["hmm"].functions.redeem(0, credits, str(provider_acct.address)),
                                f"day {day}: redeem credits")
                    ledger.move(str(hmm.address), str(provider_acct.address), paid)
                if spec is not None:  # the speculators' policy, traded on chain and mirrored in the model
                    held = np.array([market.credits.get((s_addr, t), 0) for t in range(len(market.tiers))])
                    momentum = np.array([t.momentum for t in market.tiers])
                    price = np.array([market.price(t) for t in range(len(market.tiers))]) / WEI
                    buy, sell = speculators.decide(momentum, held, price)
                    for t in range(len(market.tiers)):
                        n = int(sell[t])
                        if n:
                            got = market.sell(s_addr, t, n, 0, 2**64, now)
                            sender.send(spec, w["hmm"].functions.sell(t, n, 0, 2**64), f"day {day}: speculator sells")
                            ledger.move(str(hmm.address), s_addr, got)
                            spec_received += got
                        n = int(buy[t])
                        if n:
                            market.hanzo[s_addr] = ledger.hanzo[s_addr]
                            try:
                                cost = market.buy(s_addr, t, n, 2**255, 2**64, now)
                            except HMMError:
                                continue  # past the depth bound or the budget: the model says the chain would revert
                            sender.send(spec, w["hmm"].functions.buy(t, n, 2**255, 2**64), f"day {day}: speculator buys")
                            ledger.move(s_addr, str(hmm.address), cost)
                            spec_spent += cost
                h = ledger.hanzo
                rows.append({"day": day, "hanzo_price_usd": prices[-1], "total_supply": ledger.supply / WEI,
                             "emitted": ledger.released / WEI, "burned": ledger.burned / WEI,
                             "staked": sum(ledger.staked.values()) / WEI,
                             "reward_pool": h[str(rewards.address)] / WEI,
                             "treasury": h[str(suite.treasury.address)] / WEI,
                             "market_maker_reserve": market.reserve / WEI, "users": len(active),
                             "training_ops_paid": len(ops), "training_ops_deferred": deferred,
                             "transactions": sender.sent})
                if progress:
                    progress(1)
            except ChainRunError:
                raise
            except Exception as exc:  # noqa: BLE001 - a dead node surfaces as many error types
                raise ChainRunError(f"day {day}: the node stopped answering ({type(exc).__name__}: {exc})") from exc

        # reconcile
        diffs, checked = [], 0

        def check(what: str, chain_value: int, sim_value: int) -> None:
            nonlocal checked
            checked += 1
            if chain_value != sim_value:
                diffs.append(f"{what}: chain {chain_value} vs simulation {sim_value} (differs by {chain_value - sim_value})")

        for address, expected in sorted(ledger.hanzo.items()):
            check(f"HANZO balance of {address}", token.balanceOf(address), expected)
        for address, expected in sorted(ledger.staked.items()):
            check(f"sHANZO of {address}", staked.balanceOf(address), expected)
        check("total supply", token.totalSupply(), ledger.supply)
        check("total burned", token.totalBurned(), ledger.burned + 0)
        check("emission released", emission.released(), ledger.released)
        check("market maker reserve", hmm.reserve(), market.reserve)
        for tid in range(3):
            check(f"credits outstanding, tier {tid}", hmm.tier(tid).supply, market.tiers[tid].supply)
            check(f"reference price, tier {tid}", hmm.tier(tid).refPrice, market.tiers[tid].ref_price)
        return Reconciliation(days, sender.sent, checked, diffs, prices, len(people) - len(active),
                              (spec_spent, spec_received), deferred, rows)


def write(result: Reconciliation, scenario: Scenario, network: str, users: int, out: Path) -> dict[str, Path]:
    """The World's files for a chain run: series.parquet (a row a day from the books the run kept
    beside the chain, which the reconciliation proved equal to it), summary.json (the run and its
    reconciliation), the supply and price plots, and report.html."""
    import json

    import pandas as pd

    from .report import chain_report, chain_plots

    out.mkdir(parents=True, exist_ok=True)
    series = pd.DataFrame(result.rows)
    last = result.rows[-1] if result.rows else {}
    summary = {"scenario": scenario.name, "network": network, "days": result.days, "users": users,
               "seed": scenario["scenario"]["seed"], "transactions": result.transactions,
               "reconciled": result.ok, "figures_checked": result.checked, "differences": result.differences,
               "users_churned": result.churned, "training_ops_deferred": result.deferred,
               "hanzo_price_usd": {"first": result.prices[0] if result.prices else None,
                                   "final": result.prices[-1] if result.prices else None},
               "total_supply": last.get("total_supply"), "burned": last.get("burned"),
               "staked": last.get("staked"), "treasury": last.get("treasury")}
    files = {"series": out / "series.parquet", "summary": out / "summary.json"}
    series.to_parquet(files["series"], index=False)
    files["summary"].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    files.update(chain_plots(series, summary, out))
    files["report"] = chain_report(scenario, summary, files, out)
    return files
