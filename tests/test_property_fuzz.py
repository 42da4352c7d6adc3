"""Property-based tests (hypothesis) of everything that reads bytes from the network.

* the frame decoder, fed arbitrary bytes in arbitrary pieces, raises nothing but
  ``FrameTooLarge``, finds exactly the frames a simple reference reader finds, and never holds
  more than one maximum frame;
* every message parser (the client commands on the server side, the server messages on the
  client side) turns arbitrary JSON into a valid message or a ``ProtocolError`` with a known
  code, never another exception;
* the client's connection, fed arbitrary server frames, never raises;
* a server connection fed arbitrary frames never breaks the server: each request gets its
  ``ok`` or ``error`` (or the connection is closed after a ``bye`` ``abuse`` or a
  ``too_large`` frame), nothing is logged as an internal failure, and afterwards another user
  can still log in and have a message stored.

They run under trial and pytest alike (plain ``twisted.trial.unittest.TestCase`` classes).
"""

import json
import struct

from hypothesis import HealthCheck, example, given, settings, strategies as st
from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from chat.client.connection import ClientConnection
from chat.protocol import commands as C
from chat.protocol.codec import control_frame, decode_object, encode_object
from chat.protocol.errors import ALL_CODES, ProtocolError
from chat.protocol.framing import (
    BODY_KIND, FrameDecoder, FrameTooLarge, encode_body_frame, encode_frame)
from tests.harness import Client, make_server, user

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SERVER = settings(max_examples=200, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])

# -- strategies --------------------------------------------------------------------------------

# every field name any message declares, so that arbitrary objects reach the field checkers
FIELD_NAMES = sorted({spec.name.removesuffix("_")
                      for cls in (*C.CLIENT_COMMANDS.values(), *C.SERVER_MESSAGES.values())
                      for spec in C.fields(cls)} | {"type", "id", "body"})
TYPES = sorted(set(C.CLIENT_COMMANDS) | set(C.SERVER_MESSAGES))

json_scalars = (st.none() | st.booleans()
                | st.integers(min_value=-2**64, max_value=2**64)
                | st.sampled_from([0, 1, -1, 2**53 - 1, 2**53, 65_536, 16_000, 16_001])
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=40)
                | st.sampled_from(["", "#lobby", "@alice", "#", "@", "lobby", "alice", "@all",
                                   "image/png", "\ud800", "a" * 65, "x" * 16_001,
                                   "0" * 64, "../etc/passwd", "CON", "張伟"]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10) | st.sampled_from(FIELD_NAMES), children, max_size=5),
    max_leaves=20)

def _field_names(cls) -> list:
    return [spec.name.removesuffix("_") for spec in C.fields(cls)]


@st.composite
def typed_objects(draw, registry, any_type=False):
    """An object of a type ``registry`` knows (or, with ``any_type``, often any other type)
    whose fields, declared ones and a few others, have arbitrary JSON values."""
    if any_type and draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(TYPES) | st.text(max_size=12) | json_scalars)
    else:
        kind = draw(st.sampled_from(sorted(registry)))
    cls = registry.get(kind) if isinstance(kind, str) else None
    names = _field_names(cls) if cls is not None else ["id"]
    obj = draw(st.fixed_dictionaries({}, optional={name: json_values for name in names}))
    obj.update(draw(st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8),
                                    json_values, max_size=3)))
    obj["type"] = kind
    return obj


# objects that look like messages: a known (or unknown) type and fields any message may have
message_objects = typed_objects(C.CLIENT_COMMANDS, any_type=True) | typed_objects(
    C.SERVER_MESSAGES, any_type=True)


def _safe_to_encode(value) -> bool:
    try:
        encode_object({"v": value})
    except (ValueError, UnicodeEncodeError):
        return False
    return True


# -- the frame decoder -------------------------------------------------------------------------

