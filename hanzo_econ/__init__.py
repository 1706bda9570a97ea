"""hanzo-econ: the token economy of the Hanzo AI network as Python.

- params: the tokenomics parameters, the single source of truth
- reference: the exact integer model of every contract rule
- chain: deploy and call the contracts through Ape
"""

__version__ = "0.1.0"
