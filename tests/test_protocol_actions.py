"""The message actions of the wire protocol alone (issue 20): the requests' fields and how
they are checked, the events' round trip. No server."""

import json

from twisted.trial import unittest

from chat.protocol import commands as C
from chat.protocol.codec import encode_object
from chat.protocol.errors import BAD_REQUEST, TOO_LARGE, ProtocolError


def parse(obj):
    return C.parse_request(encode_object({"id": 1, **obj}))


class ActionRequestTests(unittest.TestCase):

    def refused(self, obj, code=BAD_REQUEST):
        with self.assertRaises(ProtocolError) as caught:
            parse(obj)
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        return caught.exception.message

    def test_send_may_reply_to_a_message(self):
        send = parse({"type": "send", "to": "#lobby", "text": "yes", "cid": "c1",
                      "reply_to": 1040})
        self.assertEqual(send.reply_to, 1040)
        self.assertEqual(send.to_dict()["reply_to"], 1040)
        self.assertIsNone(parse({"type": "send", "to": "#lobby", "text": "y",
                                 "cid": "c2"}).reply_to)
        self.assertNotIn("reply_to", C.Send(to="#a", text="t", cid="c").to_dict())
        for bad in (0, -1, "1040", 1.5, True):
            self.refused({"type": "send", "to": "#lobby", "text": "y", "cid": "c",
                          "reply_to": bad})

    def test_edit(self):
        edit = parse({"type": "edit", "msg_id": 1043, "text": "fixed 你好"})
        self.assertEqual((edit.msg_id, edit.text), (1043, "fixed 你好"))
        self.refused({"type": "edit", "msg_id": 1043})
        self.refused({"type": "edit", "text": "x"})
        self.refused({"type": "edit", "msg_id": 1043, "text": ""})
        self.refused({"type": "edit", "msg_id": "1043", "text": "x"})
        self.refused({"type": "edit", "msg_id": 1, "text": "x" * (C.TEXT_MAX + 1)}, TOO_LARGE)

    def test_delete(self):
        self.assertEqual(parse({"type": "delete", "msg_id": 5}).msg_id, 5)
        self.refused({"type": "delete"})
        self.refused({"type": "delete", "msg_id": 0})

    def test_react_takes_emoji_only(self):
        for emoji in ("👍", "❤️", "👨‍👩‍👧", "🇨🇳", "1️⃣", "你", "🎉" * 32):
            react = parse({"type": "react", "msg_id": 9, "emoji": emoji, "on": True})
            self.assertEqual(react.emoji, emoji)
        self.assertFalse(parse({"type": "react", "msg_id": 9, "emoji": "👍",
                                "on": False}).on)
        for emoji in ("", "ok", "+1", ":)", "1", " 👍", "👍 ", "👍\n", "\t", "\u202e👍",
                      "\x00👍", "🎉" * 33, 1):
            self.refused({"type": "react", "msg_id": 9, "emoji": emoji, "on": True})
        # "on" is explicit: a resend must mean the same
        self.refused({"type": "react", "msg_id": 9, "emoji": "👍"})
        self.refused({"type": "react", "msg_id": 9, "emoji": "👍", "on": 1})

    def test_pin_and_pins(self):
        pin = parse({"type": "pin", "msg_id": 3, "on": True})
        self.assertTrue(pin.on)
        self.refused({"type": "pin", "msg_id": 3})
        pins = parse({"type": "pins", "conv": "#ｌobby"})
        self.assertEqual(pins.conv, "#lobby")          # normalised like every conv
        self.assertTrue(C.Pins.QUERY)
        self.refused({"type": "pins"})

    def test_search(self):
        search = parse({"type": "search", "conv": "#Lobby", "text": "你好", "from": "Bob",
                        "since_ts": "2026-12-01T00:00:00.000Z",
                        "until_ts": "2026-12-04T08:00:00+08:00", "before": 99, "limit": 5})
        self.assertEqual((search.conv, search.text, search.from_, search.before, search.limit),
                         ("#Lobby", "你好", "Bob", 99, 5))
        self.assertEqual(search.to_dict()["from"], "Bob")
        self.assertTrue(C.Search.QUERY)
        everywhere = parse({"type": "search", "text": "x"})
        self.assertIsNone(everywhere.conv)
        self.assertEqual(everywhere.limit, 20)
        self.assertIsNone(parse({"type": "search", "from": "bob"}).text)
        message = self.refused({"type": "search", "conv": "#lobby"})
        self.assertIn("'text' or 'from'", message)
        self.refused({"type": "search", "text": ""})
        self.refused({"type": "search", "text": "x" * (C.SEARCH_TEXT_MAX + 1)})
        self.refused({"type": "search", "text": "x", "limit": C.SEARCH_PAGE_MAX + 1})
        self.refused({"type": "search", "text": "x", "limit": 0})
        for bad in ("yesterday", "2026-12-04", "2026-12-04T07:00:00", 1733295600, ""):
            self.refused({"type": "search", "text": "x", "since_ts": bad})
        self.refused({"type": "search", "text": "x", "from": "no spaces"})

    def test_requests_round_trip(self):
        for request in (C.Edit(msg_id=1, text="t"), C.Delete(msg_id=2),
                        C.React(msg_id=3, emoji="👍", on=True), C.Pin(msg_id=4, on=False),
                        C.Pins(conv="#lobby"), C.Search(conv="@bob", text="hi", limit=3)):
            wire = json.loads(json.dumps(request.with_id(7).to_dict()))
            self.assertEqual(C.parse_message(wire, C.CLIENT_COMMANDS), request.with_id(7))


class ActionEventTests(unittest.TestCase):

    def test_events_round_trip_with_contract_names(self):
        events = [
            (C.Edited("#lobby", 1043, "fixed", "2026-12-04T07:00:00.000Z", 1050),
                {"type": "edited", "conv": "#lobby", "msg_id": 1043, "text": "fixed",
                 "edited": "2026-12-04T07:00:00.000Z", "pos": 1050}),
            (C.Deleted("#lobby", 1043, 1051, by="root"),
                {"type": "deleted", "conv": "#lobby", "msg_id": 1043, "by": "root",
                 "pos": 1051}),
            (C.ReactionsEvent("#lobby", 1043, [{"emoji": "👍", "users": ["alice", "bob"]}],
                             1052),
                {"type": "reactions", "conv": "#lobby", "msg_id": 1043,
                 "reactions": [{"emoji": "👍", "users": ["alice", "bob"]}], "pos": 1052}),
            (C.PinnedEvent("#lobby", 1043, True, "alice", 1053),
                {"type": "pinned", "conv": "#lobby", "msg_id": 1043, "on": True, "by": "alice",
                 "pos": 1053}),
        ]
        for event, wire in events:
            self.assertEqual(event.to_dict(), wire)
            self.assertEqual(C.parse_server_message(encode_object(wire)), event)

    def test_events_are_not_requests(self):
        with self.assertRaises(ProtocolError):
            parse({"type": "edited", "conv": "#a", "msg_id": 1, "text": "x",
                   "edited": "2026-12-04T07:00:00.000Z", "pos": 2})
