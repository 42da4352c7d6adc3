"""File transfer through real ChatConnections, without sockets: file_offer, upload (streamed,
with flow control and resume), download (a push producer, queued per connection), files,
publishing as a message, permissions, limits, expiry, --lite, and restarts with SQLite.

File work runs synchronously (tests/harness.py) unless a test holds it back with HeldIO.
"""

import hashlib
import os
import random
import shutil
import tempfile
import threading

from twisted.internet import defer, reactor, task
from twisted.trial import unittest

from chat.protocol.codec import control_frame
from chat.protocol.errors import (
    BAD_REQUEST, CANCELLED, FORBIDDEN, NOT_FOUND, NOT_LOGGED_IN, QUOTA_EXCEEDED, TOO_LARGE)
from chat.protocol.framing import FILE_CHUNK, encode_body_frame
from chat.server.connection import MALFORMED_IN_A_ROW
from chat.server.core import ChatServer, ServerConfig
from chat.server.files.io import FileIO
from chat.server.files.transfers import HIGH_MARK, LOW_MARK, READ_AHEAD, READ_CHUNKS
from chat.server.handlers.files import EMPTY_SHA256
from chat.server.storage.memory import MemoryStorage
from chat.server.storage.sqlite import SQLiteStorage
from tests.harness import (
    AwaitedReplies, Client, fast_hasher, make_server, sync_file_io, user)

MiB = 1 << 20


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def temp_dir(case) -> str:
    # not case.mktemp(): under pytest that would be a folder inside the source tree
    path = tempfile.mkdtemp(prefix="chat-files-test-")
    case.addCleanup(shutil.rmtree, path, True)
    return path


class HeldIO:
    """A file runner the test releases by hand: file work waits until ``release``."""

    def __init__(self):
        self.calls = []

    def run(self, f, *args):
        d = defer.Deferred()
        self.calls.append((f, args, d))
        return d

    def release(self, n: int = 1) -> int:
        done = 0
        while self.calls and done < n:
            f, args, d = self.calls.pop(0)
            try:
                result = f(*args)
            except Exception:
                d.errback()
            else:
                d.callback(result)
            done += 1
        return done

    def release_all(self) -> None:
        while self.calls:
            self.release(len(self.calls))

    def release_newest_first(self) -> None:
        """Run what waits, the latest call first: threads of a pool finish in any order."""
        while self.calls:
            self.calls.insert(0, self.calls.pop())
            self.release(1)

    def release_hashes_last(self) -> None:
        """Run what waits, any work that is not hashing first."""
        while self.calls:
            others = [c for c in self.calls if getattr(c[0], "__name__", "") != "_hash_batch"]
            if others:
                self.calls.remove(others[0])
                self.calls.insert(0, others[0])
            self.release(1)


# -- talking to the server

def next_id(client) -> int:
    client._next_id += 1
    return client._next_id


def offer(client, to, data, name="data.bin", **extra):
    return client.request("file_offer", to=to, name=name, size=len(data), sha256=sha(data),
                          **extra)


def start_upload(client, file_id, data, offset=0, chunks=(FILE_CHUNK,), body=None):
    """Send the upload request and the body frames of ``data[offset:]``; returns the id."""
    request_id = next_id(client)
    rest = data[offset:]
    client.send({"type": "upload", "id": request_id, "file": file_id, "offset": offset,
                 "body": len(rest) if body is None else body})
    send_body(client, request_id, rest, chunks)
    return request_id


def send_body(client, request_id, data, chunks=(FILE_CHUNK,)):
    position, i = 0, 0
    while position < len(data):
        size = chunks[i % len(chunks)]
        client.raw(encode_body_frame(request_id, data[position:position + size]))
        position += size
        i += 1


def upload(client, file_id, data, offset=0, chunks=(FILE_CHUNK,)):
    return client.reply(start_upload(client, file_id, data, offset, chunks))


def send_file(client, to, data, name="data.bin"):
    """Offer and upload; returns the ok data of the upload (or of the offer if it was done)."""
    offered = offer(client, to, data, name)
    assert offered["type"] == "ok", offered
    if offered["data"]["offset"] == len(data):
        return offered["data"]
    reply = upload(client, offered["data"]["file"]["id"], data)
    assert reply["type"] == "ok", reply
    return reply["data"]


def take_body(client, request_id) -> bytes:
    client.pump()
    chunks, rest = [], []
    for frame in client.inbox:
        if frame["type"] == "_body" and int.from_bytes(frame["payload"][1:5], "big") == request_id:
            chunks.append(frame["payload"][5:])
        else:
            rest.append(frame)
    client.inbox = rest
    return b"".join(chunks)


def download(client, file_id, offset=0):
    """Returns (the reply, the body bytes received for it)."""
    request_id = next_id(client)
    client.send({"type": "download", "id": request_id, "file": file_id, "offset": offset})
    reply = client.reply(request_id)
    return reply, take_body(client, request_id)


def files_on_disk(root: str) -> dict:
    """{relative path: size} of every file under ``root``."""
    found = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            found[os.path.relpath(path, root)] = os.path.getsize(path)
    return found


class FilesCase(unittest.TestCase):
    """alice (admin: the first account), bob and carol, logged in; files in a temp dir."""

    config: dict = {}

    def setUp(self):
        self.files_dir = os.path.join(temp_dir(self), "files")
        self.server = self.make_server()
        self.clock = self.server.clock
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.carol = user(self.server, "carol")
        self.quiet()

    def make_server(self, **kwargs):
        config = {"files_dir": self.files_dir, **self.config}
        config.update(kwargs)
        return make_server(**config)

    def quiet(self):
        self.server.clock.advance(1)
        for client in (self.alice, self.bob, self.carol):
            client.events()


class RoundTripTests(FilesCase):
    def check_round_trip(self, data, chunks=(FILE_CHUNK,)):
        offered = offer(self.alice, "#lobby", data)["data"]
        file_id = offered["file"]["id"]
        self.assertEqual(offered["offset"], 0 if data else len(data))
        if data:
            self.assertFalse(offered["file"]["complete"])
            done = upload(self.alice, file_id, data, chunks=chunks)["data"]
        else:
            done = offered
        self.assertTrue(done["file"]["complete"])
        reply, body = download(self.bob, file_id)
        self.assertEqual(reply["type"], "ok", reply)
        self.assertEqual(reply.get("body"), len(data) or None)   # no body for 0 bytes
        self.assertEqual(sha(body), sha(data))
        self.assertEqual(len(body), len(data))
        return done

    def test_edge_sizes(self):
        for size in (0, 1, FILE_CHUNK - 1, FILE_CHUNK, FILE_CHUNK + 1, 3 * MiB + 17):
            with self.subTest(size=size):
                self.check_round_trip(random_bytes(size, seed=size))

    def test_body_frames_of_any_size_from_the_client(self):
        data = random_bytes(MiB + 5, seed=7)
        for i, chunks in enumerate(((1000,), (65536,), (FILE_CHUNK,),
                                    (1, FILE_CHUNK, 4097, 150_000))):
            with self.subTest(chunks=chunks):
                # different content each time: the same would be stored once, not uploaded
                self.check_round_trip(data + bytes(i), chunks=chunks)

    def test_upload_is_published_as_a_message(self):
        data = random_bytes(5000, seed=1)
        offered = offer(self.alice, "#lobby", data, name="docs/report.pdf",
                        mime="application/pdf")["data"]
        file = offered["file"]
        self.assertEqual((file["name"], file["size"], file["mime"], file["sha256"], file["from"],
                          file["to"], file["complete"]),
                         ("report.pdf", 5000, "application/pdf", sha(data), "alice", "#lobby",
                          False))
        self.assertTrue(file["ts"].endswith("Z"))
        self.assertEqual(self.bob.events("message"), [])   # nothing before the last byte
        done = upload(self.alice, file["id"], data)["data"]
        self.assertEqual(done["file"], {**file, "complete": True})
        for client in (self.alice, self.bob, self.carol):
            [event] = client.events("message")
            msg = event["msg"]
            self.assertEqual((msg["id"], msg["conv"], msg["from"], msg["to"], msg["cid"]),
                             (done["msg_id"], "#lobby", "alice", "#lobby", f"file-{file['id']}"))
            self.assertEqual(msg["file"], done["file"])
            self.assertNotIn("text", msg)

    def test_default_mime_and_hello_limits(self):
        data = b"x"
        file = offer(self.alice, "#lobby", data)["data"]["file"]
        self.assertEqual(file["mime"], "application/octet-stream")
        limits = Client(self.server).hello()["limits"]
        self.assertEqual((limits["max_file_size"], limits["quota"], limits["file_chunk"],
                          limits["partial_ttl"]), (100 * MiB, 1024 * MiB, FILE_CHUNK, 86400.0))
        self.assertNotIn("file_ttl", limits)

    def test_empty_file_needs_the_empty_hash(self):
        reply = self.alice.request("file_offer", to="#lobby", name="e", size=0,
                                   sha256="ab" * 32)
        self.assertEqual((reply["type"], reply["code"]), ("error", BAD_REQUEST))
        self.assertIn("SHA-256", reply["message"])
        ok = self.alice.ok("file_offer", to="#lobby", name="e", size=0, sha256=EMPTY_SHA256)
        self.assertEqual((ok["offset"], ok["file"]["complete"]), (0, True))
        self.assertIn("msg_id", ok)

    def test_private_file(self):
        data = random_bytes(70_000, seed=3)
        done = send_file(self.alice, "@BOB", data)
        self.assertEqual(done["file"]["to"], "@bob")
        [to_bob] = self.bob.events("message")
        self.assertEqual((to_bob["msg"]["conv"], to_bob["msg"]["to"]), ("@alice", "@bob"))
        self.assertEqual(self.carol.events("message"), [])
        self.assertEqual(download(self.bob, done["file"]["id"])[1], data)
        self.assertEqual(download(self.alice, done["file"]["id"])[1], data)


