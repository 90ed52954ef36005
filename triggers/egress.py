"""The egress policy of outgoing requests (notifications, HTTP retraining triggers): private,
loopback, link-local (cloud metadata) and other non-public addresses are refused unless the
operator allows them, so a channel or pipeline URL cannot probe the control plane's network."""

import ipaddress
import socket

import httpx

ALLOW_SETTING = "MONITOR_EGRESS_ALLOW_PRIVATE"


class EgressRefused(httpx.ConnectError):
    """The destination is not a public address; the message names the setting that allows it."""


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What makes `address` non-public, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _kind(address.ipv4_mapped)
    for kind in ("unspecified", "loopback", "link_local", "private", "multicast", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None


def check_destination(host: str, port: int) -> None:
    """Raise EgressRefused when any address `host` resolves to is not public."""
    try:
        resolved = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise EgressRefused(f"cannot resolve the host {host!r}: {error.strerror}") from error
    for *_, sockaddr in resolved:
        address = ipaddress.ip_address(sockaddr[0])
        kind = _kind(address)
        if kind is not None:
            raise EgressRefused(
                f"{host!r} resolves to {address} ({kind}); outgoing requests go only "
                f"to public addresses unless {ALLOW_SETTING}=true"
            )


class EgressTransport(httpx.HTTPTransport):
    """An httpx transport that applies the policy to every request (redirects are not followed
    by the callers, so each destination is checked)."""

    def __init__(self, *, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.allow_private:
            port = request.url.port or (443 if request.url.scheme == "https" else 80)
            check_destination(request.url.host, port)
        return super().handle_request(request)


def answer_summary(response: httpx.Response) -> str:
    """A refusal as stored and shown: the status and its standard reason, nothing the receiver
    wrote (that would show read keys what an internal service answered)."""
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
