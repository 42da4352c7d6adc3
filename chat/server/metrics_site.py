"""The ``--metrics`` listener: ``GET /metrics`` (Prometheus text format) and ``GET /health``.

``/health`` is for load balancers and orchestrators: 200 ``ok`` once the server has loaded its
state and its storage answers a query within :data:`HEALTH_TIMEOUT`; 503 with the reason while
it is starting or when the database cannot be reached. Plain HTTP, no authentication: the
endpoint belongs on loopback or an operators' network (docs/DEPLOY.md).
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web import pages, resource, server as web_server

from chat.server.metrics import PrometheusMetrics

#: seconds: a storage that has not answered the health check's query by then is unreachable
HEALTH_TIMEOUT = 2.0


class _GetOnly(resource.Resource):
    """GET (and HEAD) only; anything else is a plain 405."""

    def render(self, request):
        if request.method not in (b"GET", b"HEAD"):
            request.setResponseCode(405)
            request.setHeader(b"allow", b"GET, HEAD")
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"method not allowed: GET only\n"
        return super().render(request)


class _Metrics(_GetOnly):
    isLeaf = True

    def __init__(self, metrics: PrometheusMetrics):
        super().__init__()
        self._metrics = metrics

    def render_GET(self, request):
        body, content_type = self._metrics.exposition()
        request.setHeader(b"content-type", content_type.encode("ascii"))
        request.setHeader(b"cache-control", b"no-store")
        return body


class _Health(_GetOnly):
    """200 ``ok`` when the server is ready and its storage answers; 503 with why if not."""

    isLeaf = True
    log = Logger()

    def __init__(self, server, ready, clock):
        super().__init__()
        self._server = server
        self._ready = ready
        self._clock = clock

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        if not self._ready():
            request.setResponseCode(503)
            return b"starting: the server is loading its state\n"
        d = defer.maybeDeferred(self._server.storage.count_accounts)
        d.addTimeout(HEALTH_TIMEOUT, self._clock)
        d.addCallbacks(lambda _: (200, b"ok\n"), self._unreachable)
        d.addCallback(self._answer, request)
        return web_server.NOT_DONE_YET

    def _unreachable(self, failure):
        self.log.warn("health check: the storage did not answer: {why}",
                      why=failure.getErrorMessage())
        return 503, b"unavailable: the storage does not answer\n"

    @staticmethod
    def _answer(result, request):
        code, body = result
        if request.finished or request._disconnected:
            return
        request.setResponseCode(code)
        request.write(body)
        request.finish()


class _Root(_GetOnly):
    def __init__(self, metrics, server, ready, clock):
        super().__init__()
        self.putChild(b"metrics", _Metrics(metrics))
        self.putChild(b"health", _Health(server, ready, clock))

    def getChild(self, path, request):
        return pages.notFound("Not found", "This endpoint has /metrics and /health.")

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"chat server metrics: /metrics (Prometheus), /health\n"


class _QuietSite(web_server.Site):
    """No access log line per request: a scraper asks every few seconds, for ever."""

    def log(self, request):
        pass


def metrics_site(metrics: PrometheusMetrics, server, ready, clock) -> web_server.Site:
    """The ``--metrics`` listener's factory. ``ready()`` says whether the server has loaded
    its state (the listener answers from the start, so a balancer sees "starting")."""
    # the clock is the reactor in production: the idle timeout of an HTTP connection uses it
    site = _QuietSite(_Root(metrics, server, ready, clock), reactor=clock)
    site.displayTracebacks = False
    site.noisy = False
    return site
