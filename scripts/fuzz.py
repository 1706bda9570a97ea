"""Run the Foundry invariant suites (fuzz/) on the tokenomics parameters of hanzo.econ.params.

    python scripts/fuzz.py [--profile default|long] [--params FILE] [--only market|pool|suite] [forge args]

forge comes from npm (@foundry-rs/forge) and compiles with the project's solc shim, offline. The
parameters reach the Solidity suites as HANZO_* environment variables, so the fuzzed contracts
run on the same numbers as the deployment, the simulator and the Python model.

Three suites: MarketInvariants deploys a market maker of its own, PoolInvariants a HanzoPool of
its own (the deployment's fee and seed); SuiteInvariants runs forked from anvil, on the whole
suite as `deploy_suite` deployed and handed over (the roles under test are the real deployment's,
not a copy of it written again in Solidity).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hanzo.econ.params import CONGESTION_CHARGE_ON, load  # noqa: E402


def forge_binary() -> Path:
    for candidate in sorted((ROOT / "node_modules" / "@foundry-rs").glob("forge-*/bin/forge")):
        return candidate
    sys.exit("error: forge not found under node_modules/@foundry-rs (run `make setup`)")


def environment(params_file: str | None) -> dict[str, str]:
    p = load(params_file)
    env = {
        "HANZO_TOKEN_CAP": p.token_cap,
        "HANZO_HMM_ALPHA": p.hmm_alpha,
        "HANZO_HMM_GAMMA": p.hmm_gamma,
        "HANZO_HMM_DT": p.hmm_dt,
        "HANZO_HMM_DELTA_MAX": p.hmm_delta_max,
        "HANZO_HMM_TARGET_UTILIZATION": p.hmm_target_utilization,
        "HANZO_HMM_BUY_FEE": p.hmm_buy_fee,
        "HANZO_HMM_SELL_FEE": p.hmm_sell_fee,
        "HANZO_HMM_EPOCH": p.hmm_epoch,
        "HANZO_HMM_POSITION_DECAY": p.hmm_position_decay,
        "HANZO_HMM_DEPTH": p.hmm_depth,
        # off by default; fuzzed on, as governance may switch it (off, its invariants would check nothing)
        "HANZO_HMM_CONGESTION_CHARGE": p.hmm_congestion_charge or CONGESTION_CHARGE_ON,
        "HANZO_PRICE_HMM_7B": p.price_hmm_7b,
        "HANZO_PRICE_HMM_32B": p.price_hmm_32b,
        "HANZO_PRICE_HMM_175B": p.price_hmm_175b,
        "HANZO_POOL_FEE_BPS": p.pool_fee_bps,
        "HANZO_POOL_SEED_HANZO": p.pool_seed_hanzo,
        "HANZO_POOL_SEED_USD": p.pool_seed_usd,
    }
    return {k: str(v) for k, v in env.items()}


@contextlib.contextmanager
def deployed_suite(params_file: str | None, handover: bool = True, root: Path = ROOT):
    """Deploy the suite on Ape's anvil; yields (the suite's HANZO_* variables, anvil's URL).
    handover=False leaves the deployer every admin role, and `root` names a copy of the project
    with a bug seeded in its contracts: the suite must then fail (tests/test_fuzz.py)."""
    from hanzo.chain.toolchain import configure

    configure()
    import ape
    from ape import accounts, networks
    from ape.logging import logger

    from hanzo.chain.deploy import ANVIL_NETWORK, Roles, deploy_suite

    logger.set_level("WARNING")
    p = load(params_file)
    with networks.parse_network_choice(ANVIL_NETWORK) as provider:
        test = accounts.test_accounts
        roles = Roles(test[0], test[1], test[2].address, test[3].address, test[4].address)
        print("deploying the suite on anvil for SuiteInvariants ...", flush=True)
        s = deploy_suite(p, roles, handover=handover, proj=None if root == ROOT else ape.Project(root))
        env = {
            "HANZO_TOKEN": s.token.address, "HANZO_STAKED": s.staked.address, "HANZO_MODELS": s.models.address,
            "HANZO_REWARDS": s.rewards.address, "HANZO_EMISSION": s.emission.address, "HANZO_HMM": s.hmm.address,
            "HANZO_TIMELOCK": s.timelock.address, "HANZO_GOVERNOR": s.governor.address, "HANZO_DEPLOYER": test[0].address,
            "HANZO_ORACLE_KEY": str(int(test[1].private_key, 16)), "HANZO_REGISTRAR": test[1].address,
            "HANZO_SALE": test[4].address, "HANZO_USD": s.usd.address,
        }
        yield {k: str(v) for k, v in env.items()}, provider.uri


def forge_test(env: dict[str, str], *args: str, root: Path = ROOT) -> int:
    cmd = [str(forge_binary()), "test", "--offline", *args]
    print("+ FOUNDRY_PROFILE=%s %s" % (env.get("FOUNDRY_PROFILE"), " ".join(cmd)), flush=True)
    return subprocess.call(cmd, cwd=root, env=env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default", choices=("default", "long"))
    ap.add_argument("--params", default=None, help="TOML file overriding tokenomics parameters")
    ap.add_argument("--only", choices=("market", "pool", "suite"), default=None, help="run one of the suites")
    ap.add_argument("--no-handover", action="store_true", help=argparse.SUPPRESS)  # the negative test's deployment
    ap.add_argument("--project", type=Path, default=ROOT, help=argparse.SUPPRESS)  # a copy with a seeded bug
    args, extra = ap.parse_known_args()
    env = {**os.environ, **environment(args.params), "FOUNDRY_PROFILE": args.profile}
    rc = 0
    root = args.project.resolve()
    if args.only in (None, "market"):
        rc |= forge_test(env, "--match-contract", "MarketInvariants", *extra, root=root)
    if args.only in (None, "pool"):
        rc |= forge_test(env, "--match-contract", "PoolInvariants", *extra, root=root)
    if args.only in (None, "suite"):
        # forge compiles what changed (with a seeded bug, that contract and the suites importing it:
        # 10-20 s of solc.js) while Ape compiles and deploys on anvil, instead of after it
        build = subprocess.Popen([str(forge_binary()), "build", "--offline"], cwd=root, env=env)
        try:
            with deployed_suite(args.params, handover=not args.no_handover, root=root) as (suite_env, url):
                build.wait()  # a failed build fails the test run below, with the compiler's message
                rc |= forge_test({**env, **suite_env}, "--match-contract", "SuiteInvariants", "--fork-url", url,
                                 *extra, root=root)
        finally:
            build.wait()  # a failed deployment leaves no compiler writing the cache behind it
    return rc


if __name__ == "__main__":
    sys.exit(main())