def reference_frames(data: bytes, max_frame: int):
    """What a decoder must find in ``data``: (payloads, error?)."""
    frames, offset = [], 0
    while len(data) - offset >= 4:
        (length,) = struct.unpack_from(">I", data, offset)
        if length > max_frame:
            return frames, True
        if offset + 4 + length > len(data):
            break
        frames.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return frames, False


@st.composite
def streams(draw):
    """Bytes made of valid frames, oversized prefixes and garbage, and where to cut them."""
    max_frame = draw(st.integers(0, 300))
    parts = draw(st.lists(
        st.binary(max_size=max_frame).map(encode_frame)
        | st.binary(max_size=30)
        | st.integers(max_frame + 1, 2**32 - 1).map(lambda n: struct.pack(">I", n)),
        max_size=12))
    data = b"".join(parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=20)))
    return max_frame, data, cuts


class FrameDecoderProperties(unittest.TestCase):
    @FAST
    @given(streams())
    def test_arbitrary_bytes_in_arbitrary_pieces(self, stream):
        max_frame, data, cuts = stream
        decoder = FrameDecoder(max_frame)
        found, raised = [], False
        for start, stop in zip([0, *cuts], [*cuts, len(data)]):
            try:
                frames = decoder.feed(data[start:stop])
            except FrameTooLarge as exc:
                self.assertGreater(exc.length, max_frame)
                raised = True
                break
            for payload in frames:
                self.assertIsInstance(payload, (bytes, memoryview))
                self.assertLessEqual(len(payload), max_frame)
                found.append(bytes(payload))
            # never more than one frame (with its length prefix) held back
            self.assertLessEqual(decoder.pending, max_frame + 4)
        self.assertLessEqual(decoder.pending, max_frame + 4)  # not even after a refusal
        expected, too_large = reference_frames(data, max_frame)
        self.assertEqual(raised, too_large)
        if raised:
            # the frames completed by the read that held the bad prefix are not handed out
            # (the connection is closed at once), the ones before it all were
            self.assertEqual(found, expected[:len(found)])
        else:
            self.assertEqual(found, expected)

    @FAST
    @given(st.lists(st.binary(max_size=70), max_size=8), st.integers(1, 9))
    def test_body_frames_are_views_or_bytes_of_the_same_data(self, payloads, step):
        data = b"".join(encode_frame(bytes([BODY_KIND]) + p) for p in payloads)
        decoder = FrameDecoder(100)
        found = []
        for start in range(0, len(data), step):
            found += [bytes(p) for p in decoder.feed(data[start:start + step])]
        self.assertEqual(found, [bytes([BODY_KIND]) + p for p in payloads])
        self.assertEqual(decoder.pending, 0)


# -- the message parsers -----------------------------------------------------------------------

