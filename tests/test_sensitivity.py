"""`hanzo sensitivity` and `hanzo compare` (issue 17, item 4): the indices mean what they say, bad
ranges are refused naming --param, and compare's figures are simulate's."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hanzo.chain.toolchain import ROOT
from hanzo.sim import sensitivity as sa
from hanzo.sim.compare import HEADLINES, compare, lookup, write
from hanzo.sim.run import simulate
from hanzo.sim.scenario import ScenarioError, load
from hanzo.sim.units import figure

SMALL = {"users.max": 20_000, "users.initial": 1_000}
# sell_share moves the price; activity_sigma spreads rewards; eth_usd prices gas and nothing else
# (the World reads it only where spammers weigh gas, and the baseline has none)
PARAMS = ("users.sell_share=0.3:0.6", "users.activity_sigma=0.5:1.5", "costs.eth_usd=1500:6000")


@pytest.fixture(scope="module")
def small():
    return load("baseline").with_overrides(**SMALL)


@pytest.fixture(scope="module")
def morris(small):
    return sa.analyze(small, PARAMS, size=3, years=0.5,
                      outputs=("price", "price_log10", "reward_gini", "gas_per_user_day"))


def ranked(analysis, output) -> pd.DataFrame:
    return analysis.indices[analysis.indices["output"] == output].set_index("parameter")


def test_morris_ranks_what_moves_each_output_first_and_what_the_world_ignores_last_at_zero(morris):
    assert len(morris.runs) == 3 * (3 + 1)
    price, gini, gas = (ranked(morris, o) for o in ("price", "reward_gini", "gas_per_user_day"))
    assert price["rank"].to_dict() == {"users.sell_share": 1, "users.activity_sigma": 2, "costs.eth_usd": 3}
    assert gini.loc["users.activity_sigma", "rank"] == 1
    for table in (price, gini):
        assert table.loc["costs.eth_usd", ["mu_star", "mu", "sigma"]].tolist() == [0, 0, 0]
    assert gas.loc["costs.eth_usd", "rank"] == 1
    assert gas.loc[["users.sell_share", "users.activity_sigma"], "mu_star"].tolist() == [0, 0]
    # the price in decades: the same order here, where prices stay within a factor of 2
    assert ranked(morris, "price_log10")["rank"].to_dict() == price["rank"].to_dict()
    assert morris.runs["price_log10"].tolist() == pytest.approx(np.log10(morris.runs["price"]).tolist(), rel=1e-12)


def test_mu_star_is_how_far_the_output_moves_across_the_whole_range(small, morris):
    """Gas in dollars is linear in eth_usd, so every elementary effect is the same: the change from
    the range's low end to its high end, which two plain runs measure."""
    at = {v: simulate(small.with_overrides(**{"costs.eth_usd": v}), years=0.5).summary for v in (1500, 6000)}
    moved = lookup(at[6000], "costs.gas_usd_per_user_day") - lookup(at[1500], "costs.gas_usd_per_user_day")
    row = ranked(morris, "gas_per_user_day").loc["costs.eth_usd"]
    assert row["mu_star"] == pytest.approx(moved, rel=1e-9)
    assert row["sigma"] == pytest.approx(0, abs=1e-12 * moved)


