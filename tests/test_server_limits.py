"""Limits: failed logins, registrations, sends and file offers per account or address,
connections (in all, per address, without a login), slow readers; all on a task.Clock."""

from twisted.trial import unittest

from chat.protocol.errors import BAD_CREDENTIALS, RATE_LIMITED, TOO_LARGE
from chat.protocol.framing import FILE_CHUNK
from chat.client.core import LinkState
from chat.server import tap
from chat.server.limits import ExpiringMap, LoginThrottle, TokenBucket
from tests.harness import PASSWORD, Client, make_server, user
from tests.support.loopback import Network
from tests.test_cli_app import Terminal
from tests.test_client_core import ClientTestCase
from tests.test_server_files import next_id, random_bytes, send_file, take_body

ELSEWHERE = "198.51.100.7"


def greeted(server, host="192.0.2.10") -> Client:
    client = Client(server, host=host)
    client.hello()
    return client


class LoginBackoffTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        user(self.server, "alice").disconnect()
        self.verified = []
        verify = self.server.accounts.hasher.verify
        self.server.accounts.hasher.verify = lambda *a: (self.verified.append(1), verify(*a))[1]
        self.client = greeted(self.server)

    def attempt(self, password="wrong password"):
        return self.client.request("login", username="alice", password=password)

    def test_five_failures_then_exponential_backoff_without_hashing(self):
        for _ in range(5):
            self.assertEqual(self.attempt()["code"], BAD_CREDENTIALS)
        self.assertEqual(len(self.verified), 5)
        refused = self.attempt(PASSWORD)                  # even the right password waits
        self.assertEqual((refused["code"], refused["retry_after"]), (RATE_LIMITED, 1))
        self.assertIn("try again in 1 s", refused["message"])
        self.assertEqual(len(self.verified), 5)           # no hash was computed for it
        for wait in (1, 2, 4, 8):
            self.clock.advance(wait - 0.01)
            self.assertEqual(self.attempt()["retry_after"], 1)    # whole seconds, rounded up
            self.clock.advance(0.01)
            self.assertEqual(self.attempt()["code"], BAD_CREDENTIALS)
            self.assertEqual(self.attempt()["retry_after"], wait * 2)

    def test_backoff_is_capped(self):
        throttle = LoginThrottle(self.clock, free=5, backoff_max=300, window=900, what="account")
        for _ in range(30):
            throttle.check("k")
            throttle.done("k", failed=True)
            self.clock.advance(throttle.waiting("k"))
        throttle.check("k")
        throttle.done("k", failed=True)
        self.assertEqual(throttle.waiting("k"), 300)

    def test_success_resets_the_account(self):
        for _ in range(5):
            self.attempt()
        self.clock.advance(1)
        self.assertEqual(self.client.request("login", username="alice",
                                             password=PASSWORD)["type"], "ok")
        self.client.ok("logout")
        for _ in range(5):   # a fresh count: five more failures before any wait
            self.assertEqual(self.attempt()["code"], BAD_CREDENTIALS)
        self.assertEqual(self.attempt()["code"], RATE_LIMITED)

    def test_failures_are_forgotten(self):
        for _ in range(5):
            self.attempt()
        self.clock.advance(900)
        for _ in range(5):
            self.assertEqual(self.attempt()["code"], BAD_CREDENTIALS)

    def test_unknown_names_back_off_too(self):
        for _ in range(5):
            self.client.request("login", username="nobody", password="x" * 8)
        reply = self.client.request("login", username="NOBODY", password="x" * 8)
        self.assertEqual(reply["code"], RATE_LIMITED)   # the same as for a real account

    def test_a_limited_address_does_not_stop_other_addresses(self):
        server = make_server(login_failures_per_address=3)
        user(server, "alice").disconnect()
        user(server, "bob").disconnect()
        mallory = greeted(server, ELSEWHERE)
        for name in ("alice", "bob", "carol"):
            self.assertEqual(mallory.error("login", username=name, password="x" * 8),
                             BAD_CREDENTIALS)
        self.assertEqual(mallory.error("login", username="dave", password="x" * 8),
                         RATE_LIMITED)
        # alice's own count is 1: from her address she logs in at once
        greeted(server).login("alice")
        # and bob's too, from anywhere but mallory's address
        greeted(server, "203.0.113.9").login("bob")

    def test_a_guesser_cannot_lock_the_owner_out(self):
        for _ in range(60):                     # a minute-long attack on alice's password
            mallory = greeted(self.server, ELSEWHERE)
            reply = mallory.request("login", username="alice", password="wrong password")
            self.assertIn(reply["code"], (BAD_CREDENTIALS, RATE_LIMITED))
            mallory.disconnect()
            self.clock.advance(1)
        mallory = greeted(self.server, ELSEWHERE)
        self.assertEqual(mallory.request("login", username="alice",
                                         password=PASSWORD)["code"], RATE_LIMITED)
        # alice, from her own address, is let in at the first try, every time
        for _ in range(3):
            self.client.login("alice")
            self.client.ok("logout")
        # and mallory still waits: the owner's login does not clear mallory's count
        self.assertEqual(mallory.request("login", username="alice",
                                         password=PASSWORD)["code"], RATE_LIMITED)

    def test_the_account_cap_holds_many_guessers_to_one_try_each(self):
        server = make_server(login_failures_per_account=4)
        user(server, "alice").disconnect()
        guessers = [greeted(server, f"198.51.100.{n}") for n in range(1, 7)]
        for guesser in guessers[:4]:                # four addresses, one failure each
            self.assertEqual(guesser.error("login", username="alice", password="x" * 8),
                             BAD_CREDENTIALS)
        # the account's cap is reached: an address that failed for it waits ...
        self.assertEqual(guessers[0].error("login", username="alice", password="x" * 8),
                         RATE_LIMITED)
        # ... one that has not gets its one try; the owner's address logs in
        self.assertEqual(guessers[4].error("login", username="alice", password="x" * 8),
                         BAD_CREDENTIALS)
        self.assertEqual(guessers[4].error("login", username="alice", password=PASSWORD),
                         RATE_LIMITED)
        greeted(server).login("alice")

    def test_concurrent_attempts_cannot_exceed_the_free_ones(self):
        throttle = LoginThrottle(self.clock, free=2, backoff_max=300, window=900, what="account")
        throttle.check("k")
        throttle.check("k")
        with self.assertRaises(Exception) as caught:
            throttle.check("k")     # two are being checked: wait for them
        self.assertEqual(caught.exception.code, RATE_LIMITED)
        throttle.done("k", failed=False, reset=True)
        throttle.done("k", failed=False)
        throttle.check("k")


