"""--metrics end to end: the real ``twistd chatserver`` with ``--metrics``, scraped over HTTP on
loopback while a client logs in and talks; /health follows the storage (PostgreSQL stopped
under a running server is 503, back again 200)."""

import re
import shutil
import tempfile

from twisted.internet import defer, reactor
from twisted.trial import unittest
from twisted.web.client import Agent, readBody

from tests.support import pgcluster
from tests.support.server_process import ServerProcess, free_port
from tests.support.wire import login_client, sleep

FAST_HASH = ["--hash-time", "1", "--hash-memory", "8"]
PASSWORD = "alice-Pa55word-7f3k"


@defer.inlineCallbacks
def http_get(port: int, path: str):
    """(status, body text) of GET http://127.0.0.1:port/path."""
    response = yield Agent(reactor).request(b"GET", f"http://127.0.0.1:{port}{path}".encode())
    body = yield readBody(response)
    return response.code, body.decode("utf-8")


def series(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name) + (r"\{" + re.escape(labels) + r"\}" if labels else "") + r" (\S+)"
    match = re.search("^" + pattern + "$", text, re.M)
    return float(match.group(1)) if match else 0.0


@defer.inlineCallbacks
def wait_for(condition, timeout: float = 15.0):
    """Poll ``condition()`` (may return a Deferred) every 50 ms until it is true."""
    waited = 0.0
    while True:
        if (yield defer.maybeDeferred(condition)):
            return
        if waited >= timeout:
            raise AssertionError(f"condition not met in {timeout} s")
        yield sleep(0.05)
        waited += 0.05


class MetricsEndToEndTests(unittest.TestCase):
    timeout = 60

    def setUp(self):
        self.base = tempfile.mkdtemp(prefix="chat-metrics-")
        self.addCleanup(shutil.rmtree, self.base, True)
        self.metrics_port = free_port()

    def start(self, *args):
        server = ServerProcess(self.base, args=[*FAST_HASH, "--name", "node-a", "--metrics",
                                                f"tcp:{self.metrics_port}:interface=127.0.0.1",
                                                *args])
        self.addCleanup(server.stop)
        return server.start()

    @defer.inlineCallbacks
    def wait_healthy(self, server):
        """Until /health says 200 ok: a balancer's view (the native port's backlog takes
        connections a moment before the state is loaded, and /health says "starting")."""
        answers = []

        @defer.inlineCallbacks
        def healthy():
            answer = yield http_get(self.metrics_port, "/health")
            answers.append(answer)
            return answer == (200, "ok\n")
        try:
            yield wait_for(healthy)
        except AssertionError:
            self.fail(f"/health never said ok: {answers[-3:]}\n{server.describe()}")
        self.assertTrue(all(a[0] in (200, 503) for a in answers), answers)

    @defer.inlineCallbacks
    def test_a_first_session_shows_in_the_metrics(self):
        server = yield self.start()
        yield self.wait_healthy(server)
        alice = yield login_client(server.port, "alice", PASSWORD)
        self.addCleanup(alice.close)
        yield alice.request("send", to="#lobby", text="hello", cid="m1")
        _, text = yield http_get(self.metrics_port, "/metrics")
        self.assertEqual(series(text, "chat_node_info", 'node="node-a"'), 1.0)
        self.assertEqual(series(text, "chat_connections", 'transport="native"'), 1.0)
        self.assertEqual(series(text, "chat_accounts_online"), 1.0)
        self.assertEqual(series(text, "chat_messages_stored_total"), 1.0)
        self.assertGreaterEqual(series(text, "chat_store_latency_seconds_count"), 1.0)

    @defer.inlineCallbacks
    def test_health_is_503_once_the_database_is_gone(self):
        cluster = pgcluster.PostgresCluster()     # a private one: this test stops it
        self.addCleanup(cluster.stop)
        cluster.start()
        server = yield self.start("--database", cluster.dsn(cluster.new_database()))
        yield self.wait_healthy(server)
        cluster.stop()

        @defer.inlineCallbacks
        def unhealthy():
            status, body = yield http_get(self.metrics_port, "/health")
            return status == 503 and "storage" in body
        yield wait_for(unhealthy)
        self.assertTrue(server.running, "a lost database is a 503, not a crash")