class PermissionTests(FilesCase):
    def test_private_file_is_not_found_for_a_third_user(self):
        done = send_file(self.alice, "@bob", random_bytes(1000))
        file_id = done["file"]["id"]
        theirs = self.carol.request("download", file=file_id)
        made_up = self.carol.request("download", file=file_id + 1000)
        self.assertEqual(theirs["code"], NOT_FOUND)
        self.assertEqual({k: v for k, v in theirs.items() if k != "id"},
                         {k: v for k, v in made_up.items() if k != "id"})
        self.assertEqual(take_body(self.carol, theirs["id"]), b"")
        # and carol's "@alice" or "@bob" are her own chats: no file there
        self.assertEqual(self.carol.ok("files", conv="@alice")["files"], [])
        self.assertEqual(self.carol.ok("files", conv="@bob")["files"], [])
        self.assertEqual(len(self.bob.ok("files", conv="@alice")["files"]), 1)

    def test_room_file_needs_membership(self):
        self.alice.ok("create_room", room="dev")
        self.bob.ok("join", room="dev")
        self.assertEqual(offer(self.carol, "#dev", b"x")["code"], FORBIDDEN)
        self.assertEqual(offer(self.carol, "#nowhere", b"x")["code"], NOT_FOUND)
        done = send_file(self.alice, "#dev", random_bytes(300))
        file_id = done["file"]["id"]
        self.assertEqual(self.carol.error("download", file=file_id), NOT_FOUND)
        self.assertEqual(download(self.bob, file_id)[1], random_bytes(300))
        # files: a room one is not in is as unknown as one that does not exist
        not_in = self.carol.request("files", conv="#dev")
        nowhere = self.carol.request("files", conv="#nowhere")
        self.assertEqual((not_in["code"], nowhere["code"]), (NOT_FOUND, NOT_FOUND))
        self.assertEqual(not_in["message"].replace("dev", "X"),
                         nowhere["message"].replace("nowhere", "X"))
        # who leaves the room loses access to its files
        self.bob.ok("leave", room="dev")
        self.assertEqual(self.bob.error("download", file=file_id), NOT_FOUND)

    def test_file_to_everybody_is_for_admins(self):
        self.assertEqual(offer(self.bob, "@all", b"x")["code"], FORBIDDEN)
        data = random_bytes(2000, seed=9)
        done = send_file(self.alice, "@all", data)
        self.assertEqual(done["file"]["to"], "@all")
        for client in (self.alice, self.bob, self.carol):
            [event] = client.events("message")
            self.assertEqual((event["msg"]["conv"], event["msg"]["file"]["to"]),
                             ("#lobby", "@all"))
            self.assertEqual(download(client, done["file"]["id"])[1], data)
        dave = user(self.server, "dave")     # came later: in #lobby too
        self.assertEqual(download(dave, done["file"]["id"])[1], data)
        self.assertEqual([f["id"] for f in dave.ok("files", conv="#lobby")["files"]],
                         [done["file"]["id"]])

    def test_unknown_user_and_login_needed(self):
        self.assertEqual(offer(self.alice, "@nobody", b"x")["code"], NOT_FOUND)
        stranger = Client(self.server)
        stranger.hello()
        self.assertEqual(offer(stranger, "#lobby", b"x")["code"], NOT_LOGGED_IN)
        self.assertEqual(stranger.error("download", file=1), NOT_LOGGED_IN)
        # an upload refused before login: its body frames are dropped, not counted as abuse
        request_id = start_upload(stranger, 1, b"y" * (25 * 1000), chunks=(1000,))
        self.assertEqual(stranger.reply(request_id)["code"], NOT_LOGGED_IN)
        self.assertFalse(stranger.closed)
        stranger.pump()
        self.assertEqual(stranger.inbox, [])

    def test_incomplete_file_is_not_found_for_download(self):
        data = random_bytes(FILE_CHUNK * 2)
        file_id = offer(self.alice, "@bob", data)["data"]["file"]["id"]
        self.assertEqual(self.bob.error("download", file=file_id), NOT_FOUND)
        self.assertEqual(self.alice.error("download", file=file_id), NOT_FOUND)
        self.assertEqual(self.bob.ok("files", conv="@alice")["files"], [])

    def test_hostile_names_are_refused(self):
        for name in ("/etc/passwd", "\\\\host\\x", "C:\\x", "../x", "a/../../b", "a\x00b",
                     "tab\there", "CON", "nul.txt", "COM1", "lpt1.log", "", ".", " . "):
            with self.subTest(name=name):
                self.assertEqual(offer(self.alice, "#lobby", b"x", name=name)["code"],
                                 BAD_REQUEST)
        self.assertEqual(offer(self.alice, "#lobby", b"x", name="docs/r.pdf. ")["data"]
                         ["file"]["name"], "r.pdf")

    def test_device_names_with_spaces_before_the_dot_are_refused(self):
        # Windows ignores the spaces: both are the printer and the console
        for name in ("con .txt", "prn . txt", "AUX  .log", "nul\u200b.txt"):
            with self.subTest(name=name):
                self.assertEqual(offer(self.alice, "#lobby", b"x", name=name)["code"],
                                 BAD_REQUEST)

    def offered(self, name):
        # a body of its own each time: an offer of held content answers with that file
        self.bodies = getattr(self, "bodies", 0) + 1
        reply = offer(self.alice, "#lobby", b"x%d" % self.bodies, name=name)
        self.assertEqual(reply["type"], "ok", reply)
        return reply["data"]["file"]["name"]

    def test_display_tricks_are_taken_out_of_names(self):
        # U+202E would show "invoice\u202efdp.exe" as "invoiceexe.pdf"
        self.assertEqual(self.offered("invoice\u202efdp.exe"), "invoicefdp.exe")
        self.assertEqual(self.offered("a\u200bb\ufeffc\u2066d\u2069.txt"), "abcd.txt")
        self.assertEqual(self.offered("line\u2028break\u2029.txt"), "linebreak.txt")
        self.assertEqual(self.offered("tag\U000e0041\U000e007f.txt"), "tag.txt")
        self.assertEqual(self.offered('note: a<b>c|d?e*f"g.txt'), "note_ a_b_c_d_e_f_g.txt")
        self.assertEqual(self.offered("报告 2026.pdf"), "报告 2026.pdf")
        self.assertEqual(offer(self.alice, "#lobby", b"x", name="\u200b\u202e")["code"],
                         BAD_REQUEST)

    def test_names_are_capped_at_255_bytes_keeping_the_extension(self):
        name = self.offered("文" * 100 + ".pdf")        # 304 bytes of UTF-8, 104 characters
        self.assertLessEqual(len(name.encode("utf-8")), 255)
        self.assertEqual(name, "文" * 83 + ".pdf")        # 249 + 4 bytes, cut between characters
        self.assertEqual(self.offered("a" * 300), "a" * 255)