def test_wealth_gini_and_vote_shares_are_ranked_and_compared_as_the_summary_gives_them(small):
    """Who holds the HANZO and the votes: the wealth Gini and the top holders' shares of the HANZO and of the
    votes are outputs sensitivity ranks parameters on, printed in %, and rows of compare's table."""
    a = sa.analyze(small, PARAMS[:2], size=2, years=0.1, outputs=("wealth_gini", "wealth_top_10pct", "votes_top_10pct"))
    runs = a.runs
    alone = simulate(small.with_overrides(**dict(zip(["users.sell_share", "users.activity_sigma"],
                                                      runs.iloc[0][["users.sell_share", "users.activity_sigma"]]))),
                     years=0.1).summary
    for name, key in (("wealth_gini", "wealth_gini"), ("wealth_top_10pct", "wealth_top_10pct_share"),
                      ("votes_top_10pct", "votes.top_10pct_users_share")):
        assert runs.iloc[0][name] == pytest.approx(lookup(alone, key), rel=1e-12)
        assert 0 < runs[name].min() < 1
    assert set(a.indices["output"]) == {"wealth_gini", "wealth_top_10pct", "votes_top_10pct"}
    # a wider spread of activity spreads the HANZO: it moves the wealth Gini, the price-setting sell share less
    assert ranked(a, "wealth_gini").loc["users.activity_sigma", "rank"] == 1
    shown = "\n".join(sa.lines(a))
    assert "top 10% of users' share of the votes (%): mu*" in shown and "wealth Gini: mu*" in shown
    assert {"wealth_gini", "votes_users", "votes_top_1pct", "votes_attacker"} <= set(HEADLINES) & set(sa.OUTPUTS)


def test_sobol_apportions_the_price_variance_to_the_one_parameter_that_moves_it(small):
    a = sa.analyze(small, PARAMS[::2], method="sobol", size=8, years=0.25, outputs=("price",))
    assert len(a.runs) == 8 * (2 + 2)
    price = ranked(a, "price")
    assert price.loc["users.sell_share", "rank"] == 1 and price.loc["users.sell_share", "ST"] > 0.8
    assert price.loc["costs.eth_usd", ["S1", "ST"]].tolist() == [0, 0]


def test_runs_on_several_processes_give_the_same_figures(small):
    one = sa.analyze(small, PARAMS[:2], size=2, years=0.1, outputs=("price",))
    two = sa.analyze(small, PARAMS[:2], size=2, years=0.1, outputs=("price",), workers=2)
    pd.testing.assert_frame_equal(one.runs, two.runs)


@pytest.mark.parametrize("spec, message", [
    ("users.sell_share=0.7:0.3", "--param 'users.sell_share=0.7:0.3': expected finite LOW < HIGH"),
    ("users.sell_share=0.3-0.7", "--param 'users.sell_share=0.3-0.7': expected TABLE.KEY=LOW:HIGH"),
    ("users.sell_share=a:b", "--param 'users.sell_share=a:b': LOW and HIGH must be numbers"),
    ("users.sell_share=0.3:1.5", "--param: [users] sell_share: expected a value in [0, 1], got 1.5"),
    ("users.nope=1:2", "--param: [users] unknown key 'nope'"),
    ("market.external_venues=0:1", "--param market.external_venues: not a number"),
    ("attacker.budget_usd=1:2", "--param: [attacker] budget_usd: has no effect unless [attacker] enabled"),
    ("scenario.years=1:2", "--param scenario.years: [scenario] keys are not parameters"),
])
def test_a_bad_range_is_refused_naming_the_flag(small, spec, message):
    with pytest.raises(ScenarioError) as info:
        sa.parse_factors([spec], small)
    assert str(info.value).startswith(message)


def test_ranges_that_combine_into_an_invalid_scenario_are_refused_before_any_run(small, monkeypatch):
    monkeypatch.setattr(sa, "_run_all", lambda *a: pytest.fail("ran before checking every point"))
    # each end is valid with the other key at its default; together they exceed what users earn
    with pytest.raises(ScenarioError, match=r"--param: \[users\] sell_share \+ stake_share .*at the sample point"):
        sa.analyze(small, ["users.sell_share=0.5:0.7", "users.stake_share=0.2:0.45"], size=10)
    for kwargs, message in (({"size": 10, "method": "sobol"}, "--trajectories: expected at least 2 and a power of 2"),
                            ({"outputs": ("nope",)}, "--output: expected one of users, price"),
                            ({"method": "fast"}, "--method: expected morris or sobol")):
        with pytest.raises(ScenarioError, match=message):
            sa.analyze(small, PARAMS, **kwargs)
    with pytest.raises(ScenarioError, match="--param: name at least one"):
        sa.analyze(small, [])