class RoomLimitTests(unittest.TestCase):
    """One account cannot flood the server with rooms, topic changes or joins (issue 16:
    282 rooms/s, 3,170 topic events to one member in 10 s)."""

    def setUp(self):
        self.server = make_server(rooms_per_hour=3, rooms_per_account=4, topics_per_minute=2,
                                  joins_per_minute=4)
        user(self.server, "first").disconnect()      # the first account is an admin
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")

    def test_room_creation_per_hour(self):
        for n in range(3):
            self.alice.ok("create_room", room=f"r{n}")
        refused = self.alice.request("create_room", room="r3")
        self.assertEqual((refused["code"], refused["retry_after"]), (RATE_LIMITED, 3600))
        self.assertNotIn("r3", self.server.conversations.rooms)
        self.bob.ok("create_room", room="bobs")               # per account
        self.server.clock.advance(3600)
        self.alice.ok("create_room", room="r3")

    def test_rooms_per_account_are_capped(self):
        for n in range(4):
            self.alice.ok("create_room", room=f"r{n}")
            self.server.clock.advance(3600)
        self.assertEqual(self.alice.error("create_room", room="r4"), "forbidden")

    def test_topic_changes_per_minute(self):
        self.alice.ok("create_room", room="talk")
        self.bob.ok("join", room="talk")
        self.bob.events()
        for n in range(2):
            self.alice.ok("set_topic", room="talk", topic=f"t{n}")
        self.assertEqual(self.alice.request("set_topic", room="talk", topic="t2")["code"],
                         RATE_LIMITED)
        self.assertEqual(len(self.bob.events("topic")), 2)      # the refused one went nowhere
        self.server.clock.advance(60)
        self.alice.ok("set_topic", room="talk", topic="t2")

    def test_joins_and_leaves_per_minute(self):
        self.alice.ok("create_room", room="door")
        self.bob.ok("join", room="door")
        self.bob.ok("leave", room="door")
        self.bob.ok("join", room="door")
        self.bob.ok("join", room="door")                      # already in: not counted
        self.bob.ok("leave", room="door")
        self.assertEqual(self.bob.request("join", room="door")["code"], RATE_LIMITED)
        self.server.clock.advance(60)
        self.bob.ok("join", room="door")


