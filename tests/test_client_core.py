"""The client core against a real ChatServer, in memory (iosim links, a task.Clock)."""

import hashlib
import os
import random
import shutil
import tempfile
from unittest import mock

from twisted.internet import defer
from twisted.trial import unittest

from chat.client.backoff import Backoff
from chat.client.connection import RequestFailed
from chat.client.core import CannotConnect, ChatClient, LinkState, NotConnected
from chat.client.listener import ClientListener
from chat.client.outbox import Outbox, OutState
from chat.client.transfers import TransferState
from chat.protocol import commands as C
from chat.protocol.framing import FILE_CHUNK, encode_body_frame
from chat.server.files.io import FileIO
from chat.server.files.transfers import READ_CHUNKS
from tests.harness import PASSWORD, make_server, user
from tests.support.loopback import Network


class Recorder(ClientListener):
    """Keeps every callback as (name, argument) for the assertions."""

    def __init__(self):
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            calls = object.__getattribute__(self, "calls")
            return lambda *args: calls.append((name[3:], args[0] if len(args) == 1 else args))
        return object.__getattribute__(self, name)

    def take(self, kind):
        found = [arg for name, arg in self.calls if name == kind]
        self.calls = [c for c in self.calls if c[0] != kind]
        return found

    def states(self):
        return [args[0] for args in self.take("state")]

    def texts(self):
        return [(msg["from"], msg["text"], live) for msg, live in self.take("message")]


class ClientTestCase(unittest.TestCase):

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)
        self.clients = []

    def client(self, name, register=True, password=PASSWORD, **options):
        listener = Recorder()
        client = ChatClient(self.net.connect, self.clock, listener, client_name="test-cli/1",
                            random=lambda: 0.5, **options)  # 0.5: no jitter, exact delays
        client.recorder = listener
        result = []
        client.login(name, password, register=register).addBoth(result.append)
        self.net.pump()
        self.assertEqual(len(result), 1, "login did not finish")
        client.login_result = result[0]
        self.clients.append(client)
        return client

    def advance(self, seconds, step=1.0):
        """Let time pass in steps, moving bytes after each."""
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            seconds -= step
            self.net.pump()

    def cut(self, client):
        """Lose one client's link without a goodbye."""
        for pump in list(self.net.pumps):
            if pump.client is client._conn:
                for io in (pump.clientIO, pump.serverIO):
                    io.disconnected = True
                    io.reportDisconnect()
                self.net.pumps.remove(pump)

    def history(self, conv, viewer):
        probe = user(self.server, viewer, register=False)
        return [(m["from"], m["text"]) for m in probe.ok("history", conv=conv)["messages"]]


