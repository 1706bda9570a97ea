"""The parameter module: defaults from tokenomics.md, TOML overrides, and clear errors."""

from __future__ import annotations

import pytest

from hanzo.econ.params import DAY, WEI, ParameterError, Tokenomics, load


def test_defaults_are_the_sources_numbers():
    p = Tokenomics()
    assert p.max_supply == 10**9 * WEI
    assert p.reward_per_interaction == WEI // 100
    assert (p.training_burn_bps, p.user_share_bps) == (1000, 7000)
    assert p.allocation("training_rewards") == 300_000_000 * WEI
    assert p.allocation("team") == 100_000_000 * WEI
    assert p.training_share_bps == 6000
    assert (p.proposal_threshold, p.quorum) == (100_000 * WEI, 10_000_000 * WEI)
    assert p.nft_base_mint_fee == 10 * WEI
    assert p.year_seconds == 365 * DAY
    assert p.token_cap == p.max_supply  # pools mode: genesis + emission == 1B


def test_toml_override_in_human_units(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[tokenomics]\nreward_per_interaction = "0.02"\nvoting_period = 3\nburn_mode = "on_top"\n')
    p = load(f)
    assert p.reward_per_interaction == 2 * WEI // 100
    assert p.voting_period == 3 * DAY
    assert p.burn_mode == "on_top"


@pytest.mark.parametrize(
    "body, message",
    [
        ("max_suply = 5", "unknown key 'max_suply'"),
        ('max_supply = "lots"', "max_supply: expected a number"),
        ("max_supply = true", "max_supply: expected a number"),
        ("emission_mode = 3", "emission_mode: expected a string"),
        ('emission_mode = "both"', "emission_mode: expected one of pools, inflation"),
        ("training_burn_bps = 10001", "training_burn_bps: must be at most 10000"),
        ("halving_years = 0", "halving_years: must be at least 1"),
        ("reward_per_interaction = 1e-19", "reward_per_interaction: expected a multiple of 1 wei"),
        ("alloc_team_bps = 2000", "must sum to 10000"),
        ("max_supply = [1]", "max_supply: expected a number"),
        ("this is = not toml", "not valid TOML"),
    ],
)
def test_bad_parameter_file_names_file_key_and_expectation(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body + "\n")
    with pytest.raises(ParameterError) as info:
        load(f)
    assert message in str(info.value)
    assert str(f) in str(info.value)


def test_missing_file_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="no such parameter file"):
        load(tmp_path / "absent.toml")


def test_replace_rejects_unknown_names():
    with pytest.raises(ParameterError, match="unknown parameter"):
        Tokenomics().replace(nonsense=1)
