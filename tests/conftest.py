"""Shared fixtures: the whole suite deployed once per module on Ape's in-process chain.

Ape snapshots the chain at each fixture scope and reverts after each test, so every test starts
from the freshly deployed suite.
"""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from hanzo.chain.toolchain import ROOT, configure

configure()

from hanzo.econ.attest import TrainingOp, sign_training_op  # noqa: E402
from hanzo.chain.deploy import Roles, deploy_suite  # noqa: E402
from hanzo.econ.params import DEFAULT, WEI  # noqa: E402

from .market import build_market_factory  # noqa: E402


# tests/test_fuzz.py waits for this build before its first forge run
FORGE_BUILD = pytest.StashKey[subprocess.Popen]()


def pytest_collection_finish(session):
    """When tests/test_fuzz.py is to run, forge compiles the contracts and the Foundry suites from the
    start, in the background (solc.js: about 20 s of one core, which the tests before it mostly leave
    idle on 2 cores), instead of in the first forge run there. Niced: the tests keep their core."""
    forge = sorted((ROOT / "node_modules" / "@foundry-rs").glob("forge-*/bin/forge"))
    if forge and not session.config.option.collectonly and any(item.path.name == "test_fuzz.py"
                                                                for item in session.items):
        session.config.stash[FORGE_BUILD] = subprocess.Popen(
            [str(forge[0]), "build", "--offline"], cwd=ROOT, env={**os.environ, "FOUNDRY_PROFILE": "default"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: os.nice(10))


def pytest_sessionfinish(session):
    build = session.config.stash.get(FORGE_BUILD, None)
    if build is not None:
        build.wait()  # a session that ended before tests/test_fuzz.py leaves no compiler writing the cache


@pytest.fixture(scope="session")
def params():
    return DEFAULT


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def oracle(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def whale(accounts):
    """Holds the Public Sale allocation (50M HANZO; the Liquidity allocation is HanzoPool's reserve) and
    TestUSD's float: funds the other actors."""
    return accounts[4]


@pytest.fixture(scope="session")
def users(accounts):
    return [accounts[i] for i in range(5, 10)]


@pytest.fixture(scope="module")
def suite(project, accounts, params):
    roles = Roles(accounts[0], accounts[1], accounts[2].address, accounts[3].address, accounts[4].address)
    return deploy_suite(params, roles, proj=project)


@pytest.fixture(scope="module")
def token(suite):
    return suite.token


@pytest.fixture(scope="module")
def fund(suite, whale):
    def _fund(account, hanzo: int | float):
        suite.token.transfer(account, int(hanzo * WEI), sender=whale)

    return _fund


@pytest.fixture(scope="module")
def fork_of(suite, oracle, fund):
    """Mint a fork of base model 1 (performance 0) to `owner`; returns its token id."""

    def _fork(owner, base_model_id: int = 1, performance: int = 0, adapter: bytes | None = None) -> int:
        models = suite.models
        if not models.baseModels(base_model_id)[0]:
            models.registerBaseModel(base_model_id, performance, sender=oracle)
        fee = models.mintFee(base_model_id)
        fund(owner, fee / WEI)
        suite.token.approve(models.address, fee, sender=owner)
        models.mint(base_model_id, adapter or secrets.token_bytes(32), fee, sender=owner)
        return models.totalForks()

    return _fork


@pytest.fixture(scope="module")
def sign_op(suite, oracle, chain):
    """Build and sign a TrainingOp with the oracle's key (or `signer`'s)."""

    def _sign(user, model_id, *, multiplier=1, interactions=1, low_quality=False, nonce=None,
              deadline=None, adapter=None, signer=None):
        op = TrainingOp(
            user=str(user.address if hasattr(user, "address") else user),
            modelId=model_id,
            adapterHash=adapter or secrets.token_bytes(32),
            multiplier=multiplier,
            interactions=interactions,
            lowQuality=low_quality,
            nonce=secrets.randbits(64) if nonce is None else nonce,
            deadline=chain.pending_timestamp + 3600 if deadline is None else deadline,
        )
        key = (signer or oracle).private_key
        return op, sign_training_op(key, op, chain.chain_id, suite.rewards.address)

    return _sign


@pytest.fixture(scope="module")
def released(suite, chain, params):
    """Move the clock `seconds` past the emission start and release what is due."""

    def _release(seconds: int):
        start = suite.emission.start()
        chain.pending_timestamp = start + seconds
        suite.emission.release(sender=suite.roles.deployer)

    return _release


@pytest.fixture(scope="session")
def public_index(tmp_path_factory):
    """Seeds a novelty index (or a gate, or an oracle's gate) with the public corpus's arrays, built
    once per session: `public_index(path)` puts them beside `path` (its SQLite file, not yet
    created) and returns `path`. NoveltyIndex keeps these arrays beside its SQLite file, named by the
    corpus's digest, and loads them when they are there (about 0.5 s) instead of building them
    (12-20 s each; the suite used to build them for every fresh gate). The index's own database
    starts empty as before: nothing accepted or recorded is shared. Hard links (the arrays are only
    ever read, and replaced whole), or copies where links fail."""
    import os
    import shutil

    from hanzo.model.corpus import LOCAL
    from hanzo.model.novelty import NoveltyIndex

    folder = tmp_path_factory.mktemp("public-index")
    NoveltyIndex(folder / "public.sqlite", LOCAL.public_texts().values()).db.close()
    arrays = sorted(f for f in folder.iterdir() if f.suffix in (".npy", ".npz") and f.name.startswith("public."))
    assert len(arrays) == 7, arrays  # a new array would be built by every fresh gate again: seed it too

    def _seed(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        for array in arrays:
            target = path.with_name(path.stem + array.name[len("public"):])
            try:
                os.link(array, target)
            except OSError:
                shutil.copyfile(array, target)
        return path

    return _seed


@pytest.fixture(scope="session")
def attack_contracts(project):
    """The attackers' contracts (contracts/attack/), compiled by path: Ape lists a project's sources from at most
    500 files under contracts/, where its dependency cache (contracts/.cache, ~600 files) also lives, so whether a
    subfolder's contracts are listed (`project.FlashStakeVoter`) depends on the file system's order, and a fresh
    clone may miss them. Name -> ContractContainer."""
    return project.load_contracts(*sorted((ROOT / "contracts" / "attack").glob("*.sol")))


@pytest.fixture(scope="module")
def market_factory(project, accounts, chain):
    """A factory of fresh (contract, model) market-maker pairs: see tests/market.py."""
    return build_market_factory(project, accounts, chain)


@pytest.fixture
def m(market_factory):
    """A fresh market maker on chain beside its model (tests/market.py's Market), for one test."""
    return market_factory()
