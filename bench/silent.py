"""Silent endpoints: TCP listeners that accept, read and never answer."""

from __future__ import annotations

import selectors
import socket
import threading

from bench.model import LOOPBACK


class SilentListeners:
    """A few loopback listeners served by one thread; connections stay open until the peer closes."""

    def __init__(self, count: int) -> None:
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._stop = threading.Event()
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((LOOPBACK, 0))
            sock.listen(512)
            sock.setblocking(False)
            self._selector.register(sock, selectors.EVENT_READ, data="listener")
            self._listeners.append(sock)
        self._thread = threading.Thread(target=self._serve, name="silent-listeners", daemon=True)

    @property
    def ports(self) -> list[int]:
        return [s.getsockname()[1] for s in self._listeners]

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if key.data == "listener":
                    try:
                        conn, _ = sock.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    self._selector.register(conn, selectors.EVENT_READ, data="conn")
                    continue
                try:
                    data = sock.recv(65536)  # swallow the ClientHello, say nothing
                except OSError:
                    data = b""
                if not data:
                    self._selector.unregister(sock)
                    sock.close()
        for key in list(self._selector.get_map().values()):
            fileobj = key.fileobj
            assert isinstance(fileobj, socket.socket)
            fileobj.close()
        self._selector.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
