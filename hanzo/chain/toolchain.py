"""Where the project's toolchain lives, and the environment Ape needs to find it.

The compiler is npm's solc.js behind the shim in .solcx/ (scripts/solc_shim.py) and anvil is
the native binary inside npm's @foundry-rs/anvil package; neither is on the system PATH, so
every entry point (the `hanzo` command, the tests) calls `configure()` before importing Ape.
"""

from __future__ import annotations

import os
from pathlib import Path

from hanzo import ROOT
SOLCX_DIR = ROOT / ".solcx"


def anvil_dir() -> Path | None:
    """Folder of the native anvil binary from npm, if installed."""
    for candidate in sorted((ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin")):
        if (candidate / "anvil").is_file():
            return candidate
    return None


def configure() -> None:
    """Point py-solc-x at the shim and put anvil on PATH (idempotent)."""
    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLCX_DIR))
    folder = anvil_dir()
    if folder is not None and str(folder) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


def check() -> list[str]:
    """What is missing from the toolchain, as lines a newcomer can act on (empty if nothing)."""
    missing = []
    if not (SOLCX_DIR / "solc-v0.8.28").is_file():
        missing.append("the solc shim (.solcx/solc-v0.8.28): run `make setup`")
    if anvil_dir() is None:
        missing.append("anvil (node_modules/@foundry-rs): run `make setup`")
    if not (ROOT / "node_modules" / "@openzeppelin" / "contracts").is_dir():
        missing.append("OpenZeppelin (node_modules/@openzeppelin/contracts): run `make setup`")
    return missing
