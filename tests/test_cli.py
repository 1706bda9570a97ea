"""The `hanzo` command: deploy's output and its one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from hanzo.chain.toolchain import ROOT


def hanzo(*args, cwd=None, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "hanzo.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600, env={**os.environ, **(env or {})})


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


def test_demo_pays_honest_work_and_no_greedy_strategy_more(tmp_path, public_index):
    # the oracle's gate finds the public corpus's arrays built once per session (conftest) instead of
    # building them again; everything else in the demo's folder starts empty, as in a temporary one
    public_index(tmp_path / "demo" / "oracle" / "gate.sqlite")
    result = hanzo("demo", "--network", "ethereum:local:test", "--sessions", "2", "--work", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("matches") == 8 and "DIFFERS" not in out  # seven users and the burn
    users = ("ophelia", "miranda", "rewriter", "sybil", "resetter", "spammer", "horatio")
    rows = {}
    for line in out.splitlines():
        if line.split() and line.split()[0] in users and "balance" not in line:
            rows.setdefault(line.split()[0], []).append(line)
    assert all("refused: duplicate" in r for r in rows["rewriter"] + rows["sybil"])  # disguised copies
    assert all(" low quality " in r for r in rows["spammer"])  # noise passes the gate, teaches nothing, burns
    assert "already paid: nothing more" in rows["resetter"][1]  # a reset NFT does not make a session new
    assert "no greedy strategy beat honest work" in out


def test_generate_and_finetune_commands(tmp_path, public_index):
    gen = hanzo("generate", "--n", "40", "--prompt", "JULIET:\n", "--steer", "love", "--strength", "2")
    assert gen.returncode == 0, gen.stderr
    assert gen.stdout.startswith("JULIET:\n") and len(gen.stdout) >= 40
    text = tmp_path / "lines.txt"
    text.write_text("O Romeo, Romeo! wherefore art thou Romeo?\n" * 20)
    cache = {"HANZO_CACHE": str(tmp_path / "cache")}
    public_index(tmp_path / "cache" / "hllm" / "oracle" / "gate.sqlite")  # the oracle's gate (conftest)
    refused = hanzo("finetune", "--user", "tester", "--text", str(text), env=cache)
    assert refused.returncode == 1 and "error: refused (repetitive)" in refused.stderr
    from hanzo.model.corpus import LOCAL

    writing = LOCAL.users_text("hamlet")
    for k in range(4):  # an honest first session is paid in most cases, not all: the writer goes on until one is
        text.write_text(writing[k * 2000:(k + 1) * 2000])
        env_out = hanzo("finetune", "--user", "tester", "--domain", "hamlet", "--text", str(text), env=cache)
        assert env_out.returncode == 0, env_out.stderr
        # the updates follow from the text: two passes over its windows (less the oracle's held-back share)
        assert "new characters of 2,000; " in env_out.stdout and " updates; hamlet loss drop" in env_out.stdout
        if ": paid, multiplier " in env_out.stdout:
            break
        assert ": neutral (" in env_out.stdout and "0 interactions payable" in env_out.stdout
    assert ": paid, multiplier " in env_out.stdout, env_out.stdout
    assert re.search(r"; [1-9]\d* interactions payable", env_out.stdout)
    digest = env_out.stdout.split("sha256 ")[1].split(",")[0]
    again = hanzo("finetune", "--user", "tester", "--domain", "hamlet", "--text", str(text), env=cache)
    assert again.returncode == 1 and "give the hash the chain last paid with --adapter-hash" in again.stderr
    text.write_text(writing[10_000:12_000])
    more = hanzo("finetune", "--user", "tester", "--domain", "hamlet", "--text", str(text), "--adapter-hash", digest,
                 env=cache)
    assert more.returncode == 0 and "version 2" in more.stdout, more.stderr
    short = tmp_path / "short.txt"
    short.write_text("Hi")
    bad = hanzo("finetune", "--user", "newbie", "--text", str(short), env=cache)
    assert bad.returncode == 1 and "error: refused (short): the text has 2 characters" in bad.stderr
    evil = hanzo("finetune", "--user", "../evil", "--text", str(text), env=cache)
    assert evil.returncode == 1 and "error: user '../evil': expected" in evil.stderr


def test_finetune_on_someone_elses_fork_names_a_missing_owner_head(tmp_path, public_index):
    """--owner: the head is the owner's adapter file; one that is not there is a clear error, and the
    text stays the user's (the failed judgement is undone)."""
    from hanzo.model.corpus import LOCAL

    text = tmp_path / "mine.txt"
    text.write_text(LOCAL.users_text("hamlet")[70_000:71_500])
    cache = {"HANZO_CACHE": str(tmp_path / "cache")}
    public_index(tmp_path / "cache" / "hllm" / "oracle" / "gate.sqlite")  # the oracle's gate (conftest)
    args = ("finetune", "--user", "sebastian", "--fork", "3", "--text", str(text), "--adapter-hash", "ab" * 32)
    missing = hanzo(*args, "--owner", "olivia", env=cache)
    assert missing.returncode == 1 and "olivia/fork-3.safetensors" in missing.stderr and "missing" in missing.stderr
    evil = hanzo(*args, "--owner", "../evil", env=cache)
    assert evil.returncode == 1 and "error: user '../evil': expected" in evil.stderr
