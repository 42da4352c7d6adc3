"""The client core over real loopback TCP against the real server process.

A small proxy (tests/support/proxy.py) sits between client and server so that a test can make
the link go silent without closing it (a pulled cable), which only the heartbeat can notice.
"""

from twisted.internet import endpoints, reactor

from chat.client.core import ChatClient, LinkState
from chat.client.listener import ClientListener
from chat.client.outbox import OutState
from tests.support.proxy import Proxy
from tests.support.wire import sleep
from tests.test_e2e import PASSWORDS, E2ECase


class States(ClientListener):
    def __init__(self):
        self.states = []
        self.messages = []

    def on_state(self, state, reason=None, retry_in=None):
        self.states.append(state)

    def on_message(self, msg, live):
        self.messages.append(msg)


class ClientCoreE2E(E2ECase):
    timeout = 90
    # one account sends 3000 messages as fast as it can: far above any person's rate
    server_args = ("--send-rate", "0")

    def make_client(self, port, **options):
        listener = States()
        ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=5)
        client = ChatClient(ep.connect, reactor, listener, client_name="e2e", **options)
        self.addCleanup(client.close)
        return client, listener

    async def until(self, condition, timeout=30.0):
        for _ in range(int(timeout / 0.05)):
            if condition():
                return
            await sleep(0.05)
        self.fail("condition not met in time")

    async def test_a_silent_link_is_given_up_and_reconnected(self):
        proxy = Proxy(self.server.port)
        port = proxy.listen()
        self.addCleanup(proxy.port.stopListening)
        client, listener = self.make_client(port, ping_after=0.5, dead_after=1.5)
        await client.login("alice", PASSWORDS["alice"], register=True)
        proxy.frozen = True
        started = reactor.seconds()
        await self.until(lambda: client.state is LinkState.RECONNECTING, timeout=10)
        self.assertLess(reactor.seconds() - started, 3.0)
        proxy.frozen = False
        await self.until(lambda: client.state is LinkState.ONLINE, timeout=20)

    async def test_kill_9_during_a_stream_loses_and_doubles_nothing(self):
        client, listener = self.make_client(self.server.port)
        await client.login("alice", PASSWORDS["alice"], register=True)
        count = 3000
        proc = self.server.proc
        # SIGKILL the server at the 1000th acknowledgement: the stream is then partly
        # acknowledged, partly stored without an answer, partly not stored at all
        acks = []

        def acked(out):
            acks.append(out)
            if len(acks) == 1000 and proc.poll() is None:
                proc.kill()
        listener.on_acked = acked
        sent = [client.send("#lobby", f"m{n}") for n in range(count)]
        await self.until(lambda: proc.poll() is not None, timeout=20)
        del listener.on_acked
        # what the client had seen acknowledged when the server died
        acked_before = {out.msg_id: out.text for out in acks}
        self.assertGreaterEqual(len(acked_before), 1000)
        await self.server.kill9()
        await self.server.start()
        await self.until(lambda: all(out.state is OutState.ACKED for out in sent), timeout=45)
        with self.db() as db:
            rows = list(db.execute(
                "SELECT id, text FROM messages WHERE conv = 'r:lobby' ORDER BY id"))
        stored = dict(rows)
        texts = [text for _, text in rows]
        # every acknowledged message survived the kill, under the id its sender was given
        self.assertEqual({i: stored.get(i) for i in acked_before}, acked_before)
        # each message is stored exactly once: the resends added no duplicate
        self.assertEqual(sorted(texts, key=lambda t: int(t[1:])), [f"m{n}" for n in range(count)])
        self.assertEqual(len({out.msg_id for out in sent}), count)
        # and every client-side id is the stored row of that text (a resend answered
        # "duplicate" got the first copy's id)
        self.assertEqual({out.msg_id: out.text for out in sent}, stored)
        # the kill hit messages on their way: they were sent again after the restart
        self.assertTrue([out for out in sent if out.attempts > 1])
        self.assertTrue([out for out in sent if out.attempts == 1])
