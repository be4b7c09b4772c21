"""Serve an ASGI application with uvicorn in a thread of this process, on 127.0.0.1.

For programs that start their own services and talk to them over real
sockets in the same process (``ssi-wallet demo --http``). The socket is bound
*before* the application is built, so a service that must know its own URL
(an OpenID4VCI issuer's identifier, a verifier's response URI) gets it
first::

    with BackgroundServer() as server:       # a free port of 127.0.0.1, bound
        app = create_app(..., public_url=server.base)
        server.start(app)                     # uvicorn in a daemon thread
        ...                                   # http://127.0.0.1:PORT answers
    # stopped, the thread joined, the socket closed

Needs the ``server`` extra (``pip install 'ssi-wallet[server]'``): uvicorn is
imported by :meth:`BackgroundServer.start`.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Final

__all__ = ["BackgroundServer"]

#: How long :meth:`BackgroundServer.start` waits for uvicorn to listen.
STARTUP_TIMEOUT: Final = 20.0
#: How long :meth:`BackgroundServer.stop` waits for the thread to end.
SHUTDOWN_TIMEOUT: Final = 10.0


class BackgroundServer:
    """One uvicorn server on a port of ``host`` chosen by the system, run in a daemon thread.

    The port is bound when the object is made (``base`` is known at once);
    :meth:`start` serves an application on it; :meth:`stop` (or leaving the
    ``with`` block) stops the server and frees the port. Not restartable.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.host: str = host
        self.port: int = int(self._sock.getsockname()[1])
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        """``http://HOST:PORT``, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def start(self, app: Any, *, timeout: float = STARTUP_TIMEOUT) -> None:
        """Serve ``app`` (ASGI) until :meth:`stop`; return once the server listens.

        Raises ``ImportError`` without uvicorn, ``RuntimeError`` when the
        server does not start within ``timeout`` seconds or was started before.
        """
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("this server was started already")
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
            lifespan="off",
        )
        self._server = server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server on {self.base} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving, wait for the thread, close the socket (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_TIMEOUT)
        self._sock.close()

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
