"""`wasi:sockets` 0.2 refused: every interface is there, but no socket can be made.

The interfaces are provided, not left out, because the `wasi:cli/command` world includes
`wasi:sockets/imports` and real producers import them whether or not the program uses the
network (the componentize-py app of ../shared/components imports sockets interfaces among its 25
WASI ones): leaving them out would make such components unlinkable although they never open a
socket. So `instance-network` gives a
`network`, and creating a TCP or UDP socket or looking up a name answers `Err("access-denied")`.
Since no socket, name-lookup stream or datagram stream can ever exist, their methods are never
called by a valid guest; they are provided (every one in WIT) so that linking succeeds, and answer
`Err("invalid-state")` (or the trivial value of their result type) if reached anyway.

Takes nothing; gives `interfaces()`: the items of the seven interfaces, keyed as in
`wasi2.interfaces()`.
"""

from __future__ import annotations

from ..values import Err
from .io import Pollable

REFUSED = Err("access-denied")
_UNREACHABLE = Err("invalid-state")


class Network:
    """`wasi:sockets/network.network`: the one network, on which nothing can be done."""


class ResolveAddressStream:
    """`wasi:sockets/ip-name-lookup.resolve-address-stream` (never made)."""


class TcpSocket:
    """`wasi:sockets/tcp.tcp-socket` (never made)."""


class UdpSocket:
    """`wasi:sockets/udp.udp-socket` (never made)."""


class IncomingDatagramStream:
    """`wasi:sockets/udp.incoming-datagram-stream` (never made)."""


class OutgoingDatagramStream:
    """`wasi:sockets/udp.outgoing-datagram-stream` (never made)."""


# Methods of the sockets that cannot exist, by what they give when reached anyway.
_TCP_RESULTS = ("start-bind", "finish-bind", "start-connect", "finish-connect", "start-listen",
                "finish-listen", "accept", "local-address", "remote-address", "set-listen-backlog-size",
                "keep-alive-enabled", "set-keep-alive-enabled", "keep-alive-idle-time",
                "set-keep-alive-idle-time", "keep-alive-interval", "set-keep-alive-interval",
                "keep-alive-count", "set-keep-alive-count", "hop-limit", "set-hop-limit",
                "receive-buffer-size", "set-receive-buffer-size", "send-buffer-size",
                "set-send-buffer-size", "shutdown")
_UDP_RESULTS = ("start-bind", "finish-bind", "stream", "local-address", "remote-address",
                "unicast-hop-limit", "set-unicast-hop-limit", "receive-buffer-size",
                "set-receive-buffer-size", "send-buffer-size", "set-send-buffer-size")


def _unreachable(*_args):
    return _UNREACHABLE


def _never_listening(_socket) -> bool:
    return False


def _family(_socket) -> str:
    return "ipv4"


def _pollable(_resource) -> Pollable:
    return Pollable()


def _methods(resource: str, results: tuple[str, ...], **others) -> dict:
    items = {f"[method]{resource}.{name}": _unreachable for name in results}
    items.update({f"[method]{resource}.{name.replace('_', '-')}": fn for name, fn in others.items()})
    items[f"[method]{resource}.subscribe"] = _pollable
    return items


def interfaces() -> dict[str, dict]:
    return {
        "wasi:sockets/network": {"network": Network, "network-error-code": lambda err: None},
        "wasi:sockets/instance-network": {"instance-network": Network},
        "wasi:sockets/ip-name-lookup": {
            "resolve-address-stream": ResolveAddressStream,
            "resolve-addresses": lambda network, name: REFUSED,
            **_methods("resolve-address-stream", ("resolve-next-address",)),
        },
        "wasi:sockets/tcp-create-socket": {"create-tcp-socket": lambda family: REFUSED},
        "wasi:sockets/tcp": {
            "tcp-socket": TcpSocket,
            **_methods("tcp-socket", _TCP_RESULTS, is_listening=_never_listening, address_family=_family),
        },
        "wasi:sockets/udp-create-socket": {"create-udp-socket": lambda family: REFUSED},
        "wasi:sockets/udp": {
            "udp-socket": UdpSocket,
            "incoming-datagram-stream": IncomingDatagramStream,
            "outgoing-datagram-stream": OutgoingDatagramStream,
            **_methods("udp-socket", _UDP_RESULTS, address_family=_family),
            **_methods("incoming-datagram-stream", ("receive",)),
            **_methods("outgoing-datagram-stream", ("check-send", "send")),
        },
    }