class LimitTests(FilesCase):
    config = {"max_file_size": 10_000, "quota": 25_000}

    def test_over_the_maximum_size(self):
        reply = offer(self.alice, "#lobby", b"z" * 10_001, name="big.iso")
        self.assertEqual(reply["code"], TOO_LARGE)
        self.assertIn("10,001", reply["message"])
        self.assertIn("10,000", reply["message"])
        send_file(self.alice, "#lobby", b"z" * 10_000)

    def test_over_the_quota(self):
        send_file(self.alice, "#lobby", random_bytes(9_000, 1))
        partial = offer(self.alice, "#lobby", random_bytes(9_000, 2))   # partials count too
        self.assertEqual(partial["type"], "ok")
        reply = offer(self.alice, "#lobby", random_bytes(9_000, 3))
        self.assertEqual(reply["code"], QUOTA_EXCEEDED)
        self.assertIn("7,000 bytes left", reply["message"])
        send_file(self.alice, "#lobby", random_bytes(7_000, 4))
        self.assertIn("0 bytes left", offer(self.alice, "#lobby", b"1")["message"])
        # the same content again costs quota again (a file record each), but a resume does not
        self.assertEqual(offer(self.alice, "#lobby", random_bytes(9_000, 2))["type"], "ok")
        self.assertEqual(send_file(self.bob, "#lobby", random_bytes(9_000, 1))["offset"], 9_000)

    def test_refused_before_any_byte(self):
        self.assertEqual(offer(self.alice, "#lobby", b"z" * 20_000)["code"], TOO_LARGE)
        self.assertEqual(files_on_disk(self.files_dir) if os.path.exists(self.files_dir)
                         else {}, {})


class UploadRuleTests(FilesCase):
    def setUp(self):
        super().setUp()
        self.data = random_bytes(3 * FILE_CHUNK + 100, seed=11)
        self.file_id = offer(self.alice, "#lobby", self.data)["data"]["file"]["id"]

    def test_wrong_offset(self):
        reply = upload(self.alice, self.file_id, self.data, offset=10)
        self.assertEqual(reply["code"], BAD_REQUEST)
        self.assertIn("offset 0", reply["message"])
        self.assertFalse(self.alice.closed)
        self.assertEqual(upload(self.alice, self.file_id, self.data)["type"], "ok")

    def test_body_must_be_the_rest(self):
        request_id = start_upload(self.alice, self.file_id, self.data, body=len(self.data) - 1)
        self.assertEqual(self.alice.reply(request_id)["code"], BAD_REQUEST)
        self.assertFalse(self.alice.closed)   # its frames were dropped, not counted as abuse
        self.alice.pump()
        self.assertEqual([f for f in self.alice.inbox if f["type"] == "error"], [])

    def test_only_the_sender_uploads(self):
        reply = upload(self.bob, self.file_id, self.data)
        self.assertEqual((reply["code"], reply["message"]), (NOT_FOUND, "no such file"))
        self.assertEqual(upload(self.bob, 999, self.data)["message"], "no such file")

    def test_wrong_hash_drops_the_partial(self):
        bad = bytearray(self.data)
        bad[-1] ^= 1
        reply = upload(self.alice, self.file_id, bytes(bad))
        self.assertEqual((reply["code"], reply["message"]),
                         (BAD_REQUEST, "the data does not match its SHA-256"))
        self.assertEqual(files_on_disk(self.files_dir), {})
        again = offer(self.alice, "#lobby", self.data)["data"]
        self.assertEqual((again["file"]["id"], again["offset"]), (self.file_id, 0))
        self.assertEqual(upload(self.alice, self.file_id, self.data)["type"], "ok")

    def test_sender_who_left_the_room_may_not_upload(self):
        self.bob.ok("create_room", room="dev")
        data = b"for dev" * 100
        file_id = offer(self.bob, "#dev", data)["data"]["file"]["id"]
        self.bob.ok("join", room="dev")
        self.alice.ok("join", room="dev")
        self.bob.ok("leave", room="dev")
        self.assertEqual(upload(self.bob, file_id, data)["code"], FORBIDDEN)

    def test_complete_file_is_not_uploaded_again(self):
        upload(self.alice, self.file_id, self.data)
        self.assertEqual(upload(self.alice, self.file_id, self.data)["code"], BAD_REQUEST)

    def test_two_bodies_at_once(self):
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": self.file_id, "offset": 0,
                         "body": len(self.data)})
        self.assertEqual(self.alice.error("set_avatar", avatar_type="image/png", body=4),
                         BAD_REQUEST)
        send_body(self.alice, request_id, self.data)
        self.assertEqual(self.alice.reply(request_id)["type"], "ok")

    def test_body_frame_longer_than_announced(self):
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": self.file_id, "offset": 0,
                         "body": len(self.data)})
        send_body(self.alice, request_id, self.data[:-50])
        self.alice.raw(encode_body_frame(request_id, self.data[-50:] + b"extra"))
        self.assertEqual(self.alice.reply(request_id)["code"], BAD_REQUEST)
        # what arrived before stays for a resume
        self.assertEqual(offer(self.alice, "#lobby", self.data)["data"]["offset"],
                         len(self.data) - 50)

    def test_chat_goes_on_during_an_upload(self):
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": self.file_id, "offset": 0,
                         "body": len(self.data)})
        send_body(self.alice, request_id, self.data[:FILE_CHUNK])
        self.alice.ok("send", to="#lobby", text="still here", cid="c1")
        send_body(self.alice, request_id, self.data[FILE_CHUNK:])
        self.assertEqual(self.alice.reply(request_id)["type"], "ok")


