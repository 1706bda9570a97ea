"""scripts/exit_fees.py's measurement of exits that cost alike (red team 17, finding 4's class): at
every exit fee a provider's second wallet gains nothing over a sale, round trips lose money (pumped
ones too), and the chosen default is the deployed one, with the figures docs/hmm.md reports. Fast:
the exact model, a few hundred trades a row."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hanzo.econ.params import DEFAULT, WEI

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exit_fees():
    spec = importlib.util.spec_from_file_location("exit_fees", ROOT / "scripts" / "exit_fees.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exits_that_cost_alike_leave_a_second_wallet_nothing_at_any_fee(exit_fees):
    today = exit_fees.measure(DEFAULT.hmm_sell_fee, DEFAULT.hmm_buy_fee, today=True)
    assert 214_785 * WEI < today["second_wallet_gain"] < 214_786 * WEI  # the whole sell fee on 1 L, before
    for fee in ("0", "0.02", "0.125", "0.5"):
        row = exit_fees.measure(exit_fees.wad(fee), DEFAULT.hmm_buy_fee)
        assert row["second_wallet_gain"] == 0, fee
        assert row["round_trip_loss"] > 0 and row["pumped_round_trip_loss"] > 0, fee
        assert row["park"]["leverage"] == row["park_alone"]["leverage"], fee  # an accomplice buys nothing
        assert row["wash"]["overpaid"] == today["wash"]["overpaid"], fee  # the harm does not depend on the fee


def test_the_chosen_default_is_deployed_and_measured_as_documented(exit_fees):
    assert exit_fees.wad(exit_fees.CHOSEN) == DEFAULT.hmm_sell_fee
    row = exit_fees.measure(DEFAULT.hmm_sell_fee, DEFAULT.hmm_buy_fee)
    assert 6.4 < row["park"]["leverage"] < 6.6 and 6.7 < row["wash"]["leverage"] < 6.9
    assert 1.146 < row["honest_all_in"] < 1.147
    lower = exit_fees.measure(exit_fees.wad("0.1"), DEFAULT.hmm_buy_fee)
    today = exit_fees.measure(DEFAULT.hmm_sell_fee, DEFAULT.hmm_buy_fee, today=True)
    assert lower["park_alone"]["leverage"] > today["park_alone"]["leverage"]  # a lower fee: lone parking cheaper