class LoginTests(ClientTestCase):

    def test_register_and_login(self):
        alice = self.client("alice")
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.recorder.states(),
                         [LinkState.CONNECTING, LinkState.LOGGING_IN, LinkState.ONLINE])
        self.assertEqual(alice.model.me, "alice")
        self.assertTrue(alice.model.admin)          # the first account of a new server
        self.assertEqual(list(alice.model.rooms), ["lobby"])
        self.assertEqual(alice.model.online_count, 1)
        [(data, first)] = alice.recorder.take("logged_in")
        self.assertTrue(first)
        self.assertEqual(data["user"]["name"], "alice")
        [conn] = [c for c in self.server.connections if c.session]
        self.assertEqual(conn.client_name, "test-cli/1")

    def test_wrong_password_does_not_retry(self):
        self.client("alice")
        bob = self.client("alice", register=False, password="wrong password")
        self.assertIsInstance(bob.login_result.value, RequestFailed)
        self.assertEqual(bob.login_result.value.code, "bad_credentials")
        self.assertEqual(bob.state, LinkState.OFFLINE)
        attempts = self.net.attempts
        self.advance(120, step=10)
        self.assertEqual(self.net.attempts, attempts)

    def test_a_refused_login_may_be_tried_again_at_once(self):
        # a person types the password again (chat-cli, a login window): the same client logs
        # in again as soon as it hears "wrong password", before that connection has closed
        self.client("alice")
        listener = Recorder()
        bob = ChatClient(self.net.connect, self.clock, listener, random=lambda: 0.5)
        result = []

        def again(failure):
            failure.trap(RequestFailed)
            result.append(failure.value.code)
            return bob.login("alice", PASSWORD)
        bob.login("alice", "wrong password").addErrback(again).addBoth(result.append)
        self.net.pump()
        self.assertEqual(result[0], "bad_credentials")
        self.assertEqual(result[1]["user"]["name"], "alice")
        self.assertEqual(bob.state, LinkState.ONLINE)

    def test_avatar_sent_at_registration_and_fetched(self):
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
        listener = Recorder()
        alice = ChatClient(self.net.connect, self.clock, listener, random=lambda: 0.5)
        result = []
        alice.login("alice", PASSWORD, register=True, avatar=("image/png", png)).addBoth(
            result.append)
        self.net.pump()
        self.assertEqual(result[0]["user"]["avatar"], True)
        bob = self.client("bob")
        got = []
        bob.get_avatar("alice").addBoth(got.append)
        self.net.pump()
        self.assertEqual(got, [("image/png", png)])
        bob.get_avatar("nobody").addBoth(got.append)
        self.net.pump()
        self.assertEqual(got[1].value.code, "not_found")
        jpeg = b"\xff\xd8\xff" + b"x" * 100
        done = []
        bob.set_avatar("image/jpeg", jpeg).addBoth(done.append)
        self.net.pump()
        alice.get_avatar("bob").addBoth(got.append)
        self.net.pump()
        self.assertEqual(got[2], ("image/jpeg", jpeg))

    def test_name_taken(self):
        self.client("alice")
        again = self.client("ALICE")
        self.assertEqual(again.login_result.value.code, "name_taken")

    def test_server_down(self):
        self.net.refuse = True
        alice = self.client("alice")
        self.assertIsInstance(alice.login_result.value, CannotConnect)
        self.assertEqual(alice.login_result.value.reason, "connection refused")
        self.assertEqual(alice.state, LinkState.OFFLINE)

    def test_requests_need_a_login(self):
        alice = self.client("alice")
        alice.close()
        self.net.pump()
        self.assertEqual(alice.state, LinkState.OFFLINE)
        self.failureResultOf(alice.rooms(), NotConnected)

    def test_presence_updates_the_model(self):
        alice = self.client("alice")
        self.client("bob")
        self.advance(0.5, step=0.25)
        self.assertEqual(alice.model.online, {"alice", "bob"})
        self.assertEqual(alice.model.online_count, 2)
        events = alice.recorder.take("presence")
        self.assertEqual(events[-1]["changes"], [{"user": "bob", "online": True}])


