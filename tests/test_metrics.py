"""--metrics: what the Prometheus exposition counts, and /health's answers (no sockets; the
real listener is in test_metrics_e2e)."""

import re

from twisted.internet import defer, task
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.server.metrics import NullMetrics, PrometheusMetrics, transport_of
from chat.server.metrics_site import HEALTH_TIMEOUT, metrics_site
from tests.harness import make_server, user
from tests.test_server_files import download, random_bytes, send_file


def sample(text: str, name: str, **labels) -> float:
    """The value of one series in an exposition (0.0 if it is not there)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match.group(1) != name:
            continue
        have = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
        if have == want:
            return float(match.group(3))
    return 0.0


def scrape(metrics) -> str:
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain"), content_type
    return body.decode("utf-8")


class CountsTests(unittest.TestCase):
    def setUp(self):
        self.metrics = PrometheusMetrics(node="node-a")
        self.server = make_server(metrics=self.metrics)

    def test_the_node_is_named(self):
        self.assertEqual(sample(scrape(self.metrics), "chat_node_info", node="node-a"), 1.0)

    def test_stored_messages_and_their_latency(self):
        alice = user(self.server, "alice")
        for i in range(3):
            self.assertEqual(alice.request("send", to="#lobby", text=f"hi {i}",
                                           cid=f"c{i}")["type"], "ok")
        # a resend of a stored message is not stored again
        alice.request("send", to="#lobby", text="hi 0", cid="c0")
        text = scrape(self.metrics)
        self.assertEqual(sample(text, "chat_messages_stored_total"), 3.0)
        self.assertGreaterEqual(sample(text, "chat_store_latency_seconds_count"), 1.0)

    def test_connections_and_sessions_are_read_when_scraped(self):
        alice = user(self.server, "alice")
        bob = user(self.server, "bob")
        text = scrape(self.metrics)
        self.assertEqual(sample(text, "chat_connections", transport="native"), 2.0)
        self.assertEqual(sample(text, "chat_sessions", transport="native"), 2.0)
        self.assertEqual(sample(text, "chat_accounts_online"), 2.0)
        bob.disconnect()
        alice.pump()
        text = scrape(self.metrics)
        self.assertEqual(sample(text, "chat_connections", transport="native"), 1.0)
        self.assertEqual(sample(text, "chat_accounts_online"), 1.0)

    def test_logins_by_transport(self):
        user(self.server, "alice")
        user(self.server, "bob")
        self.assertEqual(sample(scrape(self.metrics), "chat_logins_total", transport="native"),
                         2.0)

    def test_deliveries_are_counted_per_receiver_and_timed_per_event(self):
        alice = user(self.server, "alice")
        bob = user(self.server, "bob")
        carol = user(self.server, "carol")
        before = scrape(self.metrics)
        alice.request("send", to="#lobby", text="hi all", cid="d1")
        for client in (bob, carol):
            self.assertEqual(len(client.events("message")), 1)
        after = scrape(self.metrics)
        # one message to three online members of #lobby (the sender gets its copy too)
        self.assertEqual(sample(after, "chat_deliveries_total")
                         - sample(before, "chat_deliveries_total"), 3.0)
        self.assertEqual(sample(after, "chat_fanout_seconds_count")
                         - sample(before, "chat_fanout_seconds_count"), 1.0)

    def test_errors_by_code_and_rate_limit_hits(self):
        alice = user(self.server, "alice")
        self.assertEqual(alice.error("send", to="#nowhere", text="x", cid="e1"), "not_found")
        self.assertEqual(alice.error("send", to="#lobby", text="", cid="e2"), "bad_request")
        text = scrape(self.metrics)
        self.assertEqual(sample(text, "chat_errors_total", code="not_found"), 1.0)
        self.assertEqual(sample(text, "chat_errors_total", code="bad_request"), 1.0)
        self.assertEqual(sample(text, "chat_rate_limit_hits_total"), 0.0)
        codes = [alice.request("send", to="#lobby", text=f"flood {i}", cid=f"f{i}")["type"]
                 for i in range(200)]
        self.assertIn("error", codes)
        text = scrape(self.metrics)
        limited = sample(text, "chat_errors_total", code="rate_limited")
        self.assertGreater(limited, 0)
        self.assertEqual(sample(text, "chat_rate_limit_hits_total"), limited)

    def test_file_bytes_in_and_out(self):
        alice = user(self.server, "alice")
        bob = user(self.server, "bob")
        data = random_bytes(300_000)
        sent = send_file(alice, "@bob", data)
        reply, body = download(bob, sent["file"]["id"])
        self.assertEqual(body, data)
        text = scrape(self.metrics)
        self.assertEqual(sample(text, "chat_file_bytes_total", direction="in"), len(data))
        self.assertEqual(sample(text, "chat_file_bytes_total", direction="out"), len(data))


class TransportNameTests(unittest.TestCase):
    def test_each_door_says_its_name(self):
        class Native:
            pass

        class Irc:
            kind = "irc"

        web = Native()
        web.web = True
        self.assertEqual([transport_of(c) for c in (Native(), Irc(), web)],
                         ["native", "irc", "web"])

    def test_null_metrics_take_every_report(self):
        null = NullMetrics()
        null.login("native")
        null.stored(3, 0.1)
        null.delivered(10, 0.001)
        null.file_bytes("in", 5)
        null.error("bad_request")
        self.assertFalse(null.enabled)


class _Storage:
    """Stands in for a storage whose answers the test controls."""

    def __init__(self):
        self.pending = []

    def count_accounts(self):
        d = defer.Deferred()
        self.pending.append(d)
        return d


class _Server:
    def __init__(self):
        self.storage = _Storage()
        self.connections = set()


def http_request(case, site, data: bytes) -> StringTransport:
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    case.addCleanup(channel.connectionLost, None)
    channel.dataReceived(data)
    return transport


def http_get(case, site, path: str) -> StringTransport:
    return http_request(case, site, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())


def status_and_body(transport: StringTransport) -> tuple[int, bytes]:
    raw = transport.value()
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        chunks, rest = [], body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size, 16)
            if n == 0:
                break
            chunks.append(rest[:n])
            rest = rest[n + 2:]
        body = b"".join(chunks)
    return status, body


class HealthTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.server = _Server()
        self.ready = False
        self.metrics = PrometheusMetrics(node="n1")
        self.site = metrics_site(self.metrics, self.server, lambda: self.ready, self.clock)

    def test_starting_is_503(self):
        status, body = status_and_body(http_get(self, self.site, "/health"))
        self.assertEqual(status, 503)
        self.assertIn(b"starting", body)

    def test_ready_and_the_storage_answers_is_200(self):
        self.ready = True
        transport = http_get(self, self.site, "/health")
        self.assertEqual(transport.value(), b"")           # waits for the storage
        self.server.storage.pending[0].callback(3)
        self.assertEqual(status_and_body(transport), (200, b"ok\n"))

    def test_a_storage_that_does_not_answer_is_503(self):
        self.ready = True
        transport = http_get(self, self.site, "/health")
        self.clock.advance(HEALTH_TIMEOUT + 0.1)
        status, body = status_and_body(transport)
        self.assertEqual(status, 503)
        self.assertIn(b"storage", body)

    def test_a_storage_error_is_503(self):
        self.ready = True
        transport = http_get(self, self.site, "/health")
        self.server.storage.pending[0].errback(RuntimeError("connection refused"))
        self.assertEqual(status_and_body(transport)[0], 503)
        self.flushLoggedErrors()

    def test_metrics_are_served_in_the_text_format(self):
        transport = http_get(self, self.site, "/metrics")
        status, body = status_and_body(transport)
        self.assertEqual(status, 200)
        self.assertIn(b"content-type: text/plain; version=", transport.value().lower())
        self.assertEqual(sample(body.decode(), "chat_node_info", node="n1"), 1.0)

    def test_unknown_paths_and_methods(self):
        self.assertEqual(status_and_body(http_get(self, self.site, "/nothing"))[0], 404)
        transport = http_request(
            self, self.site, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        self.assertEqual(status_and_body(transport)[0], 405)