class RegistrationLimitTests(unittest.TestCase):
    def test_per_address_per_hour(self):
        server = make_server(registrations_per_hour=2)
        client = greeted(server)
        client.register("u1")
        client.register("u2")
        refused = client.request("register", username="u3", password=PASSWORD)
        self.assertEqual((refused["code"], refused["retry_after"]), (RATE_LIMITED, 3600))
        greeted(server, ELSEWHERE).register("u3")            # another address
        server.clock.advance(3600)
        client.register("u4")

    def test_loopback_counts_unless_exempt(self):
        server = make_server(registrations_per_hour=1)
        client = greeted(server, "127.0.0.1")
        client.register("u1")
        self.assertEqual(client.error("register", username="u2", password=PASSWORD),
                         RATE_LIMITED)
        server = make_server(registrations_per_hour=1, exempt_loopback=True)
        client = greeted(server, "127.0.0.1")
        for n in range(5):
            client.register(f"u{n}")


class SendLimitTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server(send_rate=10, send_burst=3)
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")

    def send(self, client, n):
        return client.request("send", to="#lobby", text=f"m{n}", cid=f"c{n}")

    def test_token_bucket(self):
        for n in range(3):
            self.assertEqual(self.send(self.alice, n)["type"], "ok")
        refused = self.send(self.alice, 3)
        self.assertEqual((refused["code"], refused["retry_after"]), (RATE_LIMITED, 0.1))
        self.assertEqual(self.send(self.bob, 0)["type"], "ok")      # bob has his own bucket
        self.server.clock.advance(0.1)
        self.assertEqual(self.send(self.alice, 3)["type"], "ok")
        self.assertEqual(self.send(self.alice, 4)["code"], RATE_LIMITED)
        self.server.clock.advance(10)                               # full again, not more
        for n in range(5, 8):
            self.assertEqual(self.send(self.alice, n)["type"], "ok")
        self.assertEqual(self.send(self.alice, 8)["code"], RATE_LIMITED)

    def test_all_connections_of_an_account_share_it(self):
        alice2 = user(self.server, "alice", register=False)
        self.send(self.alice, 0)
        self.send(alice2, 1)
        self.send(self.alice, 2)
        self.assertEqual(self.send(alice2, 3)["code"], RATE_LIMITED)

    def test_idle_buckets_are_forgotten(self):
        self.send(self.alice, 0)
        self.server.clock.advance(1)
        self.send(self.bob, 0)     # a put sweeps what has expired
        self.assertEqual(len(self.server.limits.sends), 1)

    def test_max_text(self):
        server = make_server(max_text=10)
        alice = user(server, "alice")
        self.assertEqual(alice.error("send", to="#lobby", text="x" * 11, cid="c"), TOO_LARGE)
        alice.ok("send", to="#lobby", text="x" * 10, cid="c")
        self.assertEqual(alice.hello()["limits"]["max_text"], 10)


