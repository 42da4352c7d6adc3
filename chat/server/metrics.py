"""The figures an operator scrapes (``--metrics``): Prometheus metrics and a health answer.

The server's parts report through one small interface, :class:`Metrics`: a login, a batch of
stored messages, a fan-out, file bytes, an error sent back. :class:`NullMetrics` (the default,
when ``--metrics`` is not given) does nothing, so a server that is not scraped neither imports
``prometheus_client`` (50 ms of start-up) nor pays for a counter. :class:`PrometheusMetrics`
keeps ``prometheus_client`` collectors in a registry of its own (several servers may share a
test process), and reads what is already in the server's memory (connections by transport,
who is logged in) only when it is scraped, so the hot paths count once per batch or per event,
never per receiver.

The HTTP side, :func:`chat.server.metrics_site.metrics_site`, answers ``GET /metrics`` (the text exposition format) and
``GET /health``: 200 ``ok`` once the server has loaded its state and its storage answers a
query, 503 with the reason before that or when the database cannot be reached, which is what a
load balancer's health check wants.
"""

from chat.protocol.errors import RATE_LIMITED

#: buckets of the store latency (arrival to commit) and fan-out histograms, in seconds: a
#: commit on a disk with a write cache is under a millisecond, one on a busy disk tens
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
FANOUT_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                  0.01, 0.025, 0.1)


class Metrics:
    """What the server's parts report. Every method is cheap and never raises."""

    enabled = False      # False: callers may skip measuring what they would report

    def login(self, transport: str) -> None:
        """An accepted login (account or guest) through ``transport`` (native, irc, web)."""

    def stored(self, count: int, seconds: float) -> None:
        """A batch of ``count`` messages committed, ``seconds`` after its first arrived."""

    def delivered(self, receivers: int, seconds: float) -> None:
        """One event handed to ``receivers`` connections in ``seconds``."""

    def file_bytes(self, direction: str, count: int) -> None:
        """``count`` bytes of files received (``in``) or sent (``out``)."""

    def error(self, code: str) -> None:
        """An error reply with ``code`` (native protocol: the TCP and web doors)."""


class NullMetrics(Metrics):
    """No metrics: ``--metrics`` was not given."""


class PrometheusMetrics(Metrics):
    """Counters and histograms in a registry of their own, plus what is read when scraped."""

    enabled = True

    def __init__(self, node: str):
        # imported here: a server that is not scraped does not pay for the import
        from prometheus_client import (
            CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics)
        disable_created_metrics()   # no *_created series: they double what a scrape carries
        self.registry = registry = CollectorRegistry()
        self.node = node
        self._server = None
        Gauge("chat_node_info", "This server node; the value is always 1.", ["node"],
              registry=registry).labels(node=node).set(1)
        self._logins = Counter("chat_logins", "Accepted logins, by transport.", ["transport"],
                               registry=registry)
        self._stored = Counter("chat_messages_stored",
                               "Messages committed to storage (acknowledged after this).",
                               registry=registry)
        self._store_latency = Histogram(
            "chat_store_latency_seconds",
            "From the arrival of a batch's first message to the batch's commit.",
            buckets=LATENCY_BUCKETS, registry=registry)
        self._deliveries = Counter("chat_deliveries", "Events handed to a receiving connection.",
                                   registry=registry)
        self._fanout_latency = Histogram(
            "chat_fanout_seconds", "Time to hand one event to all of its receivers.",
            buckets=FANOUT_BUCKETS, registry=registry)
        self._file_bytes = Counter("chat_file_bytes", "File bytes received (in) and sent (out).",
                                   ["direction"], registry=registry)
        self._errors = Counter("chat_errors", "Error replies, by code.", ["code"],
                               registry=registry)
        self._rate_limited = Counter("chat_rate_limit_hits", "Requests refused by a rate limit.",
                                     registry=registry)
        for direction in ("in", "out"):
            self._file_bytes.labels(direction=direction)   # both series exist from the start
        registry.register(_LiveCollector(self))

    def watch(self, server) -> None:
        """Read connections and sessions from ``server`` when scraped."""
        self._server = server

    def login(self, transport):
        self._logins.labels(transport=transport).inc()

    def stored(self, count, seconds):
        self._stored.inc(count)
        self._store_latency.observe(seconds)

    def delivered(self, receivers, seconds):
        if receivers:
            self._deliveries.inc(receivers)
        self._fanout_latency.observe(seconds)

    def file_bytes(self, direction, count):
        self._file_bytes.labels(direction=direction).inc(count)

    def error(self, code):
        self._errors.labels(code=code).inc()
        if code == RATE_LIMITED:
            self._rate_limited.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition of every metric, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def transport_of(connection) -> str:
    """The door a connection came through: ``native``, ``irc`` or ``web`` (its ``kind``)."""
    if getattr(connection, "web", False):
        return "web"
    return getattr(connection, "kind", "native")


class _LiveCollector:
    """Figures read from the server's memory at scrape time: nothing to keep up to date."""

    def __init__(self, metrics: PrometheusMetrics):
        self._metrics = metrics

    def describe(self):
        return []      # the registry must not call collect() while the server is not there

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        server = self._metrics._server
        connections = GaugeMetricFamily("chat_connections", "Open connections, by transport.",
                                        labels=["transport"])
        sessions = GaugeMetricFamily("chat_sessions",
                                     "Logged-in connections (accounts and guests), by transport.",
                                     labels=["transport"])
        online = GaugeMetricFamily("chat_accounts_online",
                                   "Accounts with at least one logged-in connection.")
        open_by, logged_by = {"native": 0}, {"native": 0}
        count_online = 0
        if server is not None:
            for connection in list(server.connections):
                name = transport_of(connection)
                open_by[name] = open_by.get(name, 0) + 1
                if getattr(connection, "session", None) is not None:
                    logged_by[name] = logged_by.get(name, 0) + 1
            count_online = server.presence.count
        for name, count in sorted(open_by.items()):
            connections.add_metric([name], count)
        for name, count in sorted(logged_by.items()):
            sessions.add_metric([name], count)
        online.add_metric([], count_online)
        yield connections
        yield sessions
        yield online
