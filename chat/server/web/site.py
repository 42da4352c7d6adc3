"""The HTTP side of the web door: the browser client's files, the ``/ws`` WebSocket, and the
headers and bounds every response and request get.

Every file is read into memory when the server starts (the client is a few hundred KiB,
the built-in stickers about half a MiB): a request never touches the disk, so nothing blocks
the reactor, and only the paths in that table exist: no directory listing, no path from a
URL ever reaches the file system.

Requests are bounded like frames: the request line and headers together at most
:data:`MAX_HEADER_BYTES`, at most :data:`MAX_HEADERS` headers, and no request body at all
(nothing here takes one: a ``Content-Length`` above 0 or a chunked body is ``413`` and the
connection is closed before a byte of it is read). An idle connection is closed after
:data:`IDLE_TIMEOUT` seconds. Only ``GET`` and ``HEAD`` are served.
"""

import hashlib
import os

from twisted.logger import Logger
from twisted.protocols.policies import ProtocolWrapper
from twisted.web import http, resource, server

from chat.server.web.origins import OriginPolicy
from chat.server.web.proxies import FORWARDED_FOR, TrustedProxies
from chat.server.web.wsdoor import ChatWebSocketFactory

log = Logger(namespace="chat.server.web.site")

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
STICKER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "qtclient", "sticker_sets")
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 64
IDLE_TIMEOUT = 60
WS_PATH = b"/ws"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
"""No inline script or style, no other origin: what the page runs is what the server ships.
Pictures and files that came over the WebSocket are shown from ``blob:`` URLs."""

SECURITY_HEADERS = {
    b"Content-Security-Policy": CONTENT_SECURITY_POLICY.encode("ascii"),
    b"X-Content-Type-Options": b"nosniff",
    b"X-Frame-Options": b"DENY",
    b"Referrer-Policy": b"no-referrer",
    b"Cross-Origin-Opener-Policy": b"same-origin",
    b"Cross-Origin-Resource-Policy": b"same-origin",
    b"Permissions-Policy": b"camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

CONTENT_TYPES = {
    ".html": b"text/html; charset=utf-8",
    ".js": b"text/javascript; charset=utf-8",
    ".css": b"text/css; charset=utf-8",
    ".json": b"application/json",
    ".png": b"image/png",
    ".svg": b"image/svg+xml",
    ".webmanifest": b"application/manifest+json",
    ".ico": b"image/x-icon",
}


class StaticEntry:
    """One file served from memory."""

    __slots__ = ("body", "content_type", "etag", "cache")

    def __init__(self, body: bytes, content_type: bytes, cache: bytes):
        self.body = body
        self.content_type = content_type
        self.etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode("ascii") + b'"'
        self.cache = cache


def load_files(static_dir: str = STATIC_DIR, sticker_dir: str = STICKER_DIR) -> dict:
    """``{url path: StaticEntry}`` for the client's files and the built-in stickers."""
    table = {}

    def add_tree(root: str, prefix: str, cache: bytes):
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for name in sorted(files):
                extension = os.path.splitext(name)[1].lower()
                if name.startswith(".") or extension not in CONTENT_TYPES:
                    continue
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, root).replace(os.sep, "/")
                with open(path, "rb") as f:
                    body = f.read()
                table[(prefix + relative).encode("utf-8")] = StaticEntry(
                    body, CONTENT_TYPES[extension], cache)

    # the client's own files are checked again at every load (a new version is seen at once)
    add_tree(static_dir, "/", b"no-cache")
    if os.path.isdir(sticker_dir):
        add_tree(sticker_dir, "/stickers/", b"public, max-age=86400")
    if b"/index.html" in table:
        table[b"/"] = table[b"/index.html"]
    return table


class WebRoot(resource.Resource):
    """Everything under one resource: the file table, and ``/ws``."""

    isLeaf = True

    def __init__(self, files: dict, websocket):
        super().__init__()
        self.files = files
        self.websocket = websocket

    def render(self, request):
        if request.path == WS_PATH:
            return self.websocket.render(request)
        if request.method not in (b"GET", b"HEAD"):
            request.setResponseCode(405)
            request.setHeader(b"Allow", b"GET, HEAD")
            return _plain(request, "only GET and HEAD are served here\n")
        entry = self.files.get(request.path)
        if entry is None:
            request.setResponseCode(404)
            return _plain(request, "not found\n")
        request.setHeader(b"Content-Type", entry.content_type)
        request.setHeader(b"Cache-Control", entry.cache)
        request.setHeader(b"ETag", entry.etag)
        if request.getHeader(b"If-None-Match") == entry.etag:
            request.setResponseCode(304)
            return b""
        return entry.body


def _plain(request, text: str) -> bytes:
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    return text.encode("utf-8")


