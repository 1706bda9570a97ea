"""A small Hamiltonian LLM (model.py), its data (data.py) and its training loop (train.py)."""
