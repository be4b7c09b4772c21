"""A mixin that keeps secrets out of pickles and copies.

A secret that can be pickled ends up in a cache, a multiprocessing queue, a
crash dump or a log without anyone deciding to export it; a copy outlives the
zeroising or closing of the original. Classes holding raw secret bytes (the
vault's :class:`~ledger.vault.crypto.MasterKey`, :class:`~did_methods.keys.PrivateKey`)
inherit :class:`NoCopySecret`: ``pickle``, ``copy.copy`` and
``copy.deepcopy`` raise :class:`~did_methods.errors.SecretCopyError` (a
``TypeError``, code ``secret_not_copyable``). Export stays possible through
each class's explicit, named call (``private_jwk()``, ``to_text()``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from did_methods.errors import SecretCopyError

__all__ = ["NoCopySecret"]


class NoCopySecret:
    """Refuse ``pickle``, ``copy.copy`` and ``copy.deepcopy`` with :class:`SecretCopyError`."""

    __slots__ = ()

    def _refuse_copy(self) -> NoReturn:
        name = type(self).__name__
        raise SecretCopyError(
            f"secret_not_copyable: a {name} holds a secret and cannot be pickled or copied;"
            " export it explicitly"
        )

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        self._refuse_copy()

    def __reduce__(self) -> NoReturn:
        self._refuse_copy()

    def __getstate__(self) -> NoReturn:
        self._refuse_copy()

    def __copy__(self) -> NoReturn:
        self._refuse_copy()

    def __deepcopy__(self, memo: Any) -> NoReturn:
        self._refuse_copy()
