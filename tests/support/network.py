"""Ports for servers that tests start."""
from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` now (the OS picks it; a race with another process is
    possible but harmless in practice: the server then fails to bind and the test says so)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
