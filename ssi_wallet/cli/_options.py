"""The options the command groups share, each read one way.

* the store: ``--db PATH`` (a SQLite file) or ``--dsn DSN`` (PostgreSQL, its
  tables in ``--schema``), given to the command as one :class:`StoreTarget`
  that opens the store, the log, the ledger or the vault;
* a key: ``--key-file`` with ``--passphrase-env VAR``, given as a
  :class:`KeySource`; every passphrase follows :func:`read_passphrase`;
* output: ``--json`` (:data:`json_option`), ``--out``/``--force``
  (:data:`force_option` in :mod:`ssi_wallet.cli._io`) and ``--language``
  (:data:`language_option`).

A decorator adds the options and hands the command one value in their place,
so a command's signature names what it works on (``store: StoreTarget``),
not the spelling of the options.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from ssi_wallet.cli import JSON_META

if TYPE_CHECKING:
    from did_methods.keys import PrivateKey
    from ledger.facade import Ledger
    from ledger.log import Log
    from ledger.store import Store
    from ledger.vault import KeyProvider, Vault

__all__ = [
    "DEFAULT_SCHEMA",
    "DID_TEXT",
    "INSTANT",
    "KeySource",
    "StoreTarget",
    "json_option",
    "key_options",
    "language_option",
    "read_passphrase",
    "store_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The PostgreSQL schema the ledger's tables live in unless ``--schema`` says otherwise.
DEFAULT_SCHEMA = "ssi_ledger"


# -- the store ------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreTarget:
    """Where the ledger (and the vault beside it) lives: a SQLite file or a PostgreSQL DSN.

    Built only by :func:`store_options` (or :meth:`of`), which checks that
    exactly one of ``--db`` and ``--dsn`` was given, unless neither is needed.
    """

    db: Path | None
    dsn: str | None
    schema: str = DEFAULT_SCHEMA

    @classmethod
    def of(cls, db: Path | None, dsn: str | None, schema: str = DEFAULT_SCHEMA) -> StoreTarget:
        """The target of ``--db``/``--dsn``; a usage error (exit 2) unless exactly one is given."""
        from ledger.store import is_postgres_dsn

        if (db is None) == (dsn is None):
            raise click.UsageError("give exactly one of --db PATH or --dsn DSN")
        if dsn is not None and not is_postgres_dsn(dsn):
            raise click.UsageError("--dsn must be a postgresql:// URL")
        return cls(db, dsn, schema)

    @property
    def location(self) -> str:
        """The SQLite path or the DSN, as ``Ledger.open`` and ``open_store`` take it."""
        return self.dsn if self.dsn is not None else os.fspath(self.db or "")

    @property
    def pg_schema(self) -> str | None:
        """The PostgreSQL schema, or None for a SQLite file."""
        return self.schema if self.dsn is not None else None

    def require(self, hint: str) -> None:
        """A usage error naming ``hint`` (how to create it) when the SQLite file is missing."""
        if self.db is not None and not self.db.exists():
            raise click.UsageError(f"{self.db} does not exist; {hint}")

    def open_store(self, *, read_only: bool = False, create: bool = True) -> Store:
        """The log's store. A SQLite file that has content is never written into
        unless it is a ledger already: it is opened with ``create=False``, so
        another kind of file (a wallet, a document) is refused as malformed
        input (:class:`~ledger.errors.NotALedgerError`, exit 2)."""
        from ledger.store import open_store

        if self.db is not None and self.db.is_file() and self.db.stat().st_size > 0:
            create = False
        return open_store(self.location, read_only=read_only, create=create, schema=self.schema)

    def open_log(self, *, hint: str, key: PrivateKey | None = None, read_only: bool = False) -> Log:
        """The log in an existing store, under the origin the store is bound to.

        ``key`` (Ed25519) signs checkpoints. Nothing is created: a missing file
        or a store never initialised is a usage error naming ``hint``.
        """
        from did_methods.keys import KeyType
        from ledger.checkpoint import NoteSigner
        from ledger.log import Log

        self.require(hint)
        store = self.open_store(read_only=read_only, create=False)
        try:
            origin = store.origin()
            if origin is None:
                raise click.UsageError(f"this store is not initialised; {hint}")
            signer = None
            if key is not None and key.key_type is KeyType.ED25519:
                signer = NoteSigner(origin, key)  # Log refuses an unowned log (operator_unknown)
            return Log(store, origin=origin, signer=signer)
        except BaseException:
            store.close()
            raise

    def open_ledger(
        self,
        *,
        key: PrivateKey | None = None,
        trust_root: str | None = None,
        read_only: bool = False,
        create: bool = False,
        hint: str = "create it with 'ssi-wallet ledger init'",
    ) -> Ledger:
        """The ledger in the store, under the origin it is bound to (else the default one).

        ``read_only`` takes no write lock, so checking never blocks a writer.
        """
        from ledger.facade import DEFAULT_ORIGIN, Ledger

        if not create:
            self.require(hint)
        store = self.open_store(read_only=read_only, create=create)
        try:
            origin = store.origin() or DEFAULT_ORIGIN
            # Ledger refuses a key on a log with entries and no operator (operator_unknown).
            return Ledger(store, origin=origin, key=key, trust_root=trust_root)
        except BaseException:
            store.close()
            raise

    def open_vault(
        self,
        *,
        master_key: KeyProvider,
        signer: PrivateKey | None = None,
        create: bool = False,
        read_only: bool = False,
    ) -> Vault:
        """The vault sharing the ledger's store (see :meth:`ledger.vault.Vault.open`)."""
        from ledger.vault import Vault

        return Vault.open(
            self.location,
            master_key=master_key,
            schema=self.schema,
            signer=signer,
            create=create,
            read_only=read_only,
        )


