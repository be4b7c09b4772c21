"""The library's private kernel for bytes and text that come from outside.

Every package (``did_methods``, ``credentials``, ``ledger``, ``ssi_wallet``)
and the command line read and write through these few modules, so each rule
lives in one place:

* :mod:`did_methods._wire.json`: the one strict, bounded JSON reader;
* :mod:`did_methods._wire.jcs`: the one RFC 8785 canonical JSON writer
  (``credentials.jcs`` re-exports it, the vault calls it);
* :mod:`did_methods._wire.b64`: the one strict base64url and base64 codec
  (``did_methods.encoding`` re-exports the base64url names);
* :mod:`did_methods._wire.text`: escaping of outside text for a terminal;
* :mod:`did_methods._wire.files`: the one private-file writer (exclusive
  create, no symlinks, fsync);
* :mod:`did_methods._wire.secret`: a mixin that keeps secrets out of pickles
  and copies;
* :mod:`did_methods._wire.renamed`: the warning an old name gives for the one
  release it outlives its rename.

This package imports nothing of ssi-wallet but :mod:`did_methods.errors`.
"""
