"""python -m hanzo.cli: the `hanzo` command."""

from hanzo.cli import main

main()