class SendTests(ClientTestCase):

    def test_room_message_reaches_others_and_is_acked(self):
        alice, bob = self.client("alice"), self.client("bob")
        out = alice.send("#lobby", "hello")
        self.assertEqual(out.state, OutState.SENT)
        self.net.pump()
        self.assertEqual(out.state, OutState.ACKED)
        self.assertEqual(alice.recorder.take("acked"), [out])
        self.assertEqual(bob.recorder.texts(), [("alice", "hello", True)])
        self.assertEqual(alice.recorder.texts(), [("alice", "hello", True)])  # the echo
        self.assertEqual(len(alice.outbox), 0)
        self.assertEqual(bob.model.unread["#lobby"], 1)
        self.assertEqual(bob.model.last_id, out.msg_id)

    def test_private_message_is_private(self):
        alice, bob, carol = self.client("alice"), self.client("bob"), self.client("carol")
        alice.send("@bob", "secret")
        self.net.pump()
        [(msg, live)] = bob.recorder.take("message")
        self.assertEqual((msg["conv"], msg["from"], msg["text"]), ("@alice", "alice", "secret"))
        self.assertEqual(carol.recorder.take("message"), [])

    def test_refused_message_is_failed_not_lost(self):
        alice = self.client("alice")
        out = alice.send("@nobody", "hello?")
        idle = alice.when_idle()
        self.net.pump()
        self.assertEqual(out.state, OutState.FAILED)
        self.assertEqual(out.error[0], "not_found")
        self.assertEqual(alice.recorder.take("failed"), [out])
        self.successResultOf(idle)
        # a retry sends the same message again, with the same client id
        cid = out.cid
        alice.retry(out)
        self.net.pump()
        self.assertEqual((out.state, out.cid), (OutState.FAILED, cid))

    def test_when_idle_waits_for_acks(self):
        alice = self.client("alice")
        alice.send("#lobby", "one")
        alice.send("#lobby", "two")
        idle = alice.when_idle()
        self.assertNoResult(idle)
        self.net.pump()
        self.successResultOf(idle)

    def test_read_marks_are_coalesced(self):
        alice, bob = self.client("alice"), self.client("bob")
        first = alice.send("@bob", "one")
        second = alice.send("@bob", "two")
        self.net.pump()
        bob.mark_read("@alice", first.msg_id)
        bob.mark_read("@alice", second.msg_id)
        self.assertEqual(bob.model.unread["@alice"], 0)
        self.net.pump()
        self.assertEqual(alice.recorder.take("read"), [])   # not yet: waiting 0.5 s
        self.advance(0.5, step=0.5)
        [receipt] = alice.recorder.take("read")
        self.assertEqual((receipt["conv"], receipt["user"], receipt["up_to"]),
                         ("@bob", "bob", second.msg_id))

    def test_rooms_join_and_leave_update_the_model(self):
        alice = self.client("alice")
        d = alice.create_room("dev", "builds")
        self.net.pump()
        self.assertEqual(self.successResultOf(d)["room"]["name"], "dev")
        self.assertEqual(alice.model.room("DEV").topic, "builds")
        d = alice.leave("dev")
        self.net.pump()
        self.successResultOf(d)
        self.assertIsNone(alice.model.room("dev"))

    def test_history_pages(self):
        alice = self.client("alice")
        for n in range(5):
            alice.send("#lobby", f"m{n}")
        self.net.pump()
        d = alice.history("#lobby", limit=2)
        self.net.pump()
        page = self.successResultOf(d)
        self.assertEqual([m["text"] for m in page["messages"]], ["m3", "m4"])
        self.assertTrue(page["more"])
        d = alice.history("#lobby", before=page["messages"][0]["id"], limit=10)
        self.net.pump()
        self.assertEqual([m["text"] for m in self.successResultOf(d)["messages"]],
                         ["m0", "m1", "m2"])


