"""The model side: a small Hamiltonian LLM with per-user LoRA forks, quality scoring, and the
thin hook that turns a scored update into an on-chain reward (rewards.py imports no torch)."""
