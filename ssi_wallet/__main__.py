"""``python -m ssi_wallet`` runs the command line."""

from ssi_wallet.cli import main

main()