class ResumeTests(FilesCase):
    def test_upload_resumes_after_a_cut(self):
        data = random_bytes(5 * FILE_CHUNK + 3, seed=5)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        send_body(self.alice, request_id, data[:2 * FILE_CHUNK + 1000], chunks=(FILE_CHUNK,))
        self.alice.disconnect()
        alice = user(self.server, "alice", register=False)
        again = offer(alice, "#lobby", data)["data"]
        self.assertEqual((again["file"]["id"], again["offset"]), (file_id, 2 * FILE_CHUNK + 1000))
        done = upload(alice, file_id, data, offset=again["offset"])["data"]
        self.assertTrue(done["file"]["complete"])
        self.assertEqual(download(self.bob, file_id)[1], data)

    def test_reconnect_before_the_old_link_is_noticed(self):
        data = random_bytes(3 * FILE_CHUNK, seed=6)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        send_body(self.alice, request_id, data[:FILE_CHUNK])
        alice2 = user(self.server, "alice", register=False)       # the old link still "open"
        again = offer(alice2, "#lobby", data)["data"]
        self.assertEqual(again["offset"], FILE_CHUNK)
        done = upload(alice2, file_id, data, offset=FILE_CHUNK)
        self.assertEqual(done["type"], "ok")
        send_body(self.alice, request_id, data[FILE_CHUNK:])        # the old one, too late
        self.assertEqual(self.alice.reply(request_id)["code"], BAD_REQUEST)
        self.assertEqual(download(self.bob, file_id)[1], data)

    def test_resume_a_download(self):
        data = random_bytes(2 * FILE_CHUNK + 77, seed=8)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        for offset in (1, FILE_CHUNK, FILE_CHUNK + 5, len(data) - 1, len(data)):
            with self.subTest(offset=offset):
                reply, body = download(self.bob, file_id, offset)
                self.assertEqual(reply["data"]["offset"], offset)
                self.assertEqual(body, data[offset:])
        self.assertEqual(self.bob.error("download", file=file_id, offset=len(data) + 1),
                         BAD_REQUEST)

    def test_all_bytes_arrived_but_the_check_never_ran(self):
        # the server went down between the last byte and the hash check: at the next start
        # the partial holds every byte, and the next offer checks and publishes it
        data = random_bytes(FILE_CHUNK + 9, seed=12)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        with open(os.path.join(self.files_dir, "partial", str(file_id)), "wb") as f:
            f.write(data)
        server = self.make_server(storage=self.server.storage)
        alice = user(server, "alice", register=False)
        again = offer(alice, "#lobby", data)["data"]
        self.assertEqual((again["file"]["id"], again["offset"], again["file"]["complete"]),
                         (file_id, len(data), True))
        self.assertEqual(download(alice, file_id)[1], data)

    def test_a_partial_that_does_not_match_starts_again(self):
        data = random_bytes(1000, seed=13)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        with open(os.path.join(self.files_dir, "partial", str(file_id)), "wb") as f:
            f.write(b"\0" * 1000)
        server = self.make_server(storage=self.server.storage)
        alice = user(server, "alice", register=False)
        again = offer(alice, "#lobby", data)["data"]
        self.assertEqual((again["file"]["id"], again["offset"]), (file_id, 0))


class DedupTests(FilesCase):
    def test_same_content_is_stored_once(self):
        data = random_bytes(FILE_CHUNK + 500, seed=21)
        first = send_file(self.alice, "#lobby", data)
        again = offer(self.bob, "@alice", data, name="copy.bin")["data"]
        self.assertEqual((again["offset"], again["file"]["complete"]), (len(data), True))
        self.assertNotEqual(again["file"]["id"], first["file"]["id"])
        self.assertIn("msg_id", again)
        messages = self.alice.events("message")   # her own in #lobby, then bob's to her
        self.assertEqual([m["msg"]["conv"] for m in messages], ["#lobby", "@bob"])
        self.assertEqual(files_on_disk(self.files_dir),
                         {os.path.join(sha(data)[:2], sha(data)): len(data)})
        self.assertEqual(download(self.alice, again["file"]["id"])[1], data)

    def test_second_offer_is_a_new_message(self):
        data = b"same bytes"
        first = send_file(self.alice, "#lobby", data)
        self.quiet()
        second = send_file(self.alice, "#lobby", data)
        self.assertNotEqual(second["file"]["id"], first["file"]["id"])
        [event] = self.bob.events("message")
        self.assertEqual(event["msg"]["file"]["id"], second["file"]["id"])


class FilesListTests(FilesCase):
    def test_newest_first_in_pages(self):
        ids = [send_file(self.alice, "#lobby", b"file %d" % i)["file"]["id"] for i in range(5)]
        offer(self.alice, "#lobby", b"incomplete" * 1000)          # not listed
        page = self.bob.ok("files", conv="#lobby", limit=2)
        self.assertEqual(([f["id"] for f in page["files"]], page["more"]),
                         (ids[:-3:-1], True))
        page = self.bob.ok("files", conv="#lobby", limit=2, before=page["files"][-1]["id"])
        self.assertEqual([f["id"] for f in page["files"]], ids[2:0:-1])
        page = self.bob.ok("files", conv="#lobby", limit=2, before=page["files"][-1]["id"])
        self.assertEqual(([f["id"] for f in page["files"]], page["more"]), ([ids[0]], False))
        self.assertTrue(all(f["complete"] for f in page["files"]))


class HistoryTests(FilesCase):
    def test_file_message_in_history_sync_and_unread(self):
        self.bob.disconnect()
        done = send_file(self.alice, "@bob", b"for bob")
        bob = user(self.server, "bob", register=False)
        [synced] = bob.ok("sync", since=0)["messages"]
        self.assertEqual((synced["id"], synced["file"]["id"], synced["conv"]),
                         (done["msg_id"], done["file"]["id"], "@alice"))
        self.assertNotIn("text", synced)
        [seen] = bob.ok("history", conv="@alice")["messages"]
        self.assertEqual(seen, synced)
        self.assertEqual(bob.ok("unread")["unread"], {"@alice": 1})


class ExpiryTests(FilesCase):
    config = {"partial_ttl": 100}

    def test_abandoned_partial_is_deleted_with_its_record(self):
        data = random_bytes(3 * FILE_CHUNK, seed=31)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        send_body(self.alice, request_id, data[:FILE_CHUNK])
        self.clock.advance(150)            # the upload still runs: not abandoned
        self.assertIn(os.path.join("partial", str(file_id)), files_on_disk(self.files_dir))
        self.alice.disconnect()
        self.clock.advance(99)
        self.assertIn(file_id, self.server.files.catalog.partials)
        self.clock.advance(2)
        self.assertNotIn(file_id, self.server.files.catalog.partials)
        self.assertEqual(files_on_disk(self.files_dir), {})
        self.assertIsNone(self.successResultOf(self.server.storage.file_by_id(file_id)))
        alice = user(self.server, "alice", register=False)
        self.assertEqual(upload(alice, file_id, data)["code"], NOT_FOUND)
        again = offer(alice, "#lobby", data)["data"]
        self.assertNotEqual(again["file"]["id"], file_id)
        self.assertEqual(again["offset"], 0)

    def test_expired_partials_go_at_start_up(self):
        storage = self.server.storage
        file_id = offer(self.alice, "#lobby", b"q" * 5000)["data"]["file"]["id"]
        self.clock.advance(101)
        clock = task.Clock()
        clock.advance(self.clock.seconds() - 1_800_000_000 + 500)
        self.make_server(storage=storage, clock=clock)
        self.assertIsNone(self.successResultOf(storage.file_by_id(file_id)))


