"""Keys, DIDs, DID documents, DID methods and DID resolution (the foundation layer).

This package imports nothing else of ssi-wallet.
"""
