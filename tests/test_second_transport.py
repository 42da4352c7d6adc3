"""The seam proved: a second transport that speaks no JSON at all logs in, joins the lobby and
receives room messages as typed events, beside native clients on the same server.

``FakeDoor`` is what an IRC or WebSocket door does at its smallest: it implements ``IPeer``,
builds typed requests from ``chat.protocol.commands``, hands them to ``server.handle`` and
keeps the events it is delivered as the objects they are.
"""

from twisted.internet import defer
from twisted.python.failure import Failure
from twisted.trial import unittest
from zope.interface import implementer
from zope.interface.verify import verifyObject

from chat.protocol import commands as C
from chat.protocol.errors import ProtocolError
from chat.server.session import IPeer, State
from tests.harness import PASSWORD, make_server, user


@implementer(IPeer)
class FakeDoor:
    """A peer of a made-up transport: requests are objects, events are kept as objects."""

    kind = "test"

    def __init__(self, server, host="192.0.2.77", port=6667):
        self.server = server
        self.host, self.port, self.address = host, port, f"{host}:{port}"
        self.last_request = None
        self.lifecycle = server.open_session(self)
        self.events = []          # every event delivered, as delivered
        self.closed = []          # (code, reason) of each close
        self.states = []
        self.reading = True
        self.alive = 0
        self._ids = 0

    @property
    def session(self):
        return self.lifecycle.session

    @property
    def client_name(self):
        return self.lifecycle.client_name

    # -- the door's own side
    def connect(self):
        assert self.server.admit(self) is None
        self.server.connection_made(self)
        self.lifecycle.open()

    def disconnect(self):
        self.lifecycle.close()
        self.server.connection_lost(self)

    def request(self, kind, body=None, **fields):
        """The handler's result for a request of class ``kind``, or the ProtocolError."""
        self._ids += 1
        d = defer.maybeDeferred(self.server.handle, self, kind(id=self._ids, **fields), body)
        results = []
        d.addBoth(results.append)
        assert results, "the harness server answers at once"
        result = results[0]
        if isinstance(result, Failure):
            result.trap(ProtocolError)      # anything else is a bug the test must show
            return result.value
        return result

    def take(self, kind):
        taken = [event for event in self.events if isinstance(event, kind)]
        self.events = [event for event in self.events if not isinstance(event, kind)]
        return taken

    # -- IPeer
    def deliver(self, event):
        self.events.append(event)

    def close(self, code, reason):
        self.closed.append((code, reason))
        self.lifecycle.closing()

    def keep_alive(self):
        self.alive += 1

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        self.reading = True

    def cancel(self, request_id):
        return False

    def state_changed(self, state):
        self.states.append(state)


class SecondTransportTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.bob = user(self.server, "bob")          # a native client
        self.door = FakeDoor(self.server)
        self.door.connect()

    def log_in(self, name="alice"):
        door = self.door
        self.assertEqual(door.request(C.Hello, version=1, client="fake door")["version"], 1)
        door.request(C.Register, username=name, password=PASSWORD)
        reply = door.request(C.Login, username=name, password=PASSWORD)
        self.assertEqual(reply["user"]["name"], name)
        return reply

    def test_it_provides_the_interface(self):
        verifyObject(IPeer, self.door)

    def test_login_join_and_a_room_message_as_typed_events(self):
        reply = self.log_in()
        door = self.door
        self.assertIs(door.lifecycle.state, State.AUTHENTICATED)
        self.assertEqual(door.session.name, "alice")
        self.assertFalse(door.session.guest)
        self.assertEqual(door.states, [State.READY, State.AUTHENTICATED])
        self.assertIn("lobby", [room["name"] for room in reply["rooms"]])
        self.assertEqual(door.request(C.Join, room="lobby")["room"]["name"], "lobby")

        self.bob.ok("send", to="#lobby", text="hello, door", cid="b1")
        [event] = door.take(C.MessageEvent)
        self.assertEqual((event.msg["from"], event.msg["conv"], event.msg["text"]),
                         ("bob", "#lobby", "hello, door"))
        # everything the door got is an event object, never bytes or a dict
        self.assertTrue(all(isinstance(e, C.Message) for e in door.events), door.events)

        # and the other way: what the door sends reaches the native client
        self.bob.events()
        sent = door.request(C.Send, to="#lobby", text="hi bob", cid="a1")
        self.assertFalse(sent["duplicate"])
        [frame] = self.bob.events("message")
        self.assertEqual((frame["msg"]["from"], frame["msg"]["text"]), ("alice", "hi bob"))

    def test_room_events_and_private_messages(self):
        self.log_in()
        door = self.door
        self.bob.ok("create_room", room="den")
        door.request(C.Join, room="den")
        self.bob.events()
        self.bob.ok("set_topic", room="den", topic="quiet please")
        [topic] = door.take(C.Topic)
        self.assertEqual((topic.room, topic.topic, topic.by), ("den", "quiet please", "bob"))
        self.bob.ok("send", to="@alice", text="just you", cid="p1")
        [private] = door.take(C.MessageEvent)
        # a private message is seen per viewer: for alice it is the chat with @bob
        self.assertEqual((private.msg["conv"], private.msg["text"]), ("@bob", "just you"))

    def test_logout_and_disconnect_end_the_session(self):
        self.log_in()
        door = self.door
        alice_id = self.server.directory.id_for("alice")
        self.assertTrue(self.server.presence.is_online(alice_id))
        door.request(C.Logout)
        self.assertIs(door.lifecycle.state, State.READY)
        self.assertFalse(self.server.presence.is_online(alice_id))
        door.request(C.Login, username="alice", password=PASSWORD)
        self.assertTrue(self.server.presence.is_online(alice_id))
        door.disconnect()
        self.assertIs(door.lifecycle.state, State.CLOSED)
        self.assertFalse(self.server.presence.is_online(alice_id))
        self.assertNotIn(door, self.server.connections)
        # bob heard alice come and go
        changes = [(c["user"], c["online"]) for c in self.bob.presence_changes()]
        self.assertEqual(changes[-1], ("alice", False))

    def test_an_admin_kick_closes_the_door(self):
        self.server.config.admins = frozenset({"root"})
        root = user(self.server, "root")
        self.log_in()
        root.ok("kick", user="alice", reason="testing")
        self.assertEqual(self.door.closed[0][0], "kicked")
        self.assertIsNone(self.door.session)
        self.assertIs(self.door.lifecycle.state, State.READY)

    def test_the_login_deadline_closes_the_door(self):
        self.door.request(C.Hello, version=1)
        self.server.clock.advance(self.server.config.login_timeout)
        self.assertEqual(self.door.closed[0][0], "login_timeout")
