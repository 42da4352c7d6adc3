"""An independent IRC client for end-to-end tests: twisted.words' IRCClient, recording what
it is told as events that tests wait for (like tests.support.wire does for native clients).
"""

from twisted.internet import defer, reactor as _global_reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory
from twisted.words.protocols import irc


class RecordingIRCClient(irc.IRCClient):
    """IRCClient whose callbacks become ``(kind, ...)`` events; ``next_event`` waits."""

    def __init__(self, nickname, password, clock):
        self.nickname = nickname
        self.password = password       # PASS: the account's password
        self.clock = clock
        self.events = []
        self._waiters = []
        self.signed_on = defer.Deferred()
        self.lost = defer.Deferred()
        self.raw_lines = []

    def _event(self, *event):
        self.events.append(event)
        for waiter in list(self._waiters):
            kind, match, d, timer = waiter
            if event[0] == kind and match(event):
                self._waiters.remove(waiter)
                timer.cancel()
                self.events.remove(event)
                d.callback(event)
                return

    def next_event(self, kind, match=lambda event: True, timeout=5.0):
        for event in self.events:
            if event[0] == kind and match(event):
                self.events.remove(event)
                return defer.succeed(event)
        d = defer.Deferred()
        waiter = [kind, match, d, None]

        def expired():
            self._waiters.remove(waiter)
            d.errback(AssertionError(f"no IRC event {kind!r} within {timeout} s; got "
                                     f"{self.events!r}"))
        waiter[3] = self.clock.callLater(timeout, expired)
        self._waiters.append(waiter)
        return d

    # what IRCClient tells
    def lineReceived(self, line):
        self.raw_lines.append(line)
        super().lineReceived(line)

    def signedOn(self):
        self.signed_on.callback(self)

    def connectionLost(self, reason):
        super().connectionLost(reason)
        self._event("lost")
        if not self.lost.called:
            self.lost.callback(None)

    def joined(self, channel):
        self._event("joined", channel)

    def left(self, channel):
        self._event("left", channel)

    def privmsg(self, user, channel, message):
        self._event("privmsg", user.split("!")[0], channel, message)

    def noticed(self, user, channel, message):
        self._event("notice", user.split("!")[0], channel, message)

    def userJoined(self, user, channel):
        self._event("userJoined", user.split("!")[0], channel)

    def userLeft(self, user, channel):
        self._event("userLeft", user.split("!")[0], channel)

    def userQuit(self, user, message):
        self._event("userQuit", user.split("!")[0], message)

    def topicUpdated(self, user, channel, topic):
        self._event("topic", user.split("!")[0], channel, topic)

    def irc_ERR_NICKNAMEINUSE(self, prefix, params):
        self._event("nickInUse", params)

    def irc_unknown(self, prefix, command, params):
        self._event("unknown", command, params)


@defer.inlineCallbacks
def irc_login(port, nickname, password, reactor=None, timeout=10):
    """Connect to ``127.0.0.1:port``, register with PASS; fires with the signed-on client."""
    reactor = reactor or _global_reactor
    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=timeout)
    client = yield endpoint.connect(Factory.forProtocol(
        lambda: RecordingIRCClient(nickname, password, reactor)))
    timer = reactor.callLater(timeout, lambda: client.signed_on.called or client.signed_on
                              .errback(AssertionError(f"{nickname} not signed on; lines: "
                                                      f"{client.raw_lines!r}")))
    yield client.signed_on
    if timer.active():
        timer.cancel()
    return client