class LiteTests(FilesCase):
    config = {"persistent": False, "message_log": False, "file_ttl": 600, "files_dir": None}

    def make_server(self, **kwargs):
        self.io = HeldIO()
        self.holding = False
        server = make_server(file_io=FileIO(run_in_thread=self.file_run),
                             **{**self.config, **kwargs})
        self.addCleanup(lambda: server.files.store and server.files.store.remove())
        return server

    def file_run(self, f, *args):
        if self.holding:
            return self.io.run(f, *args)
        return defer.maybeDeferred(f, *args)

    def test_temporary_store_and_limits(self):
        self.assertIsNone(self.server.files.store)        # made at the first offer
        send_file(self.alice, "@bob", b"x")
        root = self.server.files.store.root
        self.assertTrue(os.path.isdir(root))
        self.assertEqual(Client(self.server).hello()["limits"]["file_ttl"], 600)
        self.successResultOf(self.server.stop())
        self.assertFalse(os.path.exists(root))

    def test_deleted_once_the_recipient_has_it(self):
        data = random_bytes(FILE_CHUNK + 1, seed=41)
        file_id = send_file(self.alice, "@bob", data)["file"]["id"]
        root = self.server.files.store.root
        self.assertEqual(download(self.alice, file_id)[1], data)    # the sender: no matter
        self.assertIn(file_id, self.server.files.catalog.complete)
        reply, body = download(self.bob, file_id, offset=FILE_CHUNK)   # only the end
        self.assertIn(file_id, self.server.files.catalog.complete)
        reply, body = download(self.bob, file_id, offset=5)            # a gap before it
        self.assertIn(file_id, self.server.files.catalog.complete)
        self.assertEqual(download(self.bob, file_id)[1], data)
        self.assertEqual(self.bob.error("download", file=file_id), NOT_FOUND)
        self.assertEqual(files_on_disk(root), {})
        self.assertEqual(self.bob.ok("files", conv="@alice")["files"], [])
        # the message still shows what the file was
        [msg] = self.bob.ok("history", conv="@alice")["messages"]
        self.assertEqual(msg["file"]["id"], file_id)

    def test_room_file_waits_for_every_member(self):
        file_id = send_file(self.alice, "#lobby", b"for all of you")["file"]["id"]
        download(self.bob, file_id)
        self.assertEqual(download(self.carol, file_id)[1], b"for all of you")
        self.assertEqual(self.alice.error("download", file=file_id), NOT_FOUND)

    def test_a_cut_download_completed_by_a_resume_counts(self):
        data = random_bytes((READ_CHUNKS + 2) * FILE_CHUNK, seed=42)
        file_id = send_file(self.alice, "@bob", data)["file"]["id"]
        self.holding = True
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.io.release(2)             # the open and the first read: written
        got = len(take_body(self.bob, request_id))
        self.assertEqual(got, READ_CHUNKS * FILE_CHUNK)
        self.bob.disconnect()          # cut
        self.io.release_all()
        self.holding = False
        bob = user(self.server, "bob", register=False)
        self.assertIn(file_id, self.server.files.catalog.complete)
        self.assertEqual(download(bob, file_id, offset=got)[1], data[got:])
        self.assertEqual(bob.error("download", file=file_id), NOT_FOUND)

    def test_deleted_after_the_ttl(self):
        file_id = send_file(self.alice, "@bob", b"late")["file"]["id"]
        self.clock.advance(599)
        self.assertEqual(download(self.bob, file_id, 4)[0]["type"], "ok")
        self.clock.advance(1)
        self.assertEqual(self.bob.error("download", file=file_id), NOT_FOUND)
        self.assertEqual(files_on_disk(self.server.files.store.root), {})
        # deleted records no longer count against the quota
        self.assertEqual(self.successResultOf(self.server.storage.quota_used(1)), 0)

    def test_content_shared_by_two_files_stays_for_the_other(self):
        data = b"shared content"
        first = send_file(self.alice, "@bob", data)["file"]["id"]
        second = send_file(self.alice, "@carol", data)["file"]["id"]
        download(self.bob, first)
        self.assertEqual(download(self.carol, second)[1], data)
        self.assertEqual(files_on_disk(self.server.files.store.root), {})


class FailureTests(FilesCase):
    def test_unreadable_file_closes_the_connection_after_its_ok(self):
        data = random_bytes(FILE_CHUNK + 1, seed=81)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        os.remove(self.server.files.store.blob_path(sha(data)))     # the disk lost it
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.assertEqual(self.bob.reply(request_id)["body"], len(data))
        self.assertTrue(self.bob.transport.disconnecting)    # the client resumes later
        self.assertIsNone(self.bob.transport.producer)
        self.assertEqual(len(self.flushLoggedErrors(FileNotFoundError)), 1)

    def test_an_error_while_sending_ends_the_download_instead_of_hanging(self):
        data = random_bytes(FILE_CHUNK + 1, seed=83)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        transport = self.bob.transport
        real = transport.writeSequence

        def broken(seq):
            if len(seq) == 2 and seq[0][4:5] == b"\x01":      # a body frame's prefix
                raise TypeError("Data must be bytes")
            return real(seq)
        transport.writeSequence = broken
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.assertEqual(self.bob.reply(request_id)["body"], len(data))
        self.assertTrue(transport.disconnecting)             # ended; the client resumes later
        self.assertIsNone(transport.producer)
        self.assertEqual(self.server.files.catalog.downloads_of, {})
        self.assertEqual(len(self.flushLoggedErrors(TypeError)), 1)

    def test_stop_keeps_partial_uploads(self):
        data = random_bytes(3 * FILE_CHUNK, seed=82)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        send_body(self.alice, request_id, data[:FILE_CHUNK + 10])
        self.successResultOf(self.server.stop())
        self.alice.disconnect()                  # after the stop: nothing more to do
        self.assertEqual(files_on_disk(self.files_dir),
                         {os.path.join("partial", str(file_id)): FILE_CHUNK + 10})
        server = self.make_server(storage=self.server.storage)
        alice = user(server, "alice", register=False)
        self.assertEqual(offer(alice, "#lobby", data)["data"]["offset"], FILE_CHUNK + 10)


