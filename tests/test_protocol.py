"""The wire protocol alone: frames, JSON, command classes, names. No server, no sockets."""

import json
import struct

from twisted.trial import unittest

from chat.protocol import commands as C
from chat.protocol import names
from chat.protocol.codec import control_frame, decode_object, encode_object
from chat.protocol.errors import BAD_REQUEST, TOO_LARGE, UNKNOWN_TYPE, ProtocolError
from chat.protocol.framing import (
    FILE_CHUNK, FrameDecoder, FrameTooLarge, body_frame_prefix, encode_body_frame, encode_frame,
    iter_body_frames, split_body_frame, split_body_frame_view)
from chat.protocol.timestamps import format_ts, parse_ts


class FramingTests(unittest.TestCase):
    def test_byte_by_byte(self):
        decoder = FrameDecoder()
        stream = encode_frame(b"hello") + encode_frame(b"") + encode_frame(b"\x00\xff" * 3)
        frames = []
        for byte in stream:
            frames += decoder.feed(bytes([byte]))
        self.assertEqual(frames, [b"hello", b"", b"\x00\xff" * 3])
        self.assertEqual(decoder.pending, 0)

    def test_many_frames_in_one_read(self):
        decoder = FrameDecoder()
        payloads = [bytes([i]) * i for i in range(50)]
        self.assertEqual(decoder.feed(b"".join(map(encode_frame, payloads))), payloads)

    def test_wire_format_is_int32_prefix(self):
        self.assertEqual(encode_frame(b"abc"), b"\x00\x00\x00\x03abc")

    def test_truncated_frame_waits(self):
        decoder = FrameDecoder()
        self.assertEqual(decoder.feed(encode_frame(b"abcdef")[:-2]), [])
        self.assertEqual(decoder.pending, 8)
        self.assertEqual(decoder.feed(b"ef"), [b"abcdef"])

    def test_too_large_prefix_raises_before_buffering(self):
        decoder = FrameDecoder(max_frame=100)
        self.assertEqual(decoder.feed(encode_frame(b"x" * 100)), [b"x" * 100])
        with self.assertRaises(FrameTooLarge) as caught:
            decoder.feed(struct.pack(">I", 101))
        self.assertEqual(caught.exception.length, 101)

    def test_body_frames(self):
        data = bytes(range(256)) * 600  # 153,600 bytes: three frames of at most 64 KiB
        frames = list(iter_body_frames(7, data))
        self.assertEqual(len(frames), 3)
        decoder = FrameDecoder()
        pieces = [split_body_frame(p) for p in decoder.feed(b"".join(frames))]
        self.assertEqual({request_id for request_id, _ in pieces}, {7})
        self.assertEqual(b"".join(chunk for _, chunk in pieces), data)
        self.assertEqual(encode_body_frame(1, b"z")[4:], b"\x01\x00\x00\x00\x01z")

    def test_short_body_frame(self):
        self.assertRaises(ValueError, split_body_frame, b"\x01\x00")
        self.assertRaises(ValueError, split_body_frame_view, b"\x01\x00")

    def test_file_chunk_frames(self):
        data = bytes(range(256)) * 1024                   # exactly FILE_CHUNK
        self.assertEqual(len(data), FILE_CHUNK)
        frame = body_frame_prefix(9, len(data)) + data
        self.assertEqual(frame, encode_body_frame(9, data))
        [payload] = FrameDecoder().feed(frame)            # fits the default frame limit
        request_id, view = split_body_frame_view(payload)
        self.assertEqual((request_id, view.tobytes()), (9, data))
        self.assertIs(view.obj, frame)    # a view of the bytes as received: no copy at all
        self.assertRaises(FrameTooLarge, FrameDecoder().feed,
                          body_frame_prefix(9, FILE_CHUNK + 60) + b"x")