def store_options(
    *, required: bool = True, db_help: str = "The ledger: a SQLite file."
) -> Callable[[F], F]:
    """Add ``--db``, ``--dsn`` and ``--schema``; the command gets ``store: StoreTarget``
    (``None`` when not ``required`` and neither was given)."""

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, db: Path | None, dsn: str | None, pg_schema: str, **kw: Any) -> Any:
            target = None
            if required or db is not None or dsn is not None:
                target = StoreTarget.of(db, dsn, pg_schema)
            return func(*args, store=target, **kw)

        options = [
            click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help=db_help),
            click.option(
                "--dsn", metavar="DSN", help="Or a PostgreSQL database (postgresql://...)."
            ),
            click.option(
                "--schema",
                "pg_schema",
                default=DEFAULT_SCHEMA,
                show_default=True,
                help="With --dsn: the PostgreSQL schema holding the tables.",
            ),
        ]
        out: Any = command
        for option in reversed(options):
            out = option(out)
        return cast(F, out)

    return wrap


# -- keys and passphrases ---------------------------------------------------------------


def read_passphrase(
    env: str | None, *, prompt: str | None = None, confirm: bool = False
) -> str | None:
    """The one passphrase rule: the value of the environment variable ``env`` when
    named (empty or unset is a usage error, exit 2); else, with ``prompt``, asked
    hidden on the terminal (``confirm``: twice); else None.

    A passphrase is never an argument, where it would sit in the shell history
    and the process list.
    """
    if env:
        value = os.environ.get(env)
        if not value:
            raise click.UsageError(f"environment variable {env} is empty or unset")
        return value
    if prompt is None:
        return None
    asked = str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))
    if not asked:
        raise click.UsageError("the passphrase must not be empty")
    return asked