class FlowControlTests(unittest.TestCase):
    """Uploads pause the transport above HIGH_MARK bytes waiting for the disk and resume
    below LOW_MARK; downloads honour pauseProducing and wait for each other."""

    def setUp(self):
        self.io = HeldIO()
        self.files_dir = os.path.join(temp_dir(self), "files")
        self.server = make_server(files_dir=self.files_dir,
                                  file_io=FileIO(run_in_thread=lambda f, *a: self.file_run(f, *a)))
        self.holding = False
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")

    def file_run(self, f, *args):
        if self.holding:
            return self.io.run(f, *args)
        return defer.maybeDeferred(f, *args)

    def test_upload_pauses_above_the_high_mark_and_resumes_below_the_low_one(self):
        data = random_bytes(2 * HIGH_MARK, seed=51)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        transport = self.alice.transport
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        self.holding = True
        sink = self.server.files.catalog.partials[file_id].sink
        sent = 0
        # a transport only delivers while it is producing, one frame per read here
        while transport.producerState == "producing" and sent < len(data):
            self.alice.raw(encode_body_frame(request_id, data[sent:sent + FILE_CHUNK]))
            sent += FILE_CHUNK
        self.assertEqual(transport.producerState, "paused")
        self.assertGreaterEqual(sink.queued, HIGH_MARK)
        self.assertLess(sink.queued - FILE_CHUNK, HIGH_MARK)   # paused at the first chunk over
        # the disk catches up: still paused until under the low mark
        self.io.release(1)      # the open
        while sink.queued >= LOW_MARK:
            self.assertEqual(transport.producerState, "paused")
            self.io.release(1)
        self.assertEqual(transport.producerState, "producing")
        heartbeat = self.alice.connection._heartbeat
        self.assertEqual(heartbeat.last, self.server.clock.seconds())
        while sent < len(data):
            if transport.producerState == "producing":
                self.alice.raw(encode_body_frame(request_id, data[sent:sent + FILE_CHUNK]))
                sent += FILE_CHUNK
            else:
                self.io.release(1)
            self.assertLessEqual(sink.queued, HIGH_MARK + FILE_CHUNK)
        self.holding = False
        self.io.release_all()
        self.assertEqual(self.alice.reply(request_id)["type"], "ok")
        self.assertEqual(transport.producerState, "producing")
        self.assertLessEqual(sink.peak, HIGH_MARK + FILE_CHUNK)   # memory stays bounded

    def test_hashes_wait_for_the_open_and_the_commit_for_the_last_hash(self):
        # the write and the hash of a batch run in two threads; whichever order the pool
        # finishes them in, the digest covers every byte once, in order
        data = random_bytes(3 * FILE_CHUNK + 7, seed=59)
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.holding = True
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        starts = range(0, len(data), FILE_CHUNK)
        for start in starts:
            self.alice.raw(encode_body_frame(request_id, data[start:start + FILE_CHUNK]))
            if start != starts[-1]:
                self.io.release_newest_first()    # a hash would beat the open
        self.io.release_hashes_last()             # the commit would beat the last hash
        self.holding = False
        reply = self.alice.reply(request_id)
        self.assertEqual(reply["type"], "ok", reply)
        with open(os.path.join(self.files_dir, sha(data)[:2], sha(data)), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_slow_disk_does_not_get_the_uploader_dropped(self):
        data = random_bytes(8 * HIGH_MARK, seed=52)   # many times what the server buffers
        file_id = offer(self.alice, "#lobby", data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(data)})
        self.holding = True
        sent = 0
        for _ in range(12):        # two minutes, one write every ten seconds
            # the client sends whenever the server reads; the server mostly waits for its disk
            while self.alice.transport.producerState == "producing" and sent < len(data):
                self.alice.raw(encode_body_frame(request_id, data[sent:sent + FILE_CHUNK]))
                sent += FILE_CHUNK
            self.server.clock.advance(10)
            self.io.release(1)
        self.assertLess(sent, len(data))     # still uploading after two minutes...
        self.assertFalse(self.alice.closed)  # ...and not taken for a dead connection

    def test_download_honours_pause(self):
        data = random_bytes(4 * (READ_AHEAD + READ_CHUNKS) * FILE_CHUNK, seed=53)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        transport = self.bob.transport
        request_id = next_id(self.bob)
        self.holding = True
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        producer = transport.producer
        self.assertIsNotNone(producer)
        self.io.release(1)            # the open
        self.io.release(1)            # the first read, READ_CHUNKS frames: written at once
        first = READ_CHUNKS * FILE_CHUNK
        self.assertEqual(len(take_body(self.bob, request_id)), first)
        producer.pauseProducing()
        self.io.release_all()         # reads ahead, up to READ_AHEAD frames, but writes nothing
        self.assertEqual(take_body(self.bob, request_id), b"")
        self.assertEqual(self.io.calls, [])
        self.assertGreaterEqual(len(producer._ready), READ_AHEAD)
        self.assertLess(len(producer._ready), READ_AHEAD + READ_CHUNKS)
        self.assertLess(producer._next, len(data))     # it stopped reading
        producer.resumeProducing()
        self.holding = False
        self.io.release_all()
        body = take_body(self.bob, request_id)
        self.assertEqual(data[first:], body)
        # unregistered at the end: the connection watches its own output again
        self.assertIs(transport.producer, self.bob.connection.output)

    def test_ok_comes_before_the_body_and_downloads_queue(self):
        one = random_bytes(3 * FILE_CHUNK, seed=54)
        two = random_bytes(FILE_CHUNK + 1, seed=55)
        first = send_file(self.alice, "#lobby", one)["file"]["id"]
        second = send_file(self.alice, "#lobby", two)["file"]["id"]
        self.bob.events()
        self.holding = True
        id1, id2 = next_id(self.bob), next_id(self.bob)
        self.bob.send({"type": "download", "id": id1, "file": first})
        self.bob.send({"type": "download", "id": id2, "file": second})
        self.bob.pump()
        self.assertEqual([f.get("id") for f in self.bob.inbox], [id1])   # the second waits
        self.holding = False
        self.io.release_all()
        self.bob.pump()
        order = [(f["type"], f.get("id") or int.from_bytes(f["payload"][1:5], "big"))
                 for f in self.bob.inbox]
        self.assertEqual(order, [("ok", id1)] + [("_body", id1)] * 3
                         + [("ok", id2)] + [("_body", id2)] * 2)
        self.assertEqual(take_body(self.bob, id1), one)
        self.assertEqual(take_body(self.bob, id2), two)

    def test_chat_events_keep_their_place_around_a_download(self):
        data = random_bytes(2 * FILE_CHUNK, seed=56)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        self.bob.events()
        self.holding = True
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.alice.ok("send", to="#lobby", text="meanwhile", cid="m1")
        self.holding = False
        self.io.release_all()
        self.bob.pump()
        kinds = [f["type"] for f in self.bob.inbox]
        self.assertEqual(kinds, ["ok", "message", "_body", "_body"])

    def test_lost_connection_stops_the_download(self):
        data = random_bytes(4 * FILE_CHUNK, seed=57)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        self.holding = True
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        producer = self.bob.transport.producer
        self.io.release(2)
        self.bob.disconnect()
        self.io.release_all()
        self.assertTrue(producer.ended)
        self.assertEqual(self.server.files.catalog.downloads_of, {})
        self.assertIsNone(producer._file)

    def test_producer_reads_are_chunk_sized(self):
        data = random_bytes(3 * FILE_CHUNK + 10, seed=58)
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.bob.pump()
        sizes = [len(f["payload"]) - 5 for f in self.bob.inbox if f["type"] == "_body"]
        self.assertEqual(sizes, [FILE_CHUNK] * 3 + [10])


# -- SQLite: the server restarts between the steps

class RestartTests(AwaitedReplies, unittest.TestCase):
    """A real SQLiteStorage (its thread; the reactor runs), file I/O synchronous."""

    timeout = 30

    def setUp(self):
        root = temp_dir(self)
        self.db = os.path.join(root, "chat.db")
        self.files_dir = os.path.join(root, "files")
        self.clock = task.Clock()
        self.clock.advance(1_800_000_000)
        self.server = None

    def tearDown(self):
        return self.server.stop() if self.server is not None else None

    @defer.inlineCallbacks
    def start(self):
        if self.server is not None:
            yield self.server.stop()
        self.server = ChatServer(ServerConfig(files_dir=self.files_dir),
                                 SQLiteStorage(self.db, synchronous="OFF"), fast_hasher(),
                                 self.clock, file_io=sync_file_io())
        yield self.server.start()

    @defer.inlineCallbacks
    def login(self, name, register=False):
        client = Client(self.server)
        yield self.ok(client, "hello", version=1)
        if register:
            yield self.ok(client, "register", username=name, password="correct horse")
        yield self.ok(client, "login", username=name, password="correct horse")
        return client

    @defer.inlineCallbacks
    def test_restart_between_offer_upload_and_download(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        yield self.login("bob", register=True)
        data = random_bytes(3 * FILE_CHUNK + 5, seed=61)
        offered = yield self.ok(alice, "file_offer", to="@bob", name="a.bin", size=len(data),
                                sha256=sha(data))
        file_id = offered["file"]["id"]
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                    "body": len(data)})
        send_body(alice, request_id, data[:FILE_CHUNK + 3])
        alice.disconnect()
        yield self.start()                           # partial upload, then a restart
        alice = yield self.login("alice")
        again = yield self.ok(alice, "file_offer", to="@bob", name="a.bin", size=len(data),
                              sha256=sha(data))
        self.assertEqual((again["file"]["id"], again["offset"]), (file_id, FILE_CHUNK + 3))
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id,
                    "offset": FILE_CHUNK + 3, "body": len(data) - FILE_CHUNK - 3})
        send_body(alice, request_id, data[FILE_CHUNK + 3:])
        done = yield self.reply(alice, request_id)
        self.assertEqual(done["type"], "ok", done)
        yield self.start()                           # complete, then a restart
        bob = yield self.login("bob")
        request_id = next_id(bob)
        bob.send({"type": "download", "id": request_id, "file": file_id})
        reply = yield self.reply(bob, request_id)
        self.assertEqual(reply["data"]["file"]["complete"], True)
        self.assertEqual(take_body(bob, request_id), data)
        [msg] = (yield self.ok(bob, "sync", since=0))["messages"]
        self.assertEqual((msg["file"]["id"], msg["file"]["name"]), (file_id, "a.bin"))
        listed = yield self.ok(bob, "files", conv="@alice")
        self.assertEqual([f["id"] for f in listed["files"]], [file_id])

    @defer.inlineCallbacks
    def test_restart_between_offer_and_download_of_stored_content(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        data = b"already here"
        first = yield self.ok(alice, "file_offer", to="#lobby", name="a", size=len(data),
                              sha256=sha(data))
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": first["file"]["id"],
                    "offset": 0, "body": len(data)})
        send_body(alice, request_id, data)
        yield self.reply(alice, request_id)
        yield self.start()
        alice = yield self.login("alice")
        second = yield self.ok(alice, "file_offer", to="#lobby", name="b", size=len(data),
                               sha256=sha(data))
        self.assertEqual((second["offset"], second["file"]["complete"]), (len(data), True))
        self.assertNotEqual(second["file"]["id"], first["file"]["id"])

    @defer.inlineCallbacks
    def test_blob_on_disk_but_message_never_stored(self):
        # a crash between the rename and the message: the next offer publishes at once
        yield self.start()
        alice = yield self.login("alice", register=True)
        data = random_bytes(1000, seed=62)
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="a", size=len(data),
                                sha256=sha(data))
        store = self.server.files.store
        os.makedirs(os.path.dirname(store.blob_path(sha(data))), exist_ok=True)
        with open(store.blob_path(sha(data)), "wb") as f:
            f.write(data)
        yield self.start()
        alice = yield self.login("alice")
        again = yield self.ok(alice, "file_offer", to="#lobby", name="a", size=len(data),
                              sha256=sha(data))
        self.assertEqual((again["file"]["id"], again["offset"], again["file"]["complete"]),
                         (offered["file"]["id"], len(data), True))