def test_compare_holds_each_scenarios_figures_as_simulate_gives_them(tmp_path):
    names = ["baseline", "burn_on_top", "reward_pacing"]
    overrides = SMALL
    c = compare(names, years=0.3, settings=overrides)
    table = c.table()
    assert list(table.columns) == names
    for name in names:
        alone = simulate(load(name).with_overrides(**overrides), years=0.3).summary
        assert table[name].tolist() == [lookup(alone, key) for key, _ in HEADLINES.values()]
    assert table.loc["burned", "baseline"] != table.loc["burned", "burn_on_top"]  # the runs differ
    assert table.loc["attack"].tolist() == ["none"] * 3
    lines = c.lines()
    price = next(line for line in lines if line.startswith("HANZO price, final"))
    assert price.split()[3:] == [figure("hanzo_price_usd.final", table.loc["price", n]) for n in names]
    assert next(line for line in lines if line.startswith("total supply (HANZO)"))
    gini = next(line for line in lines if line.startswith("wealth Gini"))
    assert gini.split()[2:] == [figure("wealth_gini", table.loc["wealth_gini", n]) for n in names]
    votes = next(line for line in lines if line.startswith("top 10% of users' share of the votes"))
    assert votes.split()[-1] == figure("votes.top_10pct_users_share", table.loc["votes_top_10pct", names[-1]])
    files = write(c, tmp_path)
    csv = pd.read_csv(files["table"], index_col="name")
    assert csv.loc["total_supply", names].astype(float).tolist() == table.loc["total_supply"].tolist()
    assert files["plot"].read_bytes()[:4] == b"\x89PNG"
    twice = compare(["baseline", "baseline"], years=0.05, settings=SMALL)
    assert twice.labels == ["baseline", "baseline (2)"]
    with pytest.raises(ScenarioError, match="expected at least two scenarios"):
        compare(["baseline"])


def hanzo(*args):
    return subprocess.run([sys.executable, "-m", "hanzo.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_cli_sensitivity_writes_indices_and_plot_and_refuses_a_bad_range(tmp_path):
    small = ("--set", "users.max=20000", "--set", "users.initial=1000", "--years", "0.2", "--quiet")
    ok = hanzo("sensitivity", "baseline", *small, "--param", PARAMS[0], "--param", PARAMS[2], "--trajectories", "2",
               "--out", str(tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("baseline: Morris, 2 trajectories, 6 runs of 0.2 years, 2 parameters")
    lines = ok.stdout.splitlines()
    price = lines.index(next(line for line in lines if line.startswith("HANZO price, final, log10 (decades): mu*")))
    assert lines[price + 2].split()[:2] == ["1", "users.sell_share"]
    indices = pd.read_csv(tmp_path / "indices.csv")
    assert set(indices["output"]) == {"price_log10", "total_supply", "reward_gini"}
    assert (tmp_path / "sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 6
    bad = hanzo("sensitivity", "baseline", "--param", "users.sell_share=0.7:0.3", "--quiet")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: --param 'users.sell_share=0.7:0.3': expected finite LOW < HIGH"


def test_cli_compare_prints_what_simulate_prints_for_each(tmp_path):
    small = ("--set", "users.max=20000", "--years", "0.2", "--quiet")
    shown = hanzo("compare", "baseline", "burn_on_top", *small, "--out", str(tmp_path / "c"))
    assert shown.returncode == 0, shown.stderr
    alone = hanzo("simulate", "burn_on_top", *small, "--out", str(tmp_path / "s"))
    assert alone.returncode == 0, alone.stderr
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    rows = {line[:27].strip(): line.split() for line in shown.stdout.splitlines()}
    assert rows["total supply (HANZO)"][-1] == figure("total_supply", summary["total_supply"], with_suffix=False)
    assert rows["HANZO price, final"][-1] == re.search(r"HANZO (\$\S+)", alone.stdout).group(1)
    assert (tmp_path / "c" / "compare.png").is_file() and (tmp_path / "c" / "compare.csv").is_file()
    bad = hanzo("compare", "baseline", "nope", "--quiet")
    assert bad.returncode == 1 and bad.stderr.startswith("error: nope: no such scenario file")