class ReconnectTests(ClientTestCase):

    def test_backoff_doubles_to_thirty_seconds(self):
        alice = self.client("alice")
        alice.recorder.take("state")
        self.net.refuse = True
        self.cut(alice)
        self.advance(200, step=0.5)
        delays = [args[2] for name, args in alice.recorder.calls
                  if name == "state" and args[0] is LinkState.RECONNECTING]
        self.assertEqual(delays[:7], [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0])
        self.net.refuse = False
        self.advance(31, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.backoff.attempts, 0)

    def test_missed_messages_are_fetched_in_order(self):
        alice, bob = self.client("alice"), self.client("bob")
        self.cut(alice)
        self.net.pump()
        self.assertEqual(alice.state, LinkState.RECONNECTING)
        for n in range(3):
            bob.send("#lobby", f"while away {n}")
        bob.send("@alice", "private while away")
        self.net.pump()
        alice.recorder.take("message")
        self.advance(1.5, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.recorder.texts(), [
            ("bob", "while away 0", False), ("bob", "while away 1", False),
            ("bob", "while away 2", False), ("bob", "private while away", False)])
        [(data, first)] = alice.recorder.take("logged_in")[-1:]
        self.assertFalse(first)

    def test_messages_sent_offline_go_after_the_reconnect(self):
        alice, bob = self.client("alice"), self.client("bob")
        self.net.refuse = True
        self.cut(alice)
        self.net.pump()
        out = alice.send("#lobby", "typed while offline")
        self.assertEqual(out.state, OutState.QUEUED)
        self.advance(5, step=0.5)
        self.assertEqual(out.state, OutState.QUEUED)
        self.net.refuse = False
        self.advance(10, step=0.5)
        self.assertEqual(out.state, OutState.ACKED)
        self.assertEqual([t for t in bob.recorder.texts() if t[1] == "typed while offline"],
                         [("alice", "typed while offline", True)])
        self.assertEqual(self.history("#lobby", "bob"), [("alice", "typed while offline")])

    def test_message_stored_but_ack_lost_is_not_duplicated(self):
        alice, bob = self.client("alice"), self.client("bob")
        out = alice.send("#lobby", "only once")
        [pump] = [p for p in self.net.pumps if p.client is alice._conn]
        # the request reaches the server and is stored, but the reply never comes back
        pump.serverIO.bufferReceived(pump.clientIO.getOutBuffer())
        self.clock.advance(0)
        pump.serverIO.getOutBuffer()
        self.cut(alice)
        self.assertEqual(out.state, OutState.QUEUED)
        self.advance(2, step=0.5)
        self.assertEqual(out.state, OutState.ACKED)
        self.assertTrue(out.duplicate)
        self.assertEqual(self.history("#lobby", "bob"), [("alice", "only once")])
        self.assertEqual(bob.recorder.texts(), [("alice", "only once", True)])

    def test_dead_link_is_noticed_within_sixty_seconds(self):
        alice = self.client("alice")
        alice.recorder.take("state")
        [pump] = [p for p in self.net.pumps if p.client is alice._conn]
        self.net.pumps.remove(pump)      # the cable is pulled: nothing moves, nothing closes
        self.clock.advance(30)
        self.assertIn(b'"type":"ping"', pump.clientIO.getOutBuffer().replace(b" ", b""))
        self.clock.advance(29)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.clock.advance(1)
        pump.flush()                     # the abort takes effect
        states = alice.recorder.take("state")
        self.assertEqual(states[0][0], LinkState.RECONNECTING)
        self.assertIn("no answer from the server for 60 s", states[0][1])

    def test_server_ping_is_answered(self):
        # the client's own pings are off: only the server's ping (after 30 s) and our pong
        # keep the link; the server would drop a silent client after 90 s
        alice = self.client("alice", ping_after=1000, dead_after=2000)
        alice.recorder.take("state")
        self.advance(200, step=5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.recorder.states(), [])

    def test_kicked_does_not_reconnect(self):
        alice = self.client("alice")
        alice.recorder.take("state")
        [conn] = [c for c in self.server.connections if c.session]
        conn.close("kicked", "kicked by root: spam")
        self.net.pump()
        self.assertEqual(alice.recorder.take("bye"), [("kicked", "kicked by root: spam")])
        self.assertEqual(alice.recorder.states(), [LinkState.OFFLINE])
        attempts = self.net.attempts
        self.advance(60, step=5)
        self.assertEqual(self.net.attempts, attempts)

    def test_server_shutdown_reconnects(self):
        alice = self.client("alice")
        alice.recorder.take("state")
        [conn] = [c for c in self.server.connections if c.session]
        conn.close("shutdown", "the server is shutting down")
        self.net.pump()
        self.assertEqual(alice.state, LinkState.RECONNECTING)
        self.advance(2, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)

    def test_password_changed_while_away_stops_retrying(self):
        alice = self.client("alice")
        d = alice.request(C.ChangePassword(old=PASSWORD, new="another password"))
        self.net.pump()
        self.successResultOf(d)
        self.cut(alice)
        self.advance(2, step=0.5)
        self.assertEqual(alice.state, LinkState.OFFLINE)
        attempts = self.net.attempts
        self.advance(60, step=5)
        self.assertEqual(self.net.attempts, attempts)

    def test_close_stops_everything(self):
        alice = self.client("alice")
        alice.close()
        self.net.pump()
        self.assertEqual(alice.state, LinkState.OFFLINE)
        attempts = self.net.attempts
        self.advance(60, step=5)
        self.assertEqual(self.net.attempts, attempts)


class PartsTests(unittest.TestCase):

    def test_backoff_jitter_stays_within_twenty_percent(self):
        low = Backoff(random=lambda: 0.0)
        high = Backoff(random=lambda: 1.0)
        self.assertEqual([round(low.next(), 3) for _ in range(7)],
                         [0.8, 1.6, 3.2, 6.4, 12.8, 24.0, 24.0])
        self.assertEqual([round(high.next(), 3) for _ in range(7)],
                         [1.2, 2.4, 4.8, 9.6, 19.2, 30.0, 30.0])
        high.reset()
        self.assertEqual(high.next(), 1.2)

    def test_client_ids_are_unique_across_runs(self):
        one, two = Outbox(), Outbox()
        ids = {one.add("#lobby", "a").cid, one.add("#lobby", "b").cid,
               two.add("#lobby", "a").cid}
        self.assertEqual(len(ids), 3)