class ParserProperties(unittest.TestCase):
    def assertParsesOrRefuses(self, parse, obj, registry):
        try:
            message = parse(obj)
        except ProtocolError as exc:
            self.assertIn(exc.code, ALL_CODES)
            self.assertTrue(exc.message)
            return None
        self.assertIsInstance(message, C.Message)
        self.assertIs(type(message), registry[message.TYPE])
        # what was accepted can be sent on: it encodes as JSON and parses the same again
        if registry is C.CLIENT_COMMANDS:
            # (server messages are not re-encoded by clients: free-form objects such as a
            # message event's ``msg`` may hold anything JSON can, lone surrogates included)
            again = C.parse_request(encode_object(message.to_dict()))
            self.assertEqual(again, message)
        return message

    @FAST
    @given(message_objects)
    def test_client_commands(self, obj):
        self.assertParsesOrRefuses(lambda o: C.parse_message(o, C.CLIENT_COMMANDS), obj,
                                   C.CLIENT_COMMANDS)

    @FAST
    @given(message_objects)
    def test_server_messages(self, obj):
        self.assertParsesOrRefuses(lambda o: C.parse_message(o, C.SERVER_MESSAGES), obj,
                                   C.SERVER_MESSAGES)

    @FAST
    @given(st.sampled_from(sorted(C.CLIENT_COMMANDS)), st.data())
    def test_each_client_command_parse(self, kind, data):
        cls = C.CLIENT_COMMANDS[kind]
        names = [spec.name.removesuffix("_") for spec in C.fields(cls)]
        obj = data.draw(st.fixed_dictionaries(
            {"type": st.just(kind)}, optional={name: json_values for name in names}))
        self.assertParsesOrRefuses(cls.parse, obj, C.CLIENT_COMMANDS)

    @FAST
    @given(st.sampled_from(sorted(C.SERVER_MESSAGES)), st.data())
    def test_each_server_message_parse(self, kind, data):
        cls = C.SERVER_MESSAGES[kind]
        names = [spec.name.removesuffix("_") for spec in C.fields(cls)]
        obj = data.draw(st.fixed_dictionaries(
            {"type": st.just(kind)}, optional={name: json_values for name in names}))
        self.assertParsesOrRefuses(cls.parse, obj, C.SERVER_MESSAGES)

    @FAST
    @given(json_values)
    def test_any_json_value_as_a_frame(self, value):
        if not _safe_to_encode(value):
            return
        payload = json.dumps(value, ensure_ascii=False).encode("utf-8")
        for parse in (C.parse_request, C.parse_server_message):
            try:
                parse(payload)
            except ProtocolError as exc:
                self.assertIn(exc.code, ALL_CODES)

    @FAST
    @given(st.binary(max_size=200))
    def test_any_bytes_as_a_control_frame(self, payload):
        for parse in (decode_object, C.parse_request, C.parse_server_message):
            try:
                parse(b"{" + payload)
            except ProtocolError as exc:
                self.assertIn(exc.code, ALL_CODES)


# -- the client's connection -------------------------------------------------------------------

class _NullTransport:
    def write(self, data):
        pass

    def writeSequence(self, data):
        pass

    def loseConnection(self):
        pass

    def abortConnection(self):
        pass


class ClientConnectionProperties(unittest.TestCase):
    """What a (hostile or buggy) server sends never raises out of the client's connection."""

    def make(self):
        events, lost = [], []
        connection = ClientConnection(lambda kind, obj: events.append((kind, obj)), lost.append)
        connection.transport = _NullTransport()
        connection.connected = True
        # a few requests waiting for their replies, with small integer ids the fuzz can hit
        waiting = [connection.request(C.Ping()) for _ in range(3)]
        for d in waiting:
            d.addErrback(lambda failure: None)
        return connection, events

    @settings(FAST, max_examples=200)
    @given(st.lists(typed_objects(C.SERVER_MESSAGES, any_type=True), max_size=5))
    def test_arbitrary_server_objects(self, objects):
        connection, events = self.make()
        for obj in objects:
            if not _safe_to_encode(obj):
                continue
            connection.dataReceived(control_frame(obj))
        for kind, obj in events:
            self.assertIn(kind, C.SERVER_MESSAGES)
            C.SERVER_MESSAGES[kind].parse(obj)   # only checked events reach the client core

    @FAST
    @given(st.lists(st.binary(max_size=40).map(encode_frame)
                    | st.binary(max_size=40).map(lambda b: encode_frame(b"{" + b))
                    | st.tuples(st.integers(0, 5), st.binary(max_size=20)).map(
                        lambda t: encode_body_frame(*t)),
                    max_size=10))
    def test_arbitrary_server_frames(self, frames):
        connection, _events = self.make()
        connection.dataReceived(b"".join(frames))


# -- the server --------------------------------------------------------------------------------