class CodecTests(unittest.TestCase):
    def assertBadRequest(self, payload):
        with self.assertRaises(ProtocolError) as caught:
            decode_object(payload)
        self.assertEqual(caught.exception.code, BAD_REQUEST)

    def test_round_trip_keeps_unicode_unescaped(self):
        obj = {"type": "x", "text": "你好 👋 é"}
        encoded = encode_object(obj)
        self.assertIn("你好 👋".encode(), encoded)
        self.assertEqual(decode_object(encoded), obj)
        self.assertEqual(control_frame(obj), encode_frame(encoded))

    def test_lone_surrogates_are_refused_anywhere_pairs_are_not(self):
        self.assertEqual(decode_object(b'{"t":"\\ud83d\\ude00"}'), {"t": "\U0001F600"})
        for payload in (b'{"t":"\\ud800"}', b'{"t":["x",{"k":"a\\udfff"}]}',
                        b'{"\\udc00":1}'):
            with self.assertRaises(ProtocolError) as raised:
                decode_object(payload)
            self.assertEqual(raised.exception.code, "bad_request")

    def test_invalid_json(self):
        self.assertBadRequest(b'{"type": ')

    def test_invalid_utf8(self):
        self.assertBadRequest(b'{"type": "\xff"}')

    def test_not_an_object(self):
        self.assertBadRequest(b"[1, 2]")

    def test_nan_rejected(self):
        self.assertBadRequest(b'{"type": "send", "burn": NaN}')

    def test_deep_nesting(self):
        self.assertBadRequest(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")

    def test_huge_integer(self):
        self.assertBadRequest(b'{"id": ' + b"9" * 10_000 + b"}")


class CommandTests(unittest.TestCase):
    def parse(self, obj):
        return C.parse_request(json.dumps(obj).encode())

    def code_of(self, obj):
        with self.assertRaises(ProtocolError) as caught:
            self.parse(obj)
        return caught.exception.code

    def test_every_client_command_round_trips(self):
        samples = {
            "hello": {"version": 1}, "register": {"username": "a", "password": "p" * 8},
            "login": {"username": "a", "password": "p"}, "logout": {}, "guest": {"username": "g"},
            "change_password": {"old": "x", "new": "y" * 8},
            "set_avatar": {"avatar_type": "image/png", "body": 10}, "get_avatar": {"user": "a"},
            "users": {}, "rooms": {}, "create_room": {"room": "r"}, "join": {"room": "#r"},
            "leave": {"room": "r"}, "set_topic": {"room": "r", "topic": "t"},
            "members": {"room": "r"}, "send": {"to": "#r", "text": "t", "cid": "c"},
            "history": {"conv": "@a"}, "sync": {"since": 0}, "unread": {},
            "read": {"conv": "#r", "up_to": 3}, "typing": {"conv": "@a"}, "ping": {},
            "notice": {"text": "hi", "to": "bob"}, "sessions": {}, "user_info": {"user": "b"},
            "kick": {"user": "b", "reason": "r"}, "ban": {"user": "b"}, "unban": {"user": "b"},
            "monitor": {"on": True}, "shutdown": {"seconds": 30, "message": "m"},
            "file_offer": {"to": "#dev", "name": "a.pdf", "size": 10, "sha256": "ab" * 32,
                           "mime": "application/pdf"},
            "upload": {"file": 3, "offset": 0, "body": 10},
            "download": {"file": 3, "offset": 4}, "files": {"conv": "#dev", "limit": 5},
            "cancel": {"request": 42},
            "edit": {"msg_id": 7, "text": "fixed"}, "delete": {"msg_id": 7},
            "react": {"msg_id": 7, "emoji": "👍", "on": True}, "pin": {"msg_id": 7, "on": False},
            "pins": {"conv": "#r"}, "search": {"conv": "#r", "text": "你好", "from": "bob"},
        }
        self.assertEqual(set(samples) | {"pong"}, set(C.CLIENT_COMMANDS))
        for kind, fields in samples.items():
            command = self.parse({"type": kind, "id": 5, **fields})
            self.assertEqual(command.TYPE, kind)
            again = C.parse_message(json.loads(json.dumps(command.to_dict())), C.CLIENT_COMMANDS)
            self.assertEqual(again, command)

    def test_every_server_message_round_trips(self):
        samples = [
            C.Ok(3, {"a": 1}), C.Error("not_found", "no", 3), C.Error("bad_request", "x"),
            C.MessageEvent({"id": 1}), C.Presence(2, [{"user": "bob", "online": True}]),
            C.Joined("r", "bob"),
            C.Left("r", "bob"), C.Topic("r", "t", "bob"), C.ReadEvent("@a", "a", 4),
            C.Burned("@a", [1, 2]), C.TypingEvent("#r", "bob"), C.ServerPing(),
            C.Bye("timeout", "silent"),
            C.NoticeEvent("alice", "hi", "2026-11-24T23:59:01.123Z", to="bob"),
            C.MonitorEvent({"id": 1}),
            C.Edited("#r", 7, "fixed", "2026-12-04T07:00:00.000Z", 9),
            C.Deleted("#r", 7, 10, by="root"),
            C.ReactionsEvent("#r", 7, [{"emoji": "👍", "users": ["bob"]}], 11),
            C.PinnedEvent("#r", 7, True, "alice", 12),
        ]
        self.assertEqual({m.TYPE for m in samples}, set(C.SERVER_MESSAGES))
        for message in samples:
            payload = encode_object(message.to_dict())
            self.assertEqual(C.parse_server_message(payload), message)
        self.assertIsNone(C.Error("bad_request", "x").to_dict()["id"])

    def test_keyword_fields_keep_their_wire_name(self):
        notice = C.NoticeEvent("alice", "down soon", "2026-11-24T23:59:01.123Z",
                               kind="shutdown", seconds=30)
        self.assertEqual(notice.to_dict(), {
            "type": "notice", "from": "alice", "text": "down soon",
            "ts": "2026-11-24T23:59:01.123Z", "kind": "shutdown", "seconds": 30})
        with self.assertRaises(ProtocolError) as caught:
            C.parse_server_message(b'{"type":"notice","text":"x","ts":"t"}')
        self.assertIn("'from'", caught.exception.message)

    def test_admin_request_fields(self):
        self.assertEqual(self.parse({"type": "shutdown", "id": 1}).seconds, 0)
        self.assertEqual(self.parse({"type": "kick", "id": 1, "user": "b"}).reason, "")
        self.assertIsNone(self.parse({"type": "notice", "id": 1, "text": "x"}).to)
        for bad in ({"type": "shutdown", "id": 1, "seconds": 3601},
                    {"type": "shutdown", "id": 1, "seconds": -1},
                    {"type": "kick", "id": 1, "user": "b", "reason": "r" * 501},
                    {"type": "notice", "id": 1, "text": ""},
                    {"type": "notice", "id": 1, "text": "x", "to": "@bob"},
                    {"type": "monitor", "id": 1, "on": "yes"}):
            self.assertEqual(self.code_of(bad), BAD_REQUEST, bad)
        self.assertEqual(self.code_of({"type": "notice", "id": 1, "text": "x" * 16001}),
                         TOO_LARGE)

    def test_cancel_fields(self):
        self.assertEqual(self.parse({"type": "cancel", "id": 50, "request": 42}).request, 42)
        self.assertEqual(self.parse({"type": "cancel", "id": 50, "request": "dl-1"}).request,
                         "dl-1")
        for bad in ({"type": "cancel", "id": 50},
                    {"type": "cancel", "id": 50, "request": -1},
                    {"type": "cancel", "id": 50, "request": True},
                    {"type": "cancel", "id": 50, "request": 1.5},
                    {"type": "cancel", "id": 50, "request": [42]},
                    {"type": "cancel", "id": 50, "request": ""}):
            self.assertEqual(self.code_of(bad), BAD_REQUEST, bad)

    def test_directions_are_separate(self):
        self.assertEqual(self.code_of({"type": "presence", "id": 1}), UNKNOWN_TYPE)
        with self.assertRaises(ProtocolError) as caught:
            C.parse_server_message(b'{"type":"login","id":1}')
        self.assertEqual(caught.exception.code, UNKNOWN_TYPE)

    def test_unknown_type(self):
        self.assertEqual(self.code_of({"type": "fly", "id": 1}), UNKNOWN_TYPE)

    def test_missing_type(self):
        self.assertEqual(self.code_of({"id": 1}), BAD_REQUEST)

    def test_missing_field(self):
        self.assertEqual(self.code_of({"type": "send", "id": 1, "to": "#a", "cid": "c"}),
                         BAD_REQUEST)

    def test_missing_id(self):
        self.assertEqual(self.code_of({"type": "users"}), BAD_REQUEST)

    def test_wrong_types(self):
        for bad in ({"type": "sync", "id": 1, "since": "0"},
                    {"type": "sync", "id": 1, "since": True},
                    {"type": "sync", "id": 1, "since": -1},
                    {"type": "users", "id": 1.5},
                    {"type": "users", "id": ""},
                    {"type": "send", "id": 1, "to": "lobby", "text": "x", "cid": "c"},
                    {"type": "send", "id": 1, "to": "#a", "text": 5, "cid": "c"},
                    {"type": "history", "id": 1, "conv": "#a", "limit": 201}):
            self.assertEqual(self.code_of(bad), BAD_REQUEST, bad)

    def test_text_limit(self):
        ok = self.parse({"type": "send", "id": 1, "to": "#a", "text": "😀" * 16000, "cid": "c"})
        self.assertEqual(len(ok.text), 16000)
        self.assertLessEqual(len(encode_object(ok.to_dict())), 65536)
        self.assertEqual(self.code_of(
            {"type": "send", "id": 1, "to": "#a", "text": "x" * 16001, "cid": "c"}), TOO_LARGE)

    def test_lone_surrogate_rejected(self):
        payload = b'{"type":"send","id":1,"to":"#a","text":"\\ud800","cid":"c"}'
        with self.assertRaises(ProtocolError) as caught:
            C.parse_request(payload)
        self.assertEqual(caught.exception.code, BAD_REQUEST)

    def test_extra_fields_ignored(self):
        self.assertEqual(self.parse({"type": "users", "id": 1, "future": True}), C.Users(id=1))

    def test_request_built_without_an_id_gets_one_when_sent(self):
        # a client builds requests without ids; its connection numbers them
        join = C.Join(room="dev")
        self.assertIsNone(join.id)
        self.assertEqual(join.with_id(7).to_dict(), {"type": "join", "id": 7, "room": "dev"})
        self.assertEqual(C.parse_message(join.with_id(7).to_dict(), C.CLIENT_COMMANDS),
                         join.with_id(7))

    def test_the_id_stays_required_on_the_wire(self):
        with self.assertRaises(ProtocolError) as caught:
            C.parse_message({"type": "join", "room": "dev"}, C.CLIENT_COMMANDS)
        self.assertEqual(caught.exception.code, BAD_REQUEST)
        self.assertIn("'id'", caught.exception.message)

    def test_queries_are_marked_on_their_classes(self):
        # the server's query rate applies to these (and only these): requests that only read
        queries = {kind for kind, cls in C.CLIENT_COMMANDS.items() if getattr(cls, "QUERY", False)}
        self.assertEqual(queries, {"history", "sync", "users", "rooms", "members", "files",
                                   "unread", "user_info", "sessions", "get_avatar", "pins",
                                   "search"})

    def test_request_id_of(self):
        self.assertEqual(C.request_id_of({"id": 4}), 4)
        self.assertIsNone(C.request_id_of({"id": [1]}))
        self.assertIsNone(C.request_id_of(None))


class NameTests(unittest.TestCase):
    def test_unicode_names(self):
        for name in ("alice", "张伟", "Ünal_2", "a.b-c", "ひらがな", "हिन्दी"):
            self.assertEqual(names.normalise_name(name), name)

    def test_nfkc_and_case(self):
        self.assertEqual(names.normalise_name("ａｌｉｃｅ"), "alice")  # full-width letters
        self.assertEqual(names.name_key("Alice"), names.name_key("ALICE"))
        self.assertEqual(names.name_key("Straße"), names.name_key("STRASSE"))

    def test_bad_names(self):
        for bad in ("", "a" * 33, "has space", "semi;colon", "@at", "#hash", "tab\t", "\u0301a",
                    "zero\u200bwidth"):
            self.assertRaises(ProtocolError, names.normalise_name, bad)
        self.assertEqual(len(names.normalise_name("a" * 32)), 32)

    def test_password_rules(self):
        self.assertRaises(ProtocolError, names.check_password, "short")
        self.assertRaises(ProtocolError, names.check_password, "x" * 1025)
        self.assertEqual(names.check_password("e\u0301tagère!"), "étagère!")

    def test_conversation_references(self):
        self.assertEqual(names.parse_conv("#Lobby"), ("room", "Lobby"))
        self.assertEqual(names.parse_conv("@张伟"), ("user", "张伟"))
        for bad in ("lobby", "#", "@", "", "!x"):
            self.assertRaises(ProtocolError, names.parse_conv, bad)


class TimestampTests(unittest.TestCase):
    def test_format_and_parse(self):
        self.assertEqual(format_ts(1_764_028_741_123), "2025-11-24T23:59:01.123Z")
        self.assertEqual(parse_ts("2025-11-24T23:59:01.123Z"), 1_764_028_741_123)

    def test_times_within_one_second_and_across_seconds(self):
        # the formatted second is reused while times stay within it: each must still be right
        # going forward, backward and across a day, a year and the epoch
        from datetime import datetime, timezone

        def expected(ms):
            moment = datetime.fromtimestamp(ms // 1000, timezone.utc)
            return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"
        times = [1_764_028_741_123, 1_764_028_741_999, 1_764_028_742_000, 1_764_028_741_001,
                 1_767_225_599_999, 1_767_225_600_000, 0, 999, 1_000, 1_764_028_741_500]
        for ms in times:
            self.assertEqual(format_ts(ms), expected(ms))
        self.assertEqual(format_ts(1_767_225_600_000), "2026-01-01T00:00:00.000Z")
