"""Run the Foundry invariant suites (fuzz/) on the tokenomics parameters of hanzo_econ.params.

    python scripts/fuzz.py [--profile default|long] [--params FILE] [extra forge args]

forge comes from npm (@foundry-rs/forge) and compiles with the project's solc shim, offline. The
parameters reach the Solidity suites as HANZO_* environment variables, so the fuzzed contracts
run on the same numbers as the deployment, the simulator and the Python model.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hanzo_econ.params import load  # noqa: E402


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
        "HANZO_HMM_DEPTH": p.hmm_depth,
        "HANZO_PRICE_HMM_7B": p.price_hmm_7b,
        "HANZO_PRICE_HMM_32B": p.price_hmm_32b,
        "HANZO_PRICE_HMM_175B": p.price_hmm_175b,
    }
    return {k: str(v) for k, v in env.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default", choices=("default", "long"))
    ap.add_argument("--params", default=None, help="TOML file overriding tokenomics parameters")
    args, extra = ap.parse_known_args()
    env = {**os.environ, **environment(args.params), "FOUNDRY_PROFILE": args.profile}
    cmd = [str(forge_binary()), "test", "--offline", *extra]
    print("+ FOUNDRY_PROFILE=%s %s" % (args.profile, " ".join(cmd)), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
