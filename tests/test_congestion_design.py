"""scripts/congestion.py's measurement of a congestion charge on redemptions above target (issue 16's wash,
tests/test_redteam17_hmm.py's strict xfail), as docs/congestion.md reports it: on the exact model only, the
contract unchanged. Fast: a few thousand model operations."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from hanzo.econ.params import DEFAULT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def congestion():
    spec = importlib.util.spec_from_file_location("congestion", ROOT / "scripts" / "congestion.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows(congestion):
    return {d: congestion.measure(d) for d in ("none", "tier-ke", "prov-ke", "prov-k5")}


def test_kappa_comes_from_the_leapfrog_and_the_elastic_life_is_one_over_elasticity(congestion):
    alpha, target = DEFAULT.hmm_alpha / 1e18, DEFAULT.hmm_target_utilization / 1e18
    assert congestion.kappa_horizon(1) == pytest.approx(alpha * target)  # dt = 1: the next epoch alone
    assert congestion.momentum_life() == 5 and congestion.kappa_horizon(5) == pytest.approx(4.733, abs=1e-3)
    # the linearised leapfrog with demand of elasticity eps pulling back: sum of the log price = kick / (alpha u* eps),
    # so the overpay per credit of excess is P_ref / eps whatever alpha and gamma are (the derivation of ke)
    eps, rho, kick = 1.2, math.exp(-DEFAULT.hmm_gamma / 1e18), 1e-3
    x, v, total = 0.0, 0.0, 0.0
    for step in range(2000):
        v = rho * v + alpha * (kick if step == 0 else -target * eps * x)
        x += v
        total += x
    assert total == pytest.approx(kick / (target * eps), rel=1e-9)


def test_the_model_reproduces_the_xfail_and_a_charge_of_4_7_p_ref_per_credit_bounds_its_leverage(rows):
    wash = rows["none"]["wash"]
    assert 14_000 < wash["spent"] < 15_000 and 94_000 < wash["overpaid"] < 95_500  # the xfail's figures
    assert 6.5 < wash["leverage"] < 6.7
    assert rows["prov-k5"]["wash"]["leverage"] < 1  # 0.79: the momentum's life (5 epochs) priced in
    assert 2.8 < rows["prov-ke"]["wash"]["leverage"] < 3.0  # 1 / eps alone halves it, no more


def test_no_redemption_order_or_second_accomplice_dodges_the_charge_on_the_providers_own_excess(rows):
    prov, tier = rows["prov-ke"], rows["tier-ke"]
    assert prov["first"]["leverage"] == prov["two"]["leverage"] == prov["wash"]["leverage"]
    assert prov["first"]["charged_u"] == 0 and prov["at_target"]["price"] == 1.0
    assert prov["late"]["leverage"] <= rows["none"]["late"]["leverage"] < 0.35  # late capacity weighs little
    # the tier-wide running count is dodged by washing first: the honest user pays the wash's charge
    assert tier["first"]["charged_u"] == tier["wash"]["charged_d"] > 0
    assert tier["first"]["leverage"] > rows["none"]["wash"]["leverage"]


def test_one_over_elasticity_costs_honest_demand_at_1_5x_target_under_3_percent_and_moves_no_price(rows):
    none, prov = rows["none"], rows["prov-ke"]
    for m, bound in ((1.1, 0.01), (1.5, 0.03), (2.0, 0.04)):
        a, b = none[f"surge{m}"], prov[f"surge{m}"]
        assert 0 < b["spent"] / a["spent"] - 1 < bound, m
        assert b["price"] == a["price"] and b["reached"] == a["reached"], m  # the price rises as fast
    # and where users answer the charge as part of the price, it still reaches the clearing level on time
    assert prov["surge1.5_allin"]["reached"] == none["surge1.5_allin"]["reached"] == 3
    assert prov["elastic_wash"]["leverage"] < 1 < none["elastic_wash"]["leverage"]  # 0.66 against 1.27
    assert prov["elastic_wash_sustained"]["leverage"] < 0.6 < 1.2 < none["elastic_wash_sustained"]["leverage"]
    assert prov["prop"]["leverage"] < 1 < none["prop"]["leverage"]  # the floor at target: 0.74 against 1.65


def test_a_charge_big_enough_for_the_xfail_taxes_real_demand_and_arms_a_real_purchase_at_a_shared_provider(rows):
    none, k5 = rows["none"], rows["prov-k5"]
    assert k5["surge1.5"]["spent"] / none["surge1.5"]["spent"] - 1 > 0.14
    assert k5["surge1.5_allin"]["reached"] is None and k5["surge1.5_allin"]["price"] < 1  # it stands in for the price
    # D's own compute at the honest provider, redeemed before U, puts the charge on U: worse than the wash today
    assert k5["at_p_first"]["leverage"] > none["wash"]["leverage"] > none["at_p_first"]["leverage"]


def test_the_charge_leaves_the_spiral_stockpiles_and_buy_sell_as_they_are(rows):
    none = rows["none"]
    for design, row in rows.items():
        assert row["spiral"]["price"] == none["spiral"]["price"], design
        assert row["spiral"]["honest_served"] == none["spiral"]["honest_served"], design
        for kind in ("steady", "growing"):
            assert row[kind]["day30"] == none[kind]["day30"] and row[kind]["charged_u"] < 1, (design, kind)
        assert row["sell1"]["leverage"] == row["sell10"]["leverage"] == 0, design