class Runner:
    """A thread runner for one side's file work: at once, or held until ``release``."""

    def __init__(self):
        self.holding = False
        self.calls = []

    def __call__(self, f, *args):
        if not self.holding:
            return defer.maybeDeferred(f, *args)
        d = defer.Deferred()
        self.calls.append((d, f, args))
        return d

    def release(self, n=None):
        """Run ``n`` held calls (all, and what they hold in turn, if None)."""
        while self.calls and (n is None or n > 0):
            d, f, args = self.calls.pop(0)
            defer.maybeDeferred(f, *args).chainDeferred(d)
            n = None if n is None else n - 1

    def release_last(self):
        """Run the call held last (it overtakes the others, as a thread may)."""
        d, f, args = self.calls.pop()
        defer.maybeDeferred(f, *args).chainDeferred(d)


class TransferCancelTests(ClientTestCase):
    """Cancelling uploads and downloads: the client core against a real server with files."""

    def setUp(self):
        self.server_io = Runner()
        self.server = make_server(file_io=FileIO(run_in_thread=self.server_io))
        self.clock = self.server.clock
        self.net = Network(self.server)
        self.clients = []
        self.dir = tempfile.mkdtemp(prefix="chat-cancel-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.folder = os.path.join(self.dir, "downloads")

    def make_file(self, size, seed=1):
        data = random.Random(seed).randbytes(size)
        path = os.path.join(self.dir, f"f{seed}.bin")
        with open(path, "wb") as f:
            f.write(data)
        return path, data

    def states_reported(self, client):
        return [t.state for t in client.recorder.take("transfer")]

    def shared_file(self, data):
        """A complete file in #lobby, sent by carol through the socket-free harness."""
        carol = user(self.server, "carol")
        offered = carol.ok("file_offer", to="#lobby", name="shared.bin", size=len(data),
                           sha256=hashlib.sha256(data).hexdigest())
        file_id = offered["file"]["id"]
        carol._next_id += 1
        carol.send({"type": "upload", "id": carol._next_id, "file": file_id, "offset": 0,
                    "body": len(data)})
        for start in range(0, len(data), FILE_CHUNK):
            carol.raw(encode_body_frame(carol._next_id, data[start:start + FILE_CHUNK]))
        assert carol.reply(carol._next_id)["type"] == "ok"
        return file_id

    # -- uploads
    def start_upload(self, size=12 * FILE_CHUNK):
        """alice sends a file; one read of it (four chunks) reaches the server."""
        runner = Runner()
        alice = self.client("alice", run_in_thread=runner)
        path, data = self.make_file(size)
        runner.holding = True
        transfer = alice.send_file("#lobby", path)
        runner.release(1)                    # the hash
        self.net.pump()                      # the offer and its reply
        self.assertEqual(transfer.state, TransferState.SENDING)
        runner.release(1)                    # the first read: four body frames
        self.net.pump()
        return alice, runner, transfer, data

    def test_cancel_an_upload(self):
        alice, runner, transfer, data = self.start_upload()
        partial = self.server.files.catalog.partials[transfer.file_id]
        self.assertEqual(partial.received, 4 * FILE_CHUNK)
        alice.recorder.take("transfer")
        d = alice.cancel_transfer(transfer)
        self.assertTrue(transfer.cancelling)
        self.assertIsNone(alice.connection.transport.producer)    # the stream stopped
        self.net.pump()
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertIsNone(transfer.error)
        self.successResultOf(transfer.finished)      # fired, without a failure
        self.assertEqual(self.states_reported(alice)[-1], TransferState.CANCELLED)
        self.assertEqual(alice.files.active, [])
        runner.release()                     # the read under way: nothing more is sent
        self.net.pump()
        # the server keeps what arrived, for a resume; the link is still up
        self.assertIsNone(partial.sink)
        self.assertEqual(partial.held, 4 * FILE_CHUNK)
        server_side = [c for c in self.server.connections if c.session
                       and c.session.name == "alice"]
        self.assertEqual([c._transfers for c in server_side], [0])
        self.assertEqual(alice.state, LinkState.ONLINE)
        out = alice.send("#lobby", "never mind")
        self.net.pump()
        self.assertEqual(out.state, OutState.ACKED)
        # cancelling again, or a transfer that is over, changes nothing
        self.assertFalse(self.successResultOf(alice.cancel_transfer(transfer)))
        # sending the same file again resumes the partial the cancel left
        again = alice.send_file("#lobby", transfer.path)
        runner.holding = False
        runner.release()
        self.net.pump()
        self.assertEqual(again.state, TransferState.DONE, again.error)
        self.assertEqual((again.file_id, again.resumed_from), (transfer.file_id, 4 * FILE_CHUNK))

    def test_cancelled_upload_is_not_resumed_after_a_reconnect(self):
        alice, runner, transfer, data = self.start_upload()
        d = alice.cancel_transfer(transfer)
        self.cut(alice)                       # the link goes before the server answered
        self.net.pump()
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        runner.holding = False
        runner.release()
        self.advance(3, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        partial = self.server.files.catalog.partials[transfer.file_id]
        self.assertEqual((partial.sink, partial.held), (None, 4 * FILE_CHUNK))   # no resume

    def test_a_server_without_cancel_gets_the_link_closed(self):
        alice, runner, transfer, data = self.start_upload()
        with mock.patch.dict(C.CLIENT_COMMANDS):
            del C.CLIENT_COMMANDS["cancel"]          # an older server: unknown_type
            d = alice.cancel_transfer(transfer)
            self.net.pump()
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        runner.holding = False
        runner.release()
        self.advance(3, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)   # reconnected as after any cut
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertEqual(self.server.files.catalog.partials[transfer.file_id].held,
                         4 * FILE_CHUNK)

    def test_cancel_an_upload_waiting_for_the_link(self):
        alice, runner, transfer, data = self.start_upload()
        self.net.refuse = True
        self.cut(alice)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.WAITING)
        attempts = self.net.attempts
        d = alice.cancel_transfer(transfer)
        self.assertEqual(transfer.state, TransferState.CANCELLED)   # at once, locally
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(self.net.attempts, attempts)
        self.net.refuse = False
        runner.holding = False
        runner.release()
        self.advance(3, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertEqual(self.server.files.catalog.partials[transfer.file_id].held,
                         4 * FILE_CHUNK)
        self.assertEqual(alice.files._link_waiters, [])

    def test_cancel_an_upload_waiting_for_its_turn(self):
        alice, runner, first, data = self.start_upload()
        path, _ = self.make_file(1000, seed=2)
        second = alice.send_file("#lobby", path)
        runner.release_last()                 # its hash; then it waits for the first upload
        self.assertEqual(len(alice.files._upload_lock.waiting), 1)
        d = alice.cancel_transfer(second)
        self.assertEqual(second.state, TransferState.CANCELLED)
        self.assertTrue(self.successResultOf(d))
        runner.holding = False
        runner.release()
        self.net.pump()
        self.assertEqual(first.state, TransferState.DONE, first.error)
        self.assertEqual(self.server.files.catalog.partials, {})   # no offer for the second
        self.assertEqual(alice.files._upload_lock.waiting, [])
        self.assertFalse(alice.files._upload_lock.locked)

    def test_cancel_while_hashing(self):
        runner = Runner()
        alice = self.client("alice", run_in_thread=runner)
        path, _ = self.make_file(1000)
        runner.holding = True
        transfer = alice.send_file("#lobby", path)
        d = alice.cancel_transfer(transfer)
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertTrue(self.successResultOf(d))
        runner.release()                      # the hash ends later: ignored
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertEqual(self.server.files.catalog.partials, {})

    # -- downloads
    def start_download(self, data):
        file_id = self.shared_file(data)
        bob = self.client("bob", run_in_thread=Runner())
        self.server_io.holding = True
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.server_io.release(2)             # the open, the first read: READ_CHUNKS frames
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.RECEIVING)
        self.assertEqual(transfer.done, READ_CHUNKS * FILE_CHUNK)
        return bob, transfer

    def test_cancel_a_download(self):
        data = random.Random(3).randbytes(3 * READ_CHUNKS * FILE_CHUNK)
        bob, transfer = self.start_download(data)
        self.assertEqual(os.listdir(self.folder), [f".chat-{transfer.file_id}.part"])
        bob.recorder.take("transfer")
        d = bob.cancel_transfer(transfer)
        self.net.pump()
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.successResultOf(transfer.finished)      # fired, without a failure
        self.assertEqual(self.states_reported(bob), [TransferState.CANCELLED])
        self.assertEqual(os.listdir(self.folder), [])            # the partial is gone
        self.assertEqual(self.server.files.catalog.downloads_of, {})
        self.server_io.release()              # reads under way on the server: nothing follows
        self.net.pump()
        self.assertEqual(os.listdir(self.folder), [])
        self.assertEqual(bob.connection._sinks, {})
        # the link is still up and a new download runs to the end
        self.server_io.holding = False
        again = bob.download(transfer.file_id, self.folder)
        self.net.pump()
        self.assertEqual(again.state, TransferState.DONE, again.error)
        self.assertEqual(again.resumed_from, 0)
        with open(again.path, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_cancel_a_download_waiting_for_the_link(self):
        data = random.Random(4).randbytes(3 * READ_CHUNKS * FILE_CHUNK)
        bob, transfer = self.start_download(data)
        self.net.refuse = True
        self.cut(bob)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.WAITING)
        self.assertEqual(os.listdir(self.folder), [f".chat-{transfer.file_id}.part"])
        d = bob.cancel_transfer(transfer)
        self.assertTrue(self.successResultOf(d))
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertEqual(os.listdir(self.folder), [])            # kept for a resume no more
        self.net.refuse = False
        self.server_io.holding = False
        self.server_io.release()
        self.advance(3, step=0.5)
        self.assertEqual(bob.state, LinkState.ONLINE)
        self.assertEqual(transfer.state, TransferState.CANCELLED)
        self.assertEqual(os.listdir(self.folder), [])             # not resumed
        self.assertEqual(self.server.files.catalog.downloads_of, {})

    def test_cancel_after_the_end_changes_nothing(self):
        data = random.Random(5).randbytes(FILE_CHUNK + 5)
        file_id = self.shared_file(data)
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.DONE)
        self.assertFalse(self.successResultOf(bob.cancel_transfer(transfer)))
        self.assertEqual(transfer.state, TransferState.DONE)
        self.assertEqual(os.listdir(self.folder), ["shared.bin"])


