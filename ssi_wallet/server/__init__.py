"""HTTP services over the library (``pip install 'ssi-wallet[server]'``).

:mod:`ssi_wallet.server.vc_api` is the W3C CCG VC API (issue, verify, status,
DID Resolution); :mod:`ssi_wallet.server.common` holds what services share
(configuration, bounded bodies, problem details, bearer tokens, the runner).
Nothing below ``ssi_wallet`` imports this package: the core stays sans-IO.
"""
