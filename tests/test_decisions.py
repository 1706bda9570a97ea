"""scripts/decisions.py's pricing of the treasury capture (issue 16, finding 7): under the deployed
default (HanzoTreasury's rate limit) the cheapest capture costs more than it takes out in a year.

Fast: the bisection runs on a narrow budget range around the figure the full run measures
($705,234 for the absolute quorum), a few simulations of three years each."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hanzo.econ.params import DEFAULT, WEI
from hanzo.econ.treasury import max_take

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def decisions():
    spec = importlib.util.spec_from_file_location("decisions", ROOT / "scripts" / "decisions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_defence_is_the_deployed_rate_limit(decisions):
    assert decisions.DEFAULT_DEFENCE == "rate_limit"
    [(_, scenario, overrides, limited)] = [d[1:] for d in decisions.DEFENCES if d[0] == "rate_limit"]
    assert limited and not overrides and scenario == "governance_attack"


def test_a_year_of_the_rate_limit_is_the_bucket_and_twelve_refills(decisions):
    year = decisions.YEAR
    limit, period = DEFAULT.treasury_release_limit, DEFAULT.treasury_release_period
    assert max_take(DEFAULT, year) == limit + year * limit // period  # 200,000 x (1 + 365 / 30) HANZO
    assert decisions.take_within_a_year(DEFAULT, 157.5e6, True) == max_take(DEFAULT, year) / WEI
    assert decisions.take_within_a_year(DEFAULT, 157.5e6, False) == 157.5e6


def test_under_the_default_the_cheapest_capture_costs_more_than_it_takes_in_a_year(decisions):
    [row] = decisions.price_defences(bounds={"rate_limit": (6e5, 8e5)}, steps=3, keys=("rate_limit",))
    assert 6e5 < row["cheapest_capture_usd"] <= 8e5  # the bisection found the capture inside the range
    assert row["take_hanzo"] == max_take(DEFAULT, decisions.YEAR) / WEI
    assert row["capture_take_usd"] < row["cheapest_capture_usd"]


def test_without_the_limit_the_same_capture_takes_the_treasury(decisions):
    [row] = decisions.price_defences(bounds={"none": (6e5, 8e5)}, steps=2, keys=("none",))
    assert row["take_hanzo"] > 100e6 and row["capture_take_usd"] > 10 * row["cheapest_capture_usd"]