def body_ids(client) -> list:
    """The request ids of the body frames received and not yet taken (in order)."""
    client.pump()
    return [int.from_bytes(f["payload"][1:5], "big") for f in client.inbox if f["type"] == "_body"]


def cancel(client, request_id) -> dict:
    """Send ``cancel`` for ``request_id``; returns its ok data."""
    return client.ok("cancel", request=request_id)


class CancelUploadTests(FilesCase):
    def setUp(self):
        super().setUp()
        self.data = random_bytes(5 * FILE_CHUNK + 3, seed=71)
        self.file_id = offer(self.alice, "#lobby", self.data)["data"]["file"]["id"]
        self.request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": self.request_id, "file": self.file_id,
                         "offset": 0, "body": len(self.data)})
        send_body(self.alice, self.request_id, self.data[:2 * FILE_CHUNK])

    def test_upload_gets_cancelled_before_the_ok_of_the_cancel(self):
        cancel_id = next_id(self.alice)
        self.alice.send({"type": "cancel", "id": cancel_id, "request": self.request_id})
        self.alice.pump()
        replies = [(f["type"], f["id"]) for f in self.alice.inbox]
        self.assertEqual(replies, [("error", self.request_id), ("ok", cancel_id)])
        self.assertEqual(self.alice.inbox[0]["code"], CANCELLED)
        self.assertEqual(self.alice.inbox[1]["data"],
                         {"request": self.request_id, "cancelled": True})
        connection = self.alice.connection
        self.assertEqual(connection._transfers, 0)          # bulk I/O released
        self.assertIsNone(self.server.files.catalog.partials[self.file_id].sink)

    def test_stray_body_frames_are_dropped_and_the_connection_goes_on(self):
        self.assertTrue(cancel(self.alice, self.request_id)["cancelled"])
        self.assertEqual(self.alice.reply(self.request_id)["code"], CANCELLED)
        # frames the client sent before it heard: many, small, none of them abuse
        send_body(self.alice, self.request_id, self.data[2 * FILE_CHUNK:], chunks=(1000,))
        self.alice.pump()
        self.assertEqual(self.alice.inbox, [])
        self.assertFalse(self.alice.closed)
        self.alice.ok("send", to="#lobby", text="still here", cid="c1")
        self.assertEqual([e["msg"]["text"] for e in self.bob.events("message")], ["still here"])
        # nothing of the dropped frames reached the partial
        self.assertEqual(files_on_disk(self.files_dir),
                         {os.path.join("partial", str(self.file_id)): 2 * FILE_CHUNK})

    def test_the_partial_stays_and_resumes(self):
        cancel(self.alice, self.request_id)
        again = offer(self.alice, "#lobby", self.data)["data"]
        self.assertEqual((again["file"]["id"], again["offset"]), (self.file_id, 2 * FILE_CHUNK))
        # another upload may start on the same connection at once
        done = upload(self.alice, self.file_id, self.data, offset=2 * FILE_CHUNK)
        self.assertEqual(done["type"], "ok", done)
        self.assertTrue(done["data"]["file"]["complete"])
        self.assertEqual(download(self.bob, self.file_id)[1], self.data)

    def test_a_cancelled_partial_expires_like_an_abandoned_one(self):
        cancel(self.alice, self.request_id)
        self.clock.advance(self.server.config.partial_ttl + 1)
        self.assertNotIn(self.file_id, self.server.files.catalog.partials)
        self.assertEqual(files_on_disk(self.files_dir), {})

    def test_cancel_is_idempotent(self):
        self.assertTrue(cancel(self.alice, self.request_id)["cancelled"])
        self.assertEqual(cancel(self.alice, self.request_id),
                         {"request": self.request_id, "cancelled": False})
        self.alice.pump()
        self.assertEqual([f["code"] for f in self.alice.inbox if f["type"] == "error"],
                         [CANCELLED])     # one error for the upload, not one per cancel

    def test_a_finished_upload_is_not_cancelled(self):
        send_body(self.alice, self.request_id, self.data[2 * FILE_CHUNK:])
        self.assertEqual(self.alice.reply(self.request_id)["type"], "ok")
        self.assertEqual(cancel(self.alice, self.request_id),
                         {"request": self.request_id, "cancelled": False})

    def test_only_the_own_connection(self):
        # the same user on another connection cannot reach this request, whatever its id
        alice2 = user(self.server, "alice", register=False)
        self.assertFalse(cancel(alice2, self.request_id)["cancelled"])
        send_body(self.alice, self.request_id, self.data[2 * FILE_CHUNK:])
        self.assertEqual(self.alice.reply(self.request_id)["type"], "ok")


class CancelRequestTests(FilesCase):
    def test_unknown_and_refused_requests(self):
        self.assertEqual(cancel(self.bob, 999), {"request": 999, "cancelled": False})
        self.assertEqual(cancel(self.bob, "dl-1"), {"request": "dl-1", "cancelled": False})
        data = random_bytes(3 * FILE_CHUNK, seed=72)
        request_id = start_upload(self.bob, 12345, data[:FILE_CHUNK], body=len(data))
        self.assertEqual(self.bob.reply(request_id)["code"], NOT_FOUND)
        # refused already: its frames are being dropped, there is nothing to cancel
        self.assertFalse(cancel(self.bob, request_id)["cancelled"])
        send_body(self.bob, request_id, data[FILE_CHUNK:])
        self.bob.pump()
        self.assertEqual(self.bob.inbox, [])

    def test_an_avatar_on_its_way_in(self):
        request_id = next_id(self.bob)
        self.bob.send({"type": "set_avatar", "id": request_id, "avatar_type": "image/png",
                       "body": 1000})
        self.bob.raw(encode_body_frame(request_id, b"\x89PNG" + b"\0" * 496))
        self.assertTrue(cancel(self.bob, request_id)["cancelled"])
        self.assertEqual(self.bob.reply(request_id)["code"], CANCELLED)
        self.bob.raw(encode_body_frame(request_id, b"\0" * 500))     # dropped
        self.bob.pump()
        self.assertEqual(self.bob.inbox, [])
        self.assertEqual(self.bob.error("get_avatar", user="bob"), NOT_FOUND)   # not set

    def test_bad_fields(self):
        for fields in ({}, {"request": -1}, {"request": "x" * 65}, {"request": [1]},
                       {"request": True}):
            self.assertEqual(self.bob.error("cancel", **fields), BAD_REQUEST, fields)
        self.assertFalse(self.bob.closed)

    def test_needs_hello_but_no_login(self):
        stranger = Client(self.server)
        self.assertEqual(stranger.error("cancel", request=1), BAD_REQUEST)
        stranger.hello()
        self.assertFalse(stranger.ok("cancel", request=1)["cancelled"])


