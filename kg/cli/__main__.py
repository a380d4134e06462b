"""`python -m kg.cli`: the `threatkg` command without an installed entry point."""

from kg.cli import main

main(prog_name="threatkg")