class QueryLimitTests(unittest.TestCase):
    def test_read_requests_have_a_bucket_per_account(self):
        server = make_server(query_rate=2, query_burst=5)
        alice, bob = user(server, "alice"), user(server, "bob")
        for _ in range(5):
            alice.ok("history", conv="#lobby")
        reply = alice.request("users")                # another query: the same bucket
        self.assertEqual(reply["code"], RATE_LIMITED)
        self.assertAlmostEqual(reply["retry_after"], 0.5, places=2)
        bob.ok("history", conv="#lobby")              # bob has his own
        alice.ok("send", to="#lobby", text="sending is not a query", cid="q1")
        alice.ok("ping")
        server.clock.advance(0.5)
        alice.ok("unread")

    def test_zero_turns_it_off(self):
        server = make_server(query_rate=0)
        alice = user(server, "alice")
        for _ in range(300):
            alice.ok("history", conv="#lobby")


class FileOfferLimitTests(unittest.TestCase):
    def test_offers_per_minute(self):
        server = make_server(file_offers_per_minute=2)
        alice = user(server, "alice")
        send_file(alice, "#lobby", b"one")
        send_file(alice, "#lobby", b"two")
        refused = alice.request("file_offer", to="#lobby", name="x", size=5,
                                sha256="0" * 64)
        self.assertEqual((refused["code"], refused["retry_after"]), (RATE_LIMITED, 60))
        server.clock.advance(60)
        send_file(alice, "#lobby", b"three")


class SizeLimitTests(unittest.TestCase):
    def test_configured_sizes_are_enforced_and_announced(self):
        server = make_server(max_avatar=1000, history_page=5, max_control_frame=2048)
        alice = user(server, "alice")
        limits = alice.hello()["limits"]
        self.assertEqual((limits["max_avatar"], limits["history_page"], limits["max_frame"]),
                         (1000, 5, 2048))
        self.assertEqual(alice.error("set_avatar", avatar_type="image/png", body=1001),
                         TOO_LARGE)
        for n in range(7):
            alice.ok("send", to="#lobby", text=f"m{n}", cid=f"c{n}")
        page = alice.ok("history", conv="#lobby", limit=200)
        self.assertEqual((len(page["messages"]), page["more"]), (5, True))
        alice.send({"type": "send", "id": 99, "to": "#lobby", "text": "x" * 3000, "cid": "big"})
        alice.pump()
        self.assertEqual((alice.inbox[-1]["code"], alice.inbox[-1]["id"]), (TOO_LARGE, None))


class ConnectionLimitTests(unittest.TestCase):
    def assertRefused(self, client, code):
        client.pump()
        self.assertEqual(client.inbox[-1]["type"], "bye")
        self.assertEqual(client.inbox[-1]["code"], code)
        self.assertTrue(client.inbox[-1]["message"])
        self.assertTrue(client.transport.disconnecting)
        client.raw(b"\x00\x00\x00\x16" + b'{"type":"ping","id":1}')
        self.assertEqual(client.transport.value(), b"")     # nothing more is read

    def test_total_cap(self):
        server = make_server(max_connections=3)
        clients = [Client(server, host=f"192.0.2.{n}") for n in range(3)]
        extra = Client(server, host="192.0.2.99")
        self.assertRefused(extra, "server_full")
        extra.disconnect()
        clients[0].disconnect()
        greeted(server, "192.0.2.99")           # a place is free again
        self.assertEqual(server.limits.connections.total, 3)

    def test_per_address_cap(self):
        server = make_server(max_connections_per_address=2)
        first, _ = Client(server), Client(server)
        third = Client(server)
        self.assertRefused(third, "too_many_connections")
        greeted(server, ELSEWHERE)              # other addresses are not affected
        third.disconnect()                      # a refused connection was never counted
        first.disconnect()
        greeted(server)
        self.assertEqual(server.limits.connections.by_address, {"192.0.2.10": 2, ELSEWHERE: 1})

    def test_loopback_exemption(self):
        server = make_server(max_connections_per_address=1, exempt_loopback=True)
        for _ in range(3):
            greeted(server, "127.0.0.1")
        server = make_server(max_connections_per_address=1)
        Client(server, host="127.0.0.1")
        self.assertRefused(Client(server, host="127.0.0.1"), "too_many_connections")


