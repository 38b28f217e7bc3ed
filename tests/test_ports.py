"""Ports for the servers that tests start."""

import socket

from tests.conftest import free_port, outgoing_ports


def test_a_free_port_is_one_outgoing_connections_are_never_given() -> None:
    # given the ports the kernel picks for outgoing connections
    first, last = outgoing_ports()

    # when a test asks for a port for its server
    ports = [free_port() for _ in range(50)]

    # then none of them is one of those, and each can be listened on
    assert not [port for port in ports if first <= port <= last]
    for port in ports:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