@st.composite
def hostile_frames(draw):
    """One frame (or stretch of bytes) a hostile client might send; the object it carried if
    it was a control frame with an id this test chose."""
    kind = draw(st.sampled_from(["object", "object", "object", "json", "payload", "body",
                                 "raw"]))
    if kind == "object":
        return "object", draw(typed_objects(C.CLIENT_COMMANDS, any_type=True))
    if kind == "json":
        return "bytes", json.dumps(draw(json_values), ensure_ascii=False).encode(
            "utf-8", "surrogatepass")
    if kind == "payload":
        return "bytes", draw(st.binary(max_size=64))
    if kind == "body":
        return "frame", encode_body_frame(draw(st.integers(0, 2**32 - 1)),
                                          draw(st.binary(max_size=32)))
    return "raw", draw(st.binary(max_size=24))     # anything at all, prefix included


class ServerFuzzProperties(unittest.TestCase):
    """A connection fed arbitrary frames gets answers or a goodbye; the server stays up."""

    def setUp(self):
        self.failures = []

        def observe(event):
            if event.get("log_failure") is not None:
                self.failures.append(event)

        globalLogPublisher.addObserver(observe)
        self.addCleanup(globalLogPublisher.removeObserver, observe)

    @SERVER
    @given(st.sampled_from(["new", "hello", "logged_in"]),
           st.lists(hostile_frames(), min_size=1, max_size=25))
    # found by hypothesis: a partial length prefix makes the next request part of its frame
    @example("new", [("object", {"type": "ban"}), ("raw", b"\x00\x01"),
                     ("object", {"type": "ban"})])
    def test_hostile_connection(self, start, frames):
        server = make_server()
        alice = user(server, "alice")        # the first account (the admin) is not the fuzzer's
        bob = user(server, "bob")
        fuzzer = Client(server, host="198.51.100.7")
        if start != "new":
            fuzzer.hello()
        if start == "logged_in":
            fuzzer.register("mallory")
            fuzzer.login("mallory")
        fuzzer.pump()
        fuzzer.inbox.clear()

        expected = []      # ids that must get exactly one ok/error
        # after arbitrary bytes the decoder may be inside a frame whose announced length takes
        # in the frames sent after it: those are data, and no reply to them can be required
        framing_known = True
        for n, (kind, item) in enumerate(frames):
            if kind == "object":
                obj = dict(item)
                request_id = f"fuzz-{n}"
                obj["id"] = request_id
                if not _safe_to_encode(obj):
                    continue
                if obj.get("type") != "pong" and "body" not in obj and framing_known:
                    expected.append(request_id)
                data = control_frame(obj)
            elif kind == "bytes":
                data = encode_frame(item)
            else:
                data = item
                if kind == "raw":
                    framing_known = False
            fuzzer.raw(data)
            if fuzzer.closed:
                break
        fuzzer.pump()

        replies = {}
        for frame in fuzzer.inbox:
            if frame["type"] in ("ok", "error") and frame.get("id") is not None:
                replies[frame["id"]] = replies.get(frame["id"], 0) + 1
        self.assertTrue(all(count == 1 for count in replies.values()), replies)
        if fuzzer.closed:
            last = fuzzer.inbox[-1] if fuzzer.inbox else {}
            self.assertTrue(
                (last.get("type") == "bye" and last.get("code") in ("abuse", "kicked", "banned",
                                                                    "shutdown"))
                or (last.get("type") == "error" and last.get("code") == "too_large"),
                f"closed without a goodbye: {fuzzer.inbox[-3:]}")
        else:
            missing = [i for i in expected if i not in replies]
            self.assertEqual(missing, [], fuzzer.inbox)
        internal = [f for f in fuzzer.inbox
                    if f["type"] == "error" and f["code"] == "server_error"]
        self.assertEqual(internal, [])
        self.assertEqual(self.failures, [])

        # whatever happened, the others can still log in and chat, and it is stored
        fuzzer.disconnect()
        carol = Client(server, host="203.0.113.9")
        carol.hello()
        carol.register("carol")
        carol.login("carol")
        sent = carol.ok("send", to="#lobby", text="still standing", cid="after-fuzz")
        history = bob.ok("history", conv="#lobby")
        self.assertIn(sent["msg_id"], [m["id"] for m in history["messages"]
                                       if m.get("text") == "still standing"])
        alice.ok("users")
