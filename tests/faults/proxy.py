"""A TCP proxy between the application and its PostgreSQL server, to make the server go away
without touching it (it is shared with other test runs).

`cut()` does to the application what a restart of PostgreSQL does: every open connection
breaks at once and new ones are refused (the port is closed) until `restore()` listens again.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class Proxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = _free_port()
        self._lock = threading.Lock()
        self._pipes: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.connections = 0  # accepted so far
        self.restore()

    # --- control ----------------------------------------------------------------------------

    def restore(self) -> None:
        """Listen again: new connections go through."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        self._spawn(self._accept, listener)

    def cut(self) -> None:
        """Close the port and break every open connection, both ways."""
        with self._lock:
            listener, self._listener = self._listener, None
            pipes, self._pipes = self._pipes, set()
        if listener is not None:
            _close(listener)
        for sock in pipes:
            _close(sock)

    def close(self) -> None:
        self.cut()
        for thread in self._threads:
            thread.join(timeout=5)

    # --- plumbing ---------------------------------------------------------------------------

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="pg-proxy")
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client), _close(server)
                    return
                self._pipes |= {client, server}
                self.connections += 1
            self._spawn(self._pump, client, server)
            self._spawn(self._pump, server, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pipes -= {source, sink}
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
