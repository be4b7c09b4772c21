"""The roles of an immigration wallet ecosystem and the ``ssi-wallet`` command.

Issuer, holder and verifier join the ``credentials`` and ``ledger`` layers.
"""

__all__: list[str] = []