class LoginTimeoutTests(unittest.TestCase):
    def test_no_login_within_30_s(self):
        server = make_server()
        client = greeted(server)
        alice = user(server, "alice")
        server.clock.advance(29.9)
        self.assertFalse(client.closed)
        server.clock.advance(0.1)
        [bye] = client.events("bye")
        self.assertEqual(bye["code"], "login_timeout")
        self.assertTrue(client.transport.disconnecting)
        self.assertFalse(alice.closed)
        self.assertEqual(alice.events("bye"), [])

    def test_again_after_logout_and_configurable(self):
        server = make_server(login_timeout=5)
        alice = user(server, "alice")
        server.clock.advance(10)
        self.assertFalse(alice.closed)
        alice.ok("logout")
        server.clock.advance(5)
        self.assertEqual(alice.events("bye")[0]["code"], "login_timeout")

    def test_a_login_waiting_for_its_hash_is_not_cut(self):
        server = make_server(login_timeout=5)
        user(server, "alice").disconnect()
        client = greeted(server)
        client.connection.lifecycle.login_started()      # as while its password is checked
        server.clock.advance(6)
        self.assertFalse(client.closed)
        client.connection.lifecycle.login_ended()
        client.login("alice")
        server.clock.advance(60)
        self.assertFalse(client.closed)

    def test_zero_turns_it_off(self):
        server = make_server(login_timeout=0)
        client = greeted(server)
        server.clock.advance(85)
        self.assertFalse(client.closed)


class PreloginRequestTests(unittest.TestCase):
    def test_a_flood_without_login_is_closed_as_abuse(self):
        server = make_server()
        alice = user(server, "alice")
        flood = greeted(server)                      # hello was request 1
        for n in range(2, 31):
            flood.send({"type": "users", "id": n})
            self.assertEqual(flood.reply(n)["type"], "error")   # refused: not logged in
        self.assertFalse(flood.closed)
        flood.send({"type": "ping", "id": 31})
        [bye] = flood.events("bye")
        self.assertEqual(bye["code"], "abuse")
        self.assertTrue(flood.transport.disconnecting)
        alice.ok("send", to="#lobby", text="still here", cid="c1")   # nobody else noticed

    def test_the_count_starts_again_after_a_login_and_after_a_logout(self):
        server = make_server(prelogin_requests=5)
        user(server, "alice").disconnect()
        client = greeted(server)
        client.login("alice")                        # requests 1 and 2, then logged in
        for _ in range(50):                          # logged in: not counted
            client.ok("ping")
        client.ok("logout")
        for _ in range(5):
            client.ok("ping")
        self.assertFalse(client.closed)
        client.send({"type": "ping", "id": 999})
        self.assertEqual(client.events("bye")[0]["code"], "abuse")

    def test_zero_turns_it_off(self):
        server = make_server(prelogin_requests=0)
        client = greeted(server)
        for n in range(200):
            client.ok("ping")
        self.assertFalse(client.closed)


class SlowReaderTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server(max_output_buffer=20_000, send_rate=0)
        self.alice = user(self.server, "alice")
        self.slow = user(self.server, "bob")
        self.fast = user(self.server, "carol")

    def say(self, n):
        return self.alice.ok("send", to="#lobby", text=f"{n:04d}" + "x" * 996, cid=f"c{n}")

    def test_a_reader_that_stops_reading_is_dropped(self):
        aborted = []
        self.slow.transport.abortConnection = lambda: aborted.append(True)
        self.slow.transport.producer.pauseProducing()     # what Twisted does when it is full
        for n in range(15):
            self.say(n)
        self.assertEqual(aborted, [])                      # 15 KB: not yet
        for n in range(15, 30):
            self.say(n)
        self.assertEqual(aborted, [True])
        self.slow.pump()
        self.assertEqual(self.slow.inbox[-1]["code"], "slow_reader")
        self.slow.disconnect()
        self.assertEqual(len(self.fast.events("message")), 30)   # the fast reader got them all
        self.assertEqual(self.server.limits.connections.total, 2)

    def test_catching_up_resets_the_count(self):
        producer = self.slow.transport.producer
        for round in range(3):
            producer.pauseProducing()
            for n in range(15):
                self.say(round * 100 + n)
            producer.resumeProducing()                     # the socket drained
        self.assertFalse(self.slow.closed)
        self.assertEqual(len(self.slow.events("message")), 45)

    def test_a_paused_download_is_not_dropped(self):
        data = random_bytes(16 * FILE_CHUNK, seed=7)      # 4 MiB, 200 times the limit
        file_id = send_file(self.alice, "#lobby", data)["file"]["id"]
        transport = self.slow.transport
        write_sequence = transport.writeSequence

        def full_after_each(seq):      # a slow socket: Twisted pauses after every chunk
            write_sequence(seq)
            if transport.producer is not None:
                transport.producer.pauseProducing()
        transport.writeSequence = full_after_each
        request_id = next_id(self.slow)
        self.slow.send({"type": "download", "id": request_id, "file": file_id})
        chunks = 1
        while transport.producer is not self.slow.connection.output:
            self.say(chunks)                               # chat goes on meanwhile
            transport.producer.resumeProducing()
            chunks += 1
        self.assertFalse(self.slow.closed)
        self.assertGreaterEqual(chunks, 16)                # it was paused after every chunk
        self.assertEqual(take_body(self.slow, request_id), data)


class TableTests(unittest.TestCase):
    def test_expiring_map_is_bounded_and_expires(self):
        server = make_server()
        table = ExpiringMap(server.clock, max_entries=3)
        for n in range(10):
            table.put(n, n, server.clock.seconds() + 60)
        self.assertEqual(len(table), 3)
        self.assertEqual([table.get(n) for n in (6, 7, 8, 9)], [None, 7, 8, 9])
        server.clock.advance(60)
        self.assertIsNone(table.get(9))

    def test_many_addresses_stay_bounded(self):
        server = make_server()
        bucket = TokenBucket(server.clock, rate=1, burst=1, max_entries=100)
        for n in range(1000):
            bucket.take(n, "slow down")
        self.assertEqual(len(bucket), 100)


def block_login(server, name, seconds, host="?"):
    """Make logins as ``name`` from ``host`` (in-memory links have no address: "?") wait."""
    throttle, key = server.limits.login_pairs, (name, host)
    throttle.check(key)
    throttle.done(key, failed=True)
    throttle._entries.get(key).blocked_until = server.clock.seconds() + seconds


class ClientCoreTests(ClientTestCase):
    """The client core waits as long as the server says before logging in again."""

    def block(self, name, seconds):
        block_login(self.server, name, seconds)

    def test_a_reconnect_waits_retry_after(self):
        alice = self.client("alice")
        alice.recorder.take("state")
        self.block("alice", 20)
        self.cut(alice)
        self.advance(1.5, step=0.5)             # the first retry after 1 s: rate_limited
        retries = [args[2] for name, args in alice.recorder.calls
                   if name == "state" and args[0] is LinkState.RECONNECTING]
        self.assertEqual(retries, [1.0, 19.0])   # what was left of the 20 s
        self.advance(18, step=0.5)
        self.assertEqual(alice.state, LinkState.RECONNECTING)
        self.advance(2, step=0.5)
        self.assertEqual(alice.state, LinkState.ONLINE)

    def test_a_first_login_just_reports_it(self):
        user(self.server, "alice").disconnect()
        self.block("alice", 20)
        alice = self.client("alice", register=False)
        failure = alice.login_result
        self.assertEqual((failure.value.code, failure.value.retry_after), (RATE_LIMITED, 20))
        self.assertEqual(alice.state, LinkState.OFFLINE)
        attempts = self.net.attempts
        self.advance(60, step=5)
        self.assertEqual(self.net.attempts, attempts)


