"""The web door (``--web-port``) without sockets: HTTP responses and their security headers,
request bounds, the ``Origin`` check, and the native protocol over WebSocket on a
StringTransport (tests/support/websocket.py speaks the client's side of RFC 6455)."""

import json
import re
import struct

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.protocol.codec import encode_object
from chat.server.web.origins import OriginPolicy, normalise_origin
from chat.server.web.site import CONTENT_SECURITY_POLICY, load_files, make_site
from tests.harness import PASSWORD, make_server, user
from tests.support import websocket as ws

HOST = "127.0.0.1:8080"
ORIGIN = "http://127.0.0.1:8080"
_files = None


def files():
    global _files
    if _files is None:
        _files = load_files()
    return _files


class Peer:
    """One TCP connection to the web door, on a StringTransport."""

    port = 50000

    def __init__(self, site, host="192.0.2.20"):
        Peer.port += 1
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", host, Peer.port))
        self.channel = site.buildProtocol(self.transport.getPeer())
        self.channel.makeConnection(self.transport)
        self.reader = ws.FrameReader()
        self.messages = []         # (opcode, payload) of everything the server sent

    def raw(self, data: bytes) -> None:
        # after the WebSocket takeover the stream's protocol is the WebSocket's
        protocol = getattr(self.transport, "protocol", None) or self.channel
        protocol.dataReceived(data)

    def response(self) -> bytes:
        data = self.transport.value()
        self.transport.clear()
        return data

    def get(self, path: str, *headers: str, method="GET") -> tuple:
        head = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", *headers]
        self.raw(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        data = self.response()
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        return status, fields, body

    # -- WebSocket
    def upgrade(self, origin=ORIGIN, host=HOST, path="/ws") -> int:
        self.raw(ws.handshake(path=path, host=host, origin=origin))
        self.pump()
        return self.reader.status

    def pump(self) -> list:
        new = self.reader.feed(self.response())
        self.messages.extend(new)
        return new

    def send(self, obj: dict) -> None:
        self.raw(ws.text(encode_object(obj)))

    def request(self, kind: str, request_id, **fields) -> dict:
        self.send({"type": kind, "id": request_id, **fields})
        for opcode, payload in self.pump():
            if opcode == ws.OP_TEXT:
                frame = json.loads(payload)
                if frame.get("id") == request_id:
                    return frame
        raise AssertionError(f"no reply to {request_id}: {self.messages}")

    def texts(self) -> list:
        self.pump()
        return [json.loads(p) for op, p in self.messages if op == ws.OP_TEXT]

    def close_code(self):
        self.pump()
        for opcode, payload in self.messages:
            if opcode == ws.OP_CLOSE:
                return struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else None
        return None


class WebCase(unittest.TestCase):
    extra_origins = ()
    config = {}

    def setUp(self):
        self.server = make_server(**self.config)
        self.site = make_site(self.server, self.extra_origins, files=files())

    def peer(self) -> Peer:
        return Peer(self.site)

    def logged_in(self, name="alice") -> Peer:
        peer = self.peer()
        self.assertEqual(peer.upgrade(), 101)
        self.assertEqual(peer.request("hello", 1, version=1, client="web-test")["type"], "ok")
        self.assertEqual(peer.request("register", 2, username=name, password=PASSWORD)["type"], "ok")
        reply = peer.request("login", 3, username=name, password=PASSWORD)
        self.assertEqual(reply["type"], "ok", reply)
        return peer


class StaticFileTests(WebCase):

    def test_index_with_security_headers(self):
        status, headers, body = self.peer().get("/")
        self.assertEqual(status, 200)
        self.assertIn(b'<script type="module" src="js/main.js"></script>', body)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        csp = headers["content-security-policy"]
        self.assertEqual(csp, CONTENT_SECURITY_POLICY)
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        self.assertEqual(directives["default-src"], "'none'")
        self.assertEqual(directives["script-src"], "'self'")
        self.assertEqual(directives["style-src"], "'self'")
        self.assertEqual(directives["frame-ancestors"], "'none'")
        self.assertNotIn("unsafe", csp)
        self.assertNotIn("http", csp)          # no other origin, no scheme-wide source
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertEqual(headers["referrer-policy"], "no-referrer")
        self.assertEqual(headers["server"], "chat")     # not Twisted's name and version
        self.assertNotIn("set-cookie", headers)

    def test_no_inline_script_or_style_in_the_page(self):
        body = self.peer().get("/")[2].decode("utf-8")
        self.assertNotIn("<style", body)
        self.assertNotIn("style=", body)
        for tag in body.split("<script")[1:]:
            self.assertIn(" src=", tag.split(">")[0])
            self.assertTrue(tag.split(">", 1)[1].startswith("</script"))
        self.assertIsNone(re.search(r"\son[a-z]+\s*=", body))     # no onclick= and such
        self.assertNotIn("javascript:", body)

    def test_nothing_from_another_origin(self):
        for path, entry in files().items():
            if path.endswith((b".html", b".js", b".css")):
                text = entry.body.decode("utf-8")
                for marker in ("http://", "https://", "//cdn", "@import url("):
                    self.assertNotIn(marker, text.replace("http://127.0.0.1", ""),
                                     f"{path!r} names {marker}")

    def test_scripts_and_styles_have_their_types(self):
        status, headers, body = self.peer().get("/js/main.js")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/javascript; charset=utf-8")
        self.assertEqual(headers["content-security-policy"], CONTENT_SECURITY_POLICY)
        status, headers, _ = self.peer().get("/css/app.css")
        self.assertEqual((status, headers["content-type"]), (200, "text/css; charset=utf-8"))

    def test_stickers_are_served(self):
        status, headers, body = self.peer().get("/stickers/index.json")
        self.assertEqual(status, 200)
        first = json.loads(body)["sets"][0]["stickers"][0]
        status, headers, png = self.peer().get("/stickers/" + first["file"])
        self.assertEqual((status, headers["content-type"]), (200, "image/png"))
        self.assertTrue(png.startswith(b"\x89PNG"))

    def test_etag_revalidation(self):
        status, headers, _ = self.peer().get("/js/main.js")
        status, again, body = self.peer().get("/js/main.js", f"If-None-Match: {headers['etag']}")
        self.assertEqual((status, body), (304, b""))

    def test_unknown_paths_and_traversal_are_404_with_headers(self):
        for path in ("/nope", "/../setup.cfg", "/js/", "/js", "/%2e%2e/setup.cfg",
                     "/stickers/../../server/core.py", "/.hidden", "/index.html/"):
            status, headers, body = self.peer().get(path)
            self.assertEqual(status, 404, path)
            self.assertEqual(headers["x-content-type-options"], "nosniff")
            self.assertEqual(headers["content-security-policy"], CONTENT_SECURITY_POLICY)

    def test_other_methods_are_405(self):
        status, headers, _ = self.peer().get("/", method="DELETE")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")

    def test_head(self):
        status, headers, body = self.peer().get("/", method="HEAD")
        self.assertEqual((status, body), (200, b""))


class RequestBoundTests(WebCase):

    def test_a_request_body_is_refused_unread(self):
        peer = self.peer()
        peer.raw(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 5000)
        self.assertTrue(peer.response().startswith(b"HTTP/1.1 413 "))
        self.assertTrue(peer.transport.disconnecting)
        peer.raw(b"x" * 100000)       # what follows is not read (no buffer grows)
        self.assertEqual(peer.response(), b"")

    def test_a_chunked_body_is_refused(self):
        peer = self.peer()
        peer.raw(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        self.assertTrue(peer.response().startswith(b"HTTP/1.1 413 "))
        self.assertTrue(peer.transport.disconnecting)

    def test_oversized_headers_are_refused(self):
        peer = self.peer()
        peer.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: a\r\n" * 5
                 + (b"X-Pad: " + b"a" * 1000 + b"\r\n") * 20 + b"\r\n")
        self.assertTrue(peer.response().startswith(b"HTTP/1.1 400 "))
        self.assertTrue(peer.transport.disconnecting)
        # one line longer than a whole head may be: closed at once
        peer = self.peer()
        peer.raw(b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * 20000)
        self.assertTrue(peer.transport.disconnecting)

    def test_too_many_headers_are_refused(self):
        peer = self.peer()
        peer.raw(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100 + b"\r\n")
        self.assertTrue(peer.response().startswith(b"HTTP/1.1 400 "))

    def test_ws_without_upgrade_is_426(self):
        status, headers, _ = self.peer().get("/ws")
        self.assertEqual(status, 426)
        self.assertEqual(headers["x-frame-options"], "DENY")


class OriginTests(WebCase):
    extra_origins = ("https://chat.example.org",)

    def test_own_origin_is_accepted(self):
        self.assertEqual(self.peer().upgrade(), 101)

    def test_no_origin_is_accepted(self):
        # not a browser: such a client could send any Origin it liked
        self.assertEqual(self.peer().upgrade(origin=None), 101)

    def test_another_origin_is_refused(self):
        for origin in ("http://evil.example", "http://127.0.0.1:9999", "null",
                       "https://127.0.0.1.evil.example:8080", "not an origin"):
            peer = self.peer()
            self.assertEqual(peer.upgrade(origin=origin), 403, origin)
            self.assertIn("Content-Security-Policy", peer.reader.head)

    def test_the_option_adds_an_origin(self):
        self.assertEqual(self.peer().upgrade(origin="https://chat.example.org"), 101)
        self.assertEqual(self.peer().upgrade(origin="https://CHAT.example.org:443"), 101)
        self.assertEqual(self.peer().upgrade(origin="https://chat.example.org:8443"), 403)

    def test_behind_a_tls_proxy(self):
        # the proxy passes Host on; the page is https, the door behind it plain
        self.assertEqual(self.peer().upgrade(origin="https://chat.school.example",
                                             host="chat.school.example"), 101)

    def test_policy_rules(self):
        policy = OriginPolicy()
        self.assertIsNone(policy.refusal("http://[::1]:8080", "[::1]:8080", False))
        self.assertIsNone(policy.refusal("https://host", "host:443", True))
        self.assertIsNotNone(policy.refusal("http://host", "host:8080", False))
        self.assertEqual(normalise_origin("HTTP://Host:80/"), "http://host")
        for bad in ("ftp://x", "http://x/path", "http://", "x"):
            self.assertRaises(ValueError, normalise_origin, bad)



class TrustedProxyTests(WebCase):
    """``--web-trusted-proxy``: whose address a connection has behind a reverse proxy."""

    config = {"max_connections_per_address": 2}
    proxies = ("127.0.0.1", "10.0.0.0/8")

    def setUp(self):
        super().setUp()
        self.site = make_site(self.server, files=files(), trusted_proxies=self.proxies)

    def through(self, host, *forwarded, name=None):
        """A WebSocket from ``host`` with these X-Forwarded-For lines; logged in as ``name``."""
        peer = Peer(self.site, host=host)
        peer.raw(ws.handshake(extra=[f"X-Forwarded-For: {v}" for v in forwarded]))
        peer.pump()
        if peer.reader.status != 101:
            return peer
        peer.send({"type": "hello", "id": 1, "version": 1, "client": "web-test"})
        peer.pump()
        if name is not None:
            self.assertEqual(peer.request("register", 2, username=name, password=PASSWORD)["type"], "ok")
            self.assertEqual(peer.request("login", 3, username=name, password=PASSWORD)["type"], "ok")
        return peer

    def session_addresses(self):
        admin = user(self.server, "root", register=False)     # the first account: an admin
        return {s["user"]: (s["address"], s["port"]) for s in admin.ok("sessions")["sessions"]}

    def test_a_trusted_proxy_names_the_client(self):
        user(self.server, "root")
        self.through("127.0.0.1", "203.0.113.7", name="alice")
        self.through("10.1.2.3", "198.51.100.9, 10.0.0.5", name="bob")     # two proxies
        self.through("127.0.0.1", "[2001:db8::7]:4711", name="carol")
        addresses = self.session_addresses()
        self.assertEqual(addresses["alice"], ("203.0.113.7", 0))
        self.assertEqual(addresses["bob"], ("198.51.100.9", 0))
        self.assertEqual(addresses["carol"], ("2001:db8::7", 0))

    def test_a_client_cannot_choose_its_address(self):
        user(self.server, "root")
        # straight to the port: the header is the client's own and is ignored
        self.through("192.0.2.20", "203.0.113.7", name="alice")
        # through the proxy, a made-up entry on the left of the proxy's own is ignored too
        self.through("127.0.0.1", "1.2.3.4, 203.0.113.8", name="bob")
        addresses = self.session_addresses()
        self.assertEqual(addresses["alice"][0], "192.0.2.20")
        self.assertEqual(addresses["bob"][0], "203.0.113.8")

    def test_an_unreadable_header_leaves_the_proxy(self):
        user(self.server, "root")
        self.through("127.0.0.1", "unknown", name="alice")
        self.through("127.0.0.1", name="bob")          # no header at all
        addresses = self.session_addresses()
        self.assertEqual(addresses["alice"][0], "127.0.0.1")
        self.assertEqual(addresses["bob"][0], "127.0.0.1")

    def test_per_address_limits_count_the_forwarded_clients(self):
        # at most 2 per address: five users behind one proxy are five addresses
        peers = [self.through("127.0.0.1", f"203.0.113.{i}") for i in range(5)]
        self.assertTrue(all(p.reader.status == 101 and p.close_code() is None for p in peers))
        # and one address through the proxy is still held to the limit
        self.through("127.0.0.1", "203.0.113.0")
        third = self.through("127.0.0.1", "203.0.113.0")
        self.assertEqual([m["code"] for m in third.texts() if m["type"] == "bye"],
                         ["too_many_connections"])

    def test_without_the_option_the_header_is_ignored(self):
        self.site = make_site(self.server, files=files())
        user(self.server, "root")
        self.through("127.0.0.1", "203.0.113.7", name="alice")
        self.assertEqual(self.session_addresses()["alice"][0], "127.0.0.1")

    def test_the_option(self):
        from chat.server.tap import Options
        options = Options()
        options.parseOptions(["--lite", "--web-port", "tcp:8080", "--web-trusted-proxy",
                              "127.0.0.1", "--web-trusted-proxy", "10.0.0.0/8"])
        self.assertEqual(options["web-trusted-proxy"], ["127.0.0.1/32", "10.0.0.0/8"])
        with self.assertRaises(SystemExit) as caught:
            Options().parseOptions(["--lite", "--web-trusted-proxy", "proxy.example"])
        self.assertIn("bad --web-trusted-proxy", str(caught.exception))


class WebSocketProtocolTests(WebCase):

    def test_browser_and_native_client_talk(self):
        bob = user(self.server, "bob")
        alice = self.logged_in("alice")
        reply = alice.request("send", 4, to="#lobby", text="hello 你好 👋", cid="w-1")
        self.assertEqual(reply["type"], "ok", reply)
        [event] = bob.events("message")
        self.assertEqual((event["msg"]["from"], event["msg"]["text"]), ("alice", "hello 你好 👋"))
        bob.ok("send", to="@alice", text="hi back", cid="n-1")
        messages = [m["msg"] for m in alice.texts() if m.get("type") == "message"]
        self.assertEqual([m["text"] for m in messages], ["hello 你好 👋", "hi back"])
        self.assertEqual(messages[1]["conv"], "@bob")
        # one WebSocket message per frame: every text message is one JSON object
        self.assertTrue(all(op in (ws.OP_TEXT,) for op, _ in alice.messages))

    def test_resent_cid_is_stored_once(self):
        alice = self.logged_in("alice")
        first = alice.request("send", 4, to="#lobby", text="once", cid="w-9")["data"]
        again = alice.request("send", 5, to="#lobby", text="once", cid="w-9")["data"]
        self.assertEqual(again["msg_id"], first["msg_id"])
        self.assertTrue(again["duplicate"])

    def test_body_frames_are_binary_messages(self):
        alice = self.logged_in("alice")
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 300      # 76,808 bytes
        alice.send({"type": "set_avatar", "id": 7, "avatar_type": "image/png",
                    "body": len(png)})
        for start in range(0, len(png), 65536):
            alice.raw(ws.binary(b"\x01" + struct.pack(">I", 7) + png[start:start + 65536]))
        self.assertEqual([m for m in alice.texts() if m.get("id") == 7][0]["type"], "ok")
        alice.messages.clear()
        alice.send({"type": "get_avatar", "id": 8, "user": "alice"})
        alice.pump()
        ok = json.loads(alice.messages[0][1])
        self.assertEqual((ok["type"], ok["body"]), ("ok", len(png)))
        bodies = [p for op, p in alice.messages if op == ws.OP_BINARY]
        self.assertTrue(bodies)
        self.assertTrue(all(p[:5] == b"\x01" + struct.pack(">I", 8) for p in bodies))
        self.assertEqual(b"".join(p[5:] for p in bodies), png)

    def test_heartbeat_and_timeout_as_on_tcp(self):
        peer = self.logged_in()
        self.server.clock.advance(31)
        self.assertIn({"type": "ping"}, peer.texts())
        self.server.clock.advance(60)
        byes = [m for m in peer.texts() if m["type"] == "bye"]
        self.assertEqual(byes[0]["code"], "timeout")
        self.assertEqual(peer.close_code(), 1000)

    def test_closing_the_websocket_ends_the_session(self):
        bob = user(self.server, "bob")
        alice = self.logged_in("alice")
        bob.presence_changes()
        self.assertEqual(self.server.limits.connections.total, 2)
        alice.raw(ws.client_frame(ws.OP_CLOSE, struct.pack(">H", 1000)))
        self.assertEqual(alice.close_code(), 1000)          # the close handshake's answer
        alice.transport.protocol.connectionLost(_done())    # the browser then closes TCP
        changes = bob.presence_changes()
        self.assertIn({"user": "alice", "online": False}, [
            {k: c[k] for k in ("user", "online")} for c in changes])
        self.assertEqual(self.server.limits.connections.total, 1)

    def test_a_lost_tcp_stream_ends_the_session(self):
        alice = self.logged_in("alice")
        alice.transport.protocol.connectionLost(_done())
        self.assertEqual(self.server.limits.connections.total, 0)
        self.assertEqual(self.server.presence.online_count() if hasattr(
            self.server.presence, "online_count") else 0, 0)


class WebSocketFlowControlTests(WebCase):
    config = {"send_rate": 0, "max_output_buffer": 64 * 1024}

    def test_a_browser_that_does_not_read_is_dropped_like_a_tcp_peer(self):
        bob = user(self.server, "bob")
        alice = self.logged_in("alice")
        # the connection's output watch is the TCP stream's producer, under the WebSocket
        watch = alice.transport.producer
        self.assertIs(watch, alice.transport.protocol.chat.output)
        watch.pauseProducing()            # what Twisted does when the socket buffer is full
        for i in range(200):
            bob.ok("send", to="#lobby", text="x" * 1000, cid=f"flood-{i}")
            if alice.transport.disconnecting or alice.transport.protocol.chat.state.value == "closed":
                break
        chat = alice.transport.protocol.chat
        self.assertEqual(chat.state.value, "closed")
        self.assertLess(i, 100)           # dropped after about 64 KiB, not after everything
        bye = [m for m in alice.texts() if m.get("type") == "bye"]
        self.assertEqual(bye[-1]["code"], "slow_reader")

    def test_a_download_is_a_producer_on_the_stream_below(self):
        alice = self.logged_in("alice")
        self.assertIsNotNone(alice.transport.producer)
        self.assertEqual(type(alice.transport.producer).__name__, "OutputBacklog")


class WebSocketBadInputTests(WebCase):

    def opened(self) -> Peer:
        peer = self.peer()
        self.assertEqual(peer.upgrade(), 101)
        peer.request("hello", 1, version=1)
        return peer

    def test_oversized_message_is_too_large_and_closed_before_its_payload(self):
        peer = self.opened()
        # only the frame's header: the announced length alone gets the refusal
        peer.raw(ws.client_frame(ws.OP_TEXT, b"", length=65537 + 100)[:14])
        errors = [m for m in peer.texts() if m["type"] == "error"]
        self.assertEqual(errors[-1]["code"], "too_large")
        self.assertIsNone(errors[-1]["id"])
        self.assertIn("over the limit of 65536", errors[-1]["message"])
        self.assertEqual(peer.close_code(), 1009)

    def test_after_login_a_body_frame_may_be_larger(self):
        peer = self.logged_in()
        peer.raw(ws.binary(b"\x01" + struct.pack(">I", 99) + b"x" * 100000))
        errors = [m for m in peer.texts() if m["type"] == "error"]
        self.assertEqual(errors[-1]["code"], "bad_request")     # unknown request 99: read
        self.assertIn("unknown request 99", errors[-1]["message"])
        self.assertIsNone(peer.close_code())
        peer.raw(ws.client_frame(ws.OP_BINARY, b"", length=262208 + 1)[:14])
        self.assertEqual([m for m in peer.texts() if m["type"] == "error"][-1]["code"],
                         "too_large")
        self.assertEqual(peer.close_code(), 1009)

    def test_bad_json_and_bad_utf8_are_bad_request(self):
        peer = self.opened()
        peer.raw(ws.text(b"{not json"))
        peer.raw(ws.client_frame(ws.OP_TEXT, b'{"type":"ping","id":"\xff\xfe"}'))
        peer.raw(ws.text(b'["a list"]'))
        errors = [m for m in peer.texts() if m["type"] == "error"]
        self.assertEqual([e["code"] for e in errors], ["bad_request"] * 3)
        self.assertIn("not valid UTF-8", errors[1]["message"])
        self.assertIsNone(peer.close_code())
        self.assertEqual(peer.request("ping", 2)["type"], "ok")   # the connection goes on

    def test_wrong_message_kinds_are_bad_request(self):
        peer = self.opened()
        peer.raw(ws.binary(encode_object({"type": "ping", "id": 3})))
        peer.raw(ws.text(b"\x01\x00\x00\x00\x05abc"))
        peer.raw(ws.text(b"hello"))
        peer.raw(ws.binary(b""))
        errors = [m for m in peer.texts() if m["type"] == "error"]
        self.assertEqual([e["code"] for e in errors], ["bad_request"] * 4)
        self.assertIn("binary message must be a body frame", errors[0]["message"])
        self.assertIn("text message must be a control frame", errors[1]["message"])

    def test_unknown_type_and_missing_fields(self):
        peer = self.opened()
        self.assertEqual(peer.request("fly", 5)["code"], "unknown_type")
        self.assertEqual(peer.request("send", 6)["code"], "bad_request")
        self.assertEqual(peer.request("send", 7, to="#lobby", text="x", cid="c")["code"],
                         "not_logged_in")

    def test_abuse_closes(self):
        peer = self.opened()
        for _ in range(20):
            peer.raw(ws.text(b"{"))
        byes = [m for m in peer.texts() if m["type"] == "bye"]
        self.assertEqual(byes[0]["code"], "abuse")
        self.assertEqual(peer.close_code(), 1000)

    def test_login_timeout(self):
        peer = self.opened()
        self.server.clock.advance(self.server.config.login_timeout + 1)
        self.assertEqual([m for m in peer.texts() if m["type"] == "bye"][0]["code"],
                         "login_timeout")


def _done():
    from twisted.internet.error import ConnectionDone
    from twisted.python.failure import Failure
    return Failure(ConnectionDone())
