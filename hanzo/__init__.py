"""hanzo-econ: the token economy of the Hanzo AI network.

Each package imports only those above it in this list, never back up:

- hanzo.econ: the tokenomics parameters (the one source of truth), the exact integer model of every
  contract rule, the market maker, EIP-712 attestations. Pure Python: numpy and eth-account.
- hanzo.chain: the toolchain, deployment and post-deploy audit, one transaction sender, and the
  reward hook that pays a scored training session exactly once. Needs Ape; no torch.
- hanzo.sim: the economy simulator (SimPy world, pool, scenarios, sweeps, reports, chain mode).
- hanzo.model: the Hamiltonian LLM, LoRA forks, quality gate and oracle. Needs torch.
- hanzo.cli: the `hanzo` command and the demo, which wire the others together.
"""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parents[1]  # the repository: contracts, node_modules, caches
