"""Stateful differential test: random buy/sell/redeem/offer/poke sequences by several traders
go through the deployed market maker and the integer reference model side by side. After every
step balances, prices and the reserve must agree exactly, the maker must stay solvent, and
within an epoch the maker's surplus (HANZO held beyond the reserve) must never fall: no sequence
of trades extracts anything from it. hypothesis.target steers the search toward trader profit."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ..market import FUNDING

LONG = os.environ.get("HANZO_PROPERTIES") == "long"


def test_stateful_contract_matches_model_and_stays_solvent(market_factory):
    class MarketMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.m = market_factory()
            self.surplus = 0
            self.best_gain = 0

        @rule(who=st.integers(0, 2), tier=st.integers(0, 2), amount=st.integers(1, 2 * 10**9))
        def buy(self, who, tier, amount):
            self.m.apply("buy", self.m.traders[who], tier, amount)

        @rule(who=st.integers(0, 2), tier=st.integers(0, 2), share=st.floats(0.01, 1.0))
        def sell(self, who, tier, share):
            held = self.m.model.credits.get((self.m.name(self.m.traders[who]), tier), 0)
            self.m.apply("sell", self.m.traders[who], tier, max(1, int(held * share)))

        @rule(tier=st.integers(0, 2), credits=st.integers(1, 10**9))
        def offer(self, tier, credits):
            self.m.apply("offer", self.m.provider, tier, credits)

        @rule(who=st.integers(0, 2), tier=st.integers(0, 2), amount=st.integers(1, 10**9))
        def redeem(self, who, tier, amount):
            self.m.apply("redeem", self.m.traders[who], tier, amount)

        @rule()
        def poke(self):
            self.m.advance_epoch()
            self.m.apply("poke", self.m.traders[0])
            self.surplus = self.m.model.funds - self.m.model.reserve

        @rule(who=st.integers(0, 2), tier=st.integers(0, 2))
        def poke_too_early(self, who, tier):
            """A poke before the epoch ends must revert alike on both sides."""
            self.m.apply("poke", self.m.traders[who])

        @invariant()
        def same_state_everywhere(self):
            self.m.assert_same()

        @invariant()
        def solvent(self):
            assert self.m.model.funds >= self.m.model.reserve

        @invariant()
        def no_cycle_extracts_from_the_maker(self):
            surplus = self.m.model.funds - self.m.model.reserve
            assert surplus >= self.surplus
            self.surplus = surplus
            gain = max(self.m.model.hanzo.get(self.m.name(t), 0) - FUNDING for t in self.m.traders)
            self.best_gain = max(self.best_gain, gain)

        def teardown(self):
            # once per run: steer the search toward the sequences that paid a trader most
            target(float(self.best_gain), label="best trader's HANZO gain")

    run_state_machine_as_test(
        MarketMachine,
        settings=settings(max_examples=60 if LONG else 8, stateful_step_count=40 if LONG else 15, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]),
    )
