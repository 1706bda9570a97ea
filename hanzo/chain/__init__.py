"""The chain: toolchain, deployment and audit (deploy, audit), transaction sending (tx) and the
reward hook (rewards). Imports no torch."""