@dataclass(frozen=True)
class KeySource:
    """A private key file and the variable holding its passphrase (if encrypted)."""

    path: Path
    passphrase_env: str | None = None

    def read(self, *, signing: bool = True) -> PrivateKey:
        """The key in the file; an encrypted file needs ``--passphrase-env``.

        A malformed file, and with ``signing`` a key that cannot sign (X25519,
        for key agreement only), is malformed input
        (:class:`~did_methods.errors.InvalidKey`, exit 2).
        """
        from did_methods.errors import InvalidKey
        from did_methods.keyfile import KeyFileError, read_key_file
        from did_methods.keys import KeyType

        try:
            key = read_key_file(self.path, passphrase=read_passphrase(self.passphrase_env))
        except KeyFileError as exc:
            if exc.code == "passphrase_needed":
                raise click.UsageError(
                    f"{exc} (name the variable holding it with --passphrase-env VAR)"
                ) from exc
            raise
        if signing and key.key_type is KeyType.X25519:
            raise InvalidKey(f"{self.path} holds an X25519 key, which cannot sign")
        return key

    def read_or_create(self) -> PrivateKey:
        """The key in the file, or a new Ed25519 key written there (encrypted under
        the passphrase when ``--passphrase-env`` is given) when there is no file."""
        from did_methods.keyfile import write_key_file
        from did_methods.keys import PrivateKey

        if self.path.exists():
            return self.read()
        key = PrivateKey.generate()
        write_key_file(self.path, key, passphrase=read_passphrase(self.passphrase_env))
        return key


_ENV_HELP = "Environment variable holding the passphrase of an encrypted key file."


def key_options(
    *,
    help: str,
    required: bool = True,
    exists: bool = True,
    option: str = "--key-file",
) -> Callable[[F], F]:
    """Add ``--key-file`` (or ``option``) and ``--passphrase-env``; the command gets
    ``key: KeySource`` (``None`` when not ``required`` and not given)."""
    dest = option.lstrip("-").replace("-", "_")

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def command(*args: Any, passphrase_env: str | None, **kw: Any) -> Any:
            path = kw.pop(dest)
            source = None if path is None else KeySource(path, passphrase_env)
            return func(*args, key=source, **kw)

        out: Any = click.option("--passphrase-env", metavar="VAR", help=_ENV_HELP)(command)
        out = click.option(
            option,
            dest,
            required=required,
            type=click.Path(dir_okay=False, exists=exists, path_type=Path),
            help=help,
        )(out)
        return cast(F, out)

    return wrap


# -- output -----------------------------------------------------------------------------


def _remember_json(ctx: click.Context, _: click.Parameter, value: bool) -> bool:
    # meta is shared by the whole context chain: the group's error handler reads it.
    if value:
        ctx.meta[JSON_META] = True
    return value


#: ``--json``: print the result, and any error, as JSON on stdout.
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    callback=_remember_json,
    help='Print JSON (an error too: {"error": {"code": ..., "message": ...}}).',
)


class _Instant(click.ParamType[datetime, Any]):
    """An ISO 8601 instant (``2030-01-01T00:00:00Z``); one without an offset is UTC."""

    name = "instant"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 instant (e.g. 2030-01-01T00:00:00Z)", param, ctx
            )
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


#: The type of every option that takes an instant: an aware datetime (exit 2 if malformed).
INSTANT = _Instant()


class _DidText(click.ParamType[str, Any]):
    """A DID, checked against the DID syntax (DID Core 3.1) before anything is opened."""

    name = "did"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from did_methods.did import DID
        from did_methods.errors import InvalidDID

        try:
            DID.parse(str(value))
        except InvalidDID as exc:
            self.fail(f"{str(value)[:120]!r} is not a DID: {exc}", param, ctx)
        return str(value)


#: The type of every option or argument that names a DID (exit 2 if malformed).
DID_TEXT = _DidText()


def language_option(help: str) -> Callable[[F], F]:
    """``--language``: one of the message catalogue's languages (listed in --help;
    any other is a usage error, exit 2)."""
    from ssi_wallet._messages import LANGUAGES

    return click.option(
        "--language",
        type=click.Choice(LANGUAGES),
        default="en",
        show_default=True,
        help=help,
    )