class GuestClientTests(ClientTestCase):
    """``login(..., guest=True)``: the ``guest`` request, and coming back as a guest."""

    def setUp(self):
        super().setUp()
        self.server.config.allow_guests = True

    def guest(self, name):
        listener = Recorder()
        client = ChatClient(self.net.connect, self.clock, listener, random=lambda: 0.5)
        client.recorder = listener
        result = []
        client.login(name, "", guest=True).addBoth(result.append)
        self.net.pump()
        client.login_result = result[0]
        self.clients.append(client)
        return client

    def test_guest_login(self):
        visitor = self.guest("visitor")
        self.assertEqual(visitor.state, LinkState.ONLINE)
        self.assertTrue(visitor.login_result["user"]["guest"])
        self.assertEqual(visitor.model.me, "visitor")
        [session] = [c.session for c in self.server.connections if c.session]
        self.assertLess(session.account_id, 0)

    def test_a_guest_comes_back_once_its_name_is_free(self):
        visitor = self.guest("visitor")
        self.cut(visitor)
        other = self.guest("visitor")          # took the name while the first was away
        self.assertEqual(other.state, LinkState.ONLINE)
        self.advance(30)
        self.assertNotEqual(visitor.state, LinkState.ONLINE)
        self.assertIsNone(visitor._give_up, "name_taken on a guest's reconnect passes")
        other.logout()
        self.net.pump()
        self.advance(120, step=5)
        self.assertEqual(visitor.state, LinkState.ONLINE)

    def test_a_first_guest_login_that_is_refused_stays_refused(self):
        self.client("alice")
        taken = self.guest("alice")
        self.assertEqual(taken.login_result.value.code, "name_taken")
        self.assertEqual(taken.state, LinkState.OFFLINE)