class CancelDownloadTests(unittest.TestCase):
    """Downloads cancelled while they stream or wait; file reads held back by hand."""

    def setUp(self):
        self.io = HeldIO()
        self.server = make_server(files_dir=os.path.join(temp_dir(self), "files"),
                                  file_io=FileIO(run_in_thread=lambda f, *a: self.file_run(f, *a)))
        self.holding = False
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.data = random_bytes(3 * READ_CHUNKS * FILE_CHUNK, seed=73)
        self.file_id = send_file(self.alice, "#lobby", self.data)["file"]["id"]
        self.bob.events()

    def file_run(self, f, *args):
        if self.holding:
            return self.io.run(f, *args)
        return defer.maybeDeferred(f, *args)

    def start_download(self, file_id=None):
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id or self.file_id})
        return request_id

    def test_cancel_while_streaming(self):
        transport = self.bob.transport
        self.holding = True
        request_id = self.start_download()
        producer = transport.producer
        self.io.release(2)            # the open and the first read: READ_CHUNKS body frames
        self.assertEqual(self.bob.connection._transfers, 1)
        cancel_id = next_id(self.bob)
        self.bob.send({"type": "cancel", "id": cancel_id, "request": request_id})
        self.bob.pump()
        order = [(f["type"], f.get("id")) for f in self.bob.inbox]
        self.assertEqual(order, [("ok", request_id)] + [("_body", None)] * READ_CHUNKS
                         + [("error", request_id), ("ok", cancel_id)])
        self.assertEqual(self.bob.inbox[-2]["code"], CANCELLED)
        self.assertEqual(self.bob.inbox[-1]["data"], {"request": request_id, "cancelled": True})
        self.bob.inbox = []
        self.assertIs(transport.producer, self.bob.connection.output)   # unregistered
        self.assertTrue(producer.ended)
        self.assertEqual(self.bob.connection._transfers, 0)
        self.assertEqual(self.server.files.catalog.downloads_of, {})
        self.io.release_all()         # the reads that were under way: nothing is written
        self.assertEqual(body_ids(self.bob), [])
        self.assertIsNone(producer._file)              # the file is closed
        self.assertFalse(self.bob.closed)
        self.holding = False
        self.assertFalse(cancel(self.bob, request_id)["cancelled"])
        # the connection goes on: chat, and a whole download
        self.bob.ok("send", to="#lobby", text="thanks anyway", cid="b1")
        reply, body = download(self.bob, self.file_id)
        self.assertEqual((reply["type"], body), ("ok", self.data))

    def test_cancel_a_download_waiting_for_its_turn(self):
        second = send_file(self.alice, "#lobby", b"second file" * 1000)["file"]["id"]
        self.bob.events()
        self.holding = True
        first_id = self.start_download()
        second_id = self.start_download(second)
        self.assertTrue(cancel(self.bob, second_id)["cancelled"])
        self.assertEqual(self.bob.reply(second_id)["code"], CANCELLED)
        self.assertEqual(self.server.files.catalog.downloads_of,
                         {sha(self.data): 1})          # only the first one's
        self.holding = False
        self.io.release_all()
        self.assertEqual(self.bob.reply(first_id)["type"], "ok")
        self.assertEqual(take_body(self.bob, first_id), self.data)
        self.bob.pump()
        self.assertEqual(self.bob.inbox, [])           # nothing ever for the second one
        self.assertEqual(self.bob.connection._transfers, 0)
        self.assertFalse(cancel(self.bob, first_id)["cancelled"])   # over already

    def test_the_next_download_starts_when_the_running_one_is_cancelled(self):
        second_data = b"second file" * 1000
        second = send_file(self.alice, "#lobby", second_data)["file"]["id"]
        self.bob.events()
        self.holding = True
        first_id = self.start_download()
        second_id = self.start_download(second)
        self.io.release(2)
        self.assertTrue(cancel(self.bob, first_id)["cancelled"])
        self.holding = False
        self.io.release_all()
        self.bob.pump()
        order = [(f["type"], f.get("id") or int.from_bytes(f["payload"][1:5], "big"))
                 for f in self.bob.inbox]
        self.assertEqual(order, [("ok", first_id)] + [("_body", first_id)] * READ_CHUNKS
                         + [("error", first_id), ("ok", second_id), ("_body", second_id)])
        self.assertEqual(take_body(self.bob, second_id), second_data)
        self.assertEqual(self.bob.connection._transfers, 0)
        self.assertIs(self.bob.transport.producer, self.bob.connection.output)


class AbuseTests(FilesCase):
    def test_dropped_frames_of_refused_uploads_are_not_abuse(self):
        data = random_bytes(MALFORMED_IN_A_ROW * 100 + 1)
        for _ in range(3):
            request_id = start_upload(self.bob, 12345, data, chunks=(100,))
            self.assertEqual(self.bob.reply(request_id)["code"], NOT_FOUND)
        self.assertFalse(self.bob.closed)

    def test_requests_answered_with_a_body_need_an_integer_id(self):
        file_id = send_file(self.alice, "#lobby", b"some bytes")["file"]["id"]
        for request in ({"type": "download", "id": "d1", "file": file_id},
                        {"type": "get_avatar", "id": "a1", "user": "alice"}):
            self.bob.raw(control_frame(request))
            reply = self.bob.reply(request["id"])
            self.assertEqual((reply["type"], reply["code"]), ("error", BAD_REQUEST))
        # nothing was left half-started: the same download with an integer id works
        request_id = next_id(self.bob)
        self.bob.send({"type": "download", "id": request_id, "file": file_id})
        self.assertEqual(take_body(self.bob, request_id), b"some bytes")
        self.assertEqual(self.server.files.catalog.downloads_of, {})

    def test_control_frame_and_body_of_unknown_upload(self):
        self.bob.raw(control_frame({"type": "upload", "id": "x", "file": 1, "offset": 0,
                                    "body": 5}))
        self.assertEqual(self.bob.reply("x")["code"], BAD_REQUEST)   # ids must be integers
        self.bob.raw(encode_body_frame(77, b"12345"))
        self.bob.pump()
        self.assertEqual(self.bob.inbox[-1]["code"], BAD_REQUEST)


class RealSocketTests(unittest.TestCase):
    """The real thing in one process: loopback TCP, the reactor as clock (so the end-of-turn
    flusher takes its fast path), the file I/O thread pool. No file data is touched on the
    reactor thread, and chat frames and download frames keep their order."""

    timeout = 60

    @defer.inlineCallbacks
    def setUp(self):
        from chat.server.connection import ChatFactory
        self.files_dir = os.path.join(temp_dir(self), "files")
        self.server = ChatServer(ServerConfig(files_dir=self.files_dir), MemoryStorage(),
                                 fast_hasher(), reactor, file_io=FileIO(reactor, threads=2))
        yield self.server.start()
        self.port = reactor.listenTCP(0, ChatFactory(self.server), interface="127.0.0.1")
        self.threads = []
        store = self.server.files.store
        for name in ("open_partial", "write", "commit", "open_blob", "read", "has_blob"):
            setattr(store, name, self.recording(getattr(store, name)))   # on this store only

    def recording(self, method):
        """``method`` of the store, noting the thread it runs in."""
        threads = self.threads

        def wrapper(*args, **kwargs):
            threads.append(threading.get_ident())
            return method(*args, **kwargs)
        return wrapper

    @defer.inlineCallbacks
    def tearDown(self):
        yield self.port.stopListening()
        yield self.server.stop()

    @defer.inlineCallbacks
    def test_upload_and_download_off_the_reactor_thread(self):
        from tests.support.wire import login_client
        port = self.port.getHost().port
        alice = yield login_client(port, "alice", "correct horse")
        bob = yield login_client(port, "bob", "correct horse")
        self.addCleanup(alice.abort)
        self.addCleanup(bob.abort)
        data = random_bytes(5 * MiB + 3, seed=71)
        offered = yield alice.request("file_offer", to="#lobby", name="big.bin",
                                      size=len(data), sha256=sha(data))
        done = yield alice.request_with_body("upload", data, file=offered["file"]["id"],
                                             offset=0)
        self.assertTrue(done["file"]["complete"])
        download_d = bob.request("download", file=done["file"]["id"])
        yield alice.request("send", to="#lobby", text="during the download", cid="d1")
        got = yield download_d
        self.assertEqual(sha(got["_body"]), sha(data))
        self.assertEqual(bob.violations, [])
        self.assertGreater(len(self.threads), 20)
        self.assertNotIn(threading.get_ident(), self.threads)
        texts = [e["msg"].get("text") for e in bob.events if e["type"] == "message"]
        self.assertIn("during the download", texts)