class WebSocketDoor:
    """``/ws``: checks the handshake, then hands the connection to a :class:`ChatWebSocket`.

    The HTTP channel is taken off the TCP (or TLS) stream: its producer registration and its
    idle timer go with it (the chat connection has its own heartbeat and registers its own
    producer), and the stream's protocol becomes the WebSocket's."""

    def __init__(self, factory: ChatWebSocketFactory, origins: OriginPolicy, secure: bool,
                 proxies: TrustedProxies = TrustedProxies()):
        self.factory = factory
        self.origins = origins
        self.secure = secure
        self.proxies = proxies

    def client_peer(self, request):
        """The connection's peer, or the client a trusted proxy names (chat.server.web.proxies)."""
        peer = request.getClientAddress()
        forwarded = request.requestHeaders.getRawHeaders(FORWARDED_FOR) or ()
        return self.proxies.peer(peer, [_text(value) for value in forwarded])

    def render(self, request):
        upgrade = (request.getHeader(b"Upgrade") or b"").lower()
        if request.method != b"GET" or upgrade != b"websocket":
            request.setResponseCode(426)
            request.setHeader(b"Upgrade", b"websocket")
            return _plain(request, "this address takes WebSocket connections only\n")
        origin = _text(request.getHeader(b"Origin"))
        refusal = self.origins.refusal(origin, _text(request.getHeader(b"Host")), self.secure)
        if refusal is not None:
            log.info("WebSocket from {peer} refused: {reason}",
                     peer=_peer(self.client_peer(request)), reason=refusal)
            request.setResponseCode(403)
            return _plain(request, refusal + "\n")
        channel = request.channel
        transport = channel.transport
        if transport is None:
            request.setResponseCode(426)
            return _plain(request, "WebSocket needs HTTP/1.1\n")
        peer = self.client_peer(request)
        protocol = self.factory.buildProtocol(peer)
        protocol.client_peer = peer             # what the chat connection's getPeer() says
        channel.setTimeout(None)
        transport.unregisterProducer()          # the HTTP channel was the stream's producer
        channel.transport = None
        if isinstance(transport, ProtocolWrapper):            # TLS
            transport.wrappedProtocol = protocol
        else:
            transport.protocol = protocol
        protocol.makeConnection(transport)
        transport.resumeProducing()             # the channel paused it for this request
        # autobahn reads the handshake itself: the request as it came, once more
        head = [request.method + b" " + request.uri + b" HTTP/1.1"]
        for name, values in request.requestHeaders.getAllRawHeaders():
            head.extend(name + b": " + value for value in values)
        protocol.dataReceived(b"\r\n".join(head) + b"\r\n\r\n")
        return server.NOT_DONE_YET


def _text(value):
    return None if value is None else value.decode("latin-1")


def _peer(peer) -> str:
    return f"{getattr(peer, 'host', '?')}:{getattr(peer, 'port', '?')}"


class BoundedChannel(http.HTTPChannel):
    """An HTTP channel that takes no request bodies and small heads only."""

    totalHeadersSize = MAX_HEADER_BYTES
    maxHeaders = MAX_HEADERS

    def allHeadersReceived(self):
        if self.length != 0:     # a Content-Length above 0, or chunked (None)
            self.transport.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
            # nothing more is read: not this body, not another request
            self.dataReceived = self.lineReceived = self.rawDataReceived = _ignore
            self.loseConnection()
            return
        super().allHeadersReceived()


def _ignore(*args):
    return None


class SecureRequest(server.Request):
    """A request whose response, whatever it is (a file, a 404, a refusal), carries the
    security headers."""

    def render(self, resrc):
        for name, value in SECURITY_HEADERS.items():
            self.setHeader(name, value)
        self.setHeader(b"Server", b"chat")      # not Twisted's name and version
        super().render(resrc)

    def processingFailed(self, reason):
        for name, value in SECURITY_HEADERS.items():
            self.setHeader(name, value)
        return super().processingFailed(reason)


class WebSite(server.Site):
    """The ``--web-port`` factory."""

    noisy = False
    requestFactory = SecureRequest
    protocol = BoundedChannel

    def __init__(self, root, clock, timeout=IDLE_TIMEOUT):
        super().__init__(root, timeout=timeout, reactor=clock)
        self.displayTracebacks = False

    def log(self, request):
        """No access log line per request (a page load is a dozen files)."""


def make_site(chat_server, extra_origins=(), secure: bool = False, files=None,
              trusted_proxies=()) -> WebSite:
    """The web door's factory for one ``--web-port``; ``secure`` for an ``ssl:`` one;
    ``trusted_proxies``: the ``--web-trusted-proxy`` networks."""
    factory = ChatWebSocketFactory(chat_server)
    door = WebSocketDoor(factory, OriginPolicy(extra_origins), secure,
                         TrustedProxies(trusted_proxies))
    return WebSite(WebRoot(load_files() if files is None else files, door), chat_server.clock)
