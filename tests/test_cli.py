"""The `hanzo` command: deploy's output and its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hanzo_econ.toolchain import ROOT


def hanzo(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "hanzo_econ.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


def test_deploy_on_in_process_chain_writes_addresses(tmp_path):
    out = tmp_path / "d.json"
    result = hanzo("deploy", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert set(data["contracts"]) >= {"HanzoToken", "TrainingRewards", "HanzoGovernor", "ModelNFT", "EmissionSchedule"}
    assert data["chain_id"] == 1337 and data["deployment_block"] >= 1
    assert "500,000,000 HANZO minted of a 1,000,000,000 cap" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--network", "ethereum:nope:x"], "error: unknown network 'ethereum:nope:x'"),
        (["--network", "ethereum:sepolia:node"], "is not local: name the deployer with --account"),
        (["--network", "ethereum:sepolia:node", "--account", "nobody"], "error: no Ape account named 'nobody'"),
    ],
)
def test_deploy_errors_are_one_line_without_traceback(args, message):
    result = hanzo("deploy", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error:")]) == 1


def test_deploy_with_bad_parameter_file_fails_before_touching_a_chain(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("quorum = -1\n")
    result = hanzo("deploy", "--params", str(bad))
    assert result.returncode == 1
    assert f"error: {bad}: quorum: must be at least 0" in result.stderr


def test_deploy_on_anvil_starts_the_node_and_deploys(tmp_path):
    out = tmp_path / "anvil.json"
    result = hanzo("deploy", "--network", "ethereum:local:foundry", "--out", str(out))
    assert result.returncode == 0, result.stderr
    data = json.loads(out.read_text())
    assert data["chain_id"] == 31337
    assert data["network"] == "ethereum:local:foundry"
