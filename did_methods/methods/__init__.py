"""DID methods: each one turns a DID of its method into a DID document.

A method is any object with a ``name`` (the method name in ``did:<name>:``)
and ``resolve(did, options) -> ResolutionResult`` that raises
:class:`~did_methods.errors.ResolutionError` when it cannot resolve; see
:class:`did_methods.resolver.DIDMethod`. Register methods on a
:class:`~did_methods.resolver.Resolver`.
"""