class LimitOptionTests(unittest.TestCase):
    def config(self, *argv):
        options = tap.Options()
        options.parseOptions(["--lite", *argv])
        return tap.makeService(options).server.config

    @staticmethod
    def fields(config) -> tuple:
        return tuple(getattr(config, name) for name in (
            "login_failures", "login_failures_per_address", "login_backoff_max",
            "registrations_per_hour", "send_rate", "send_burst", "file_offers_per_minute",
            "max_connections", "max_connections_per_address", "exempt_loopback",
            "login_timeout", "max_output_buffer", "max_text", "max_avatar", "history_page",
            "max_control_frame", "prelogin_requests", "query_rate", "query_burst",
            "login_failures_per_account", "rooms_per_hour", "rooms_per_account",
            "topics_per_minute", "joins_per_minute"))

    def test_defaults(self):
        config = self.config()
        self.assertEqual(
            self.fields(config),
            (5, 100, 300.0, 100, 10.0, 30, 30, 10_000, 500, False, 30.0, 4 * 2**20, 16_000,
             256 * 1024, 200, 65536, 30, 20.0, 100, 20, 10, 50, 10, 60))

    def test_values(self):
        config = self.config(
            "--login-failures", "3", "--login-failures-per-address", "0",
            "--login-backoff-max", "60", "--registrations-per-hour", "10", "--send-rate", "2.5",
            "--send-burst", "5", "--file-offers-per-minute", "0", "--max-connections", "50",
            "--max-connections-per-address", "20", "--exempt-loopback", "--login-timeout", "10",
            "--max-output-buffer", "1M", "--max-text", "500", "--max-avatar", "64K",
            "--history-page", "50", "--max-control-frame", "16K", "--prelogin-requests", "5",
            "--query-rate", "1.5", "--query-burst", "7", "--login-failures-per-account", "9",
            "--rooms-per-hour", "1", "--rooms-per-account", "2", "--topics-per-minute", "3",
            "--joins-per-minute", "0")
        self.assertEqual(
            self.fields(config),
            (3, 0, 60.0, 10, 2.5, 5, 0, 50, 20, True, 10.0, 2**20, 500, 65536, 50, 16384,
             5, 1.5, 7, 9, 1, 2, 3, 0))

    def test_bad_values_exit_with_one_line(self):
        for argv in (["--send-rate", "fast"], ["--send-rate", "-1"], ["--send-burst", "0"],
                     ["--max-connections", "1.5"], ["--max-connections-per-address", "-2"],
                     ["--login-timeout", "soon"], ["--login-backoff-max", "0"],
                     ["--max-output-buffer", "1T"], ["--max-text", "16001"],
                     ["--max-avatar", "1M"], ["--history-page", "0"],
                     ["--max-control-frame", "100"], ["--registrations-per-hour", "x"]):
            with self.assertRaises(SystemExit) as caught:
                tap.Options().parseOptions(["--lite", *argv])
            message = str(caught.exception.code)
            self.assertTrue(message.startswith(f"chatserver: error: bad {argv[0]}: "), message)
            self.assertNotIn("\n", message)


class CliTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)

    def test_a_rate_limited_login_is_one_clear_line(self):
        user(self.server, "alice").disconnect()
        block_login(self.server, "alice", 42.5)
        for lang, line in (("en", "Too many attempts; try again in 43 s."),
                           ("zh", "尝试次数过多，请在 43 秒后再试。")):
            terminal = Terminal(self, "alice", register=False, lang=lang)
            self.assertEqual((terminal.err, terminal.exits), ([line], [1]))
