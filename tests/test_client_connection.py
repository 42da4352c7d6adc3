"""ClientConnection over a StringTransport: requests matched to replies, events, bodies."""

import json

from twisted.internet.error import ConnectionLost
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.client.connection import ClientConnection, RequestFailed
from chat.protocol import commands as C
from chat.protocol.codec import control_frame
from chat.protocol.framing import FrameDecoder, encode_frame, iter_body_frames
from chat.protocol.replies import Reply


class ConnectionTests(unittest.TestCase):

    def setUp(self):
        self.events, self.lost, self.activity = [], [], []
        self.conn = ClientConnection(lambda kind, obj: self.events.append((kind, obj)),
                                     self.lost.append, lambda: self.activity.append(1))
        self.transport = StringTransport()
        self.conn.makeConnection(self.transport)

    def sent(self):
        frames = FrameDecoder(10 ** 6).feed(self.transport.value())
        self.transport.clear()
        return [json.loads(f) if f[:1] == b"{" else f for f in frames]

    def feed_bytewise(self, data: bytes):
        for i in range(len(data)):
            self.conn.dataReceived(data[i:i + 1])

    def test_request_gets_its_reply_byte_by_byte(self):
        first = self.conn.request(C.Rooms())
        second = self.conn.request(C.Users(online=True))
        self.assertEqual(self.sent(), [{"type": "rooms", "id": 1, "limit": 500},
                                       {"type": "users", "id": 2, "limit": 500,
                                        "online": True}])
        # replies may come in any order; each goes to its own request
        self.feed_bytewise(control_frame({"type": "ok", "id": 2, "data": {"online": 1}})
                           + control_frame({"type": "error", "id": 1, "code": "forbidden",
                                            "message": "no"}))
        self.assertEqual(self.successResultOf(second), {"online": 1})
        failure = self.failureResultOf(first, RequestFailed)
        self.assertEqual((failure.value.code, failure.value.message), ("forbidden", "no"))
        self.assertTrue(self.activity)

    def test_events_are_checked_and_unknown_ones_ignored(self):
        self.feed_bytewise(
            control_frame({"type": "joined", "room": "dev", "user": "bob"})
            + control_frame({"type": "joined", "room": "dev"})            # missing field
            + control_frame({"type": "from_the_future", "x": 1})          # newer server
            + encode_frame(b"not json at all")
            + control_frame({"type": "topic", "room": "dev", "topic": "t", "by": "bob"}))
        self.assertEqual([kind for kind, _ in self.events], ["joined", "topic"])
        self.assertTrue(self.conn.connected)

    def test_reply_with_a_body(self):
        d = self.conn.request(C.GetAvatar(user="bob"))
        image = bytes(range(256)) * 300
        self.feed_bytewise(control_frame({"type": "ok", "id": 1, "body": len(image),
                                          "data": {"avatar_type": "image/png"}}))
        self.assertNoResult(d)
        for frame in iter_body_frames(1, image):
            self.conn.dataReceived(frame)
        reply = self.successResultOf(d)
        self.assertIsInstance(reply, Reply)
        self.assertEqual((reply.data["avatar_type"], reply.body), ("image/png", image))

    def test_request_with_a_body(self):
        self.conn.request(C.SetAvatar(avatar_type="image/png", body=8), body=b"\x89PNG\r\n\x1a\n")
        control, body = self.sent()
        self.assertEqual(control, {"type": "set_avatar", "id": 1, "avatar_type": "image/png",
                                   "body": 8})
        self.assertEqual(body, b"\x01\x00\x00\x00\x01\x89PNG\r\n\x1a\n")

    def test_cancel_a_streamed_download(self):
        class Sink:
            def __init__(self):
                self.calls = []

            def begin(self, data, size):
                self.calls.append("begin")

            def write(self, chunk):
                self.calls.append(bytes(chunk))

            def abort(self):
                self.calls.append("abort")

        sink = Sink()
        d = self.conn.request(C.Download(file=3), sink=sink)
        cancel = self.conn.cancel(d)
        self.assertEqual(self.sent()[-1], {"type": "cancel", "id": 2, "request": 1})
        self.conn.dataReceived(
            control_frame({"type": "ok", "id": 1, "data": {"file": {}}, "body": 10})
            + b"".join(iter_body_frames(1, b"abc"))
            + control_frame({"type": "error", "id": 1, "code": "cancelled", "message": "x"})
            + b"".join(iter_body_frames(1, b"defg"))      # already on its way: dropped
            + control_frame({"type": "ok", "id": 2,
                             "data": {"request": 1, "cancelled": True}}))
        self.assertEqual(sink.calls, ["begin", b"abc", "abort"])
        self.assertEqual(self.failureResultOf(d, RequestFailed).value.code, "cancelled")
        self.assertEqual(self.successResultOf(cancel), {"request": 1, "cancelled": True})
        self.assertIsNone(self.conn.cancel(d))            # answered: nothing to cancel
        self.assertTrue(self.conn.connected)

    def test_lost_connection_fails_what_waits(self):
        d = self.conn.request(C.Rooms())
        self.conn.connectionLost(None)
        self.failureResultOf(d, ConnectionLost)
        self.assertEqual(len(self.lost), 1)
        self.failureResultOf(self.conn.request(C.Rooms()), ConnectionLost)

    def test_a_frame_over_the_limit_aborts(self):
        self.conn.dataReceived(b"\xff\xff\xff\xff")
        self.assertTrue(self.transport.disconnecting)
