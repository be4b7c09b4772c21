"""ssi_wallet package."""
