"""The economics as exact Python: parameters (params), fixed-point math (fixedpoint), the
reference model of every contract rule (reference), the market maker (hmm) and the oracle's
EIP-712 attestations (attest)."""
