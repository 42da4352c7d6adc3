"""Which web pages may open ``/ws``: the ``Origin`` check against cross-site WebSockets.

A browser sends ``Origin`` with every WebSocket handshake; a page of another site that tries
to reach the server (cross-site WebSocket hijacking) is told apart by it. The server's *own*
origin is the one its page was loaded from, which is what the request's ``Host`` header
names (directly, or through a reverse proxy that passes ``Host`` on): an origin whose host and
port are the request's ``Host`` is accepted, whatever its scheme (a proxy ends TLS, so the
page is ``https:`` while the door behind it is plain). ``--web-origin`` adds more (a page
served elsewhere). No ``Origin`` at all means no browser (a script, a test client): it is
accepted, since such a client could send any header anyway; ``Origin: null`` (a sandboxed
frame, a ``file:`` page) is refused.
"""

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalise_origin(text: str) -> str:
    """``HTTPS://Chat.Example.org:443/`` -> ``https://chat.example.org``; ValueError if it is
    not ``scheme://host[:port]``."""
    text = text.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as error:
        raise ValueError(f"{text!r} is not an origin: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r} is not an origin (http://host[:port] or https://...)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{text!r} is not an origin: only scheme, host and port")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _host_port(netloc: str, default_port: int):
    """``Chat.example.org:8080`` -> ``("chat.example.org", 8080)``; None if malformed."""
    try:
        parts = urlsplit("//" + netloc)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.path or parts.username:
        return None
    return parts.hostname.lower(), port if port is not None else default_port


class OriginPolicy:
    """Decides whether a handshake's ``Origin`` may open the WebSocket."""

    def __init__(self, extra_origins=()):
        self.extra = frozenset(normalise_origin(o) for o in extra_origins)

    def refusal(self, origin, host, secure: bool):
        """None if a handshake with this ``Origin`` and ``Host`` (str or None) is accepted,
        else the reason, for the log and the 403 page."""
        if origin is None:
            return None
        if origin.strip().lower() == "null":
            return "Origin null is not allowed"
        try:
            normal = normalise_origin(origin)
        except ValueError:
            return f"malformed Origin {origin!r}"
        if normal in self.extra:
            return None
        scheme = urlsplit(normal).scheme
        from_origin = _host_port(normal.split("://", 1)[1], DEFAULT_PORTS[scheme])
        if host:
            # the Host header has no scheme: its port defaults to the door's own scheme, and
            # an origin without a port to its own (a TLS proxy in front: https page, http door)
            candidates = {_host_port(host, 443 if secure else 80), _host_port(host, DEFAULT_PORTS[scheme])}
            if from_origin in candidates:
                return None
        return f"Origin {origin!r} is not this server's (Host {host!r}); see --web-origin"
