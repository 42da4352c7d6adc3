"""Guests end to end: a real ``twistd chatserver --allow-guests`` on SQLite, a guest and an
account talking in rooms and privately, over a restart (nothing of the guest's is stored but
its messages), and a server without the option refusing them."""

from tests.support.wire import RequestError, connect
from tests.test_e2e import E2ECase, cid_is, with_server_output


class GuestE2ETests(E2ECase):
    server_args = ("--allow-guests",)

    async def guest(self, name):
        client = self.track(await connect(self.server.port))
        await client.hello()
        client.login_data = await client.request("guest", username=name)
        client.username = name
        return client

    @with_server_output
    async def test_a_guest_and_an_account_talk(self):
        alice = await self.login("alice")
        await alice.request("create_room", room="dev")
        visitor = await self.guest("visitor")
        self.assertTrue(visitor.hello_data["policy"]["guests"])
        self.assertTrue(visitor.login_data["user"]["guest"])
        change = await alice.next_event("presence", match=lambda e: any(
            c["user"] == "visitor" for c in e["changes"]))
        self.assertIn({"user": "visitor", "online": True, "guest": True}, change["changes"])
        await visitor.send_message("#lobby", "hello from a guest", cid="g1")
        got = await alice.next_event("message", match=cid_is("g1"))
        self.assertEqual(got["msg"]["from"], "visitor")
        await visitor.request("join", room="dev")          # membership not stored: no FK error
        await visitor.send_message("#dev", "in dev", cid="g2")
        await alice.next_event("message", match=cid_is("g2"))
        await visitor.send_message("@alice", "privately", cid="g3")
        private = await alice.next_event("message", match=cid_is("g3"))
        self.assertEqual(private["msg"]["conv"], "@visitor")
        await alice.send_message("@visitor", "back to you", cid="a1")
        await visitor.next_event("message", match=cid_is("a1"))
        await visitor.request("create_room", room="guestroom")   # kept; no FK on its maker
        await visitor.request("set_topic", room="guestroom", topic="made by a guest")
        members = await alice.request("members", room="dev")
        self.assertIn({"name": "visitor", "online": True, "guest": True}, members["members"])

        await self.server.restart()
        self.clients = []
        alice = await self.login("alice", register=False)
        history = await alice.request("history", conv="#lobby")
        self.assertIn("hello from a guest", [m.get("text") for m in history["messages"]])
        rooms = {r["name"]: r for r in (await alice.request("rooms"))["rooms"]}
        self.assertEqual(rooms["guestroom"]["topic"], "made by a guest")
        users = await alice.request("users")
        self.assertEqual([u["name"] for u in users["users"]], ["alice"])
        again = await self.guest("visitor")               # the name is free after the restart
        empty = await again.request("history", conv="@alice")
        self.assertEqual(empty["messages"], [])

    @with_server_output
    async def test_an_accounts_name_is_refused(self):
        await self.login("alice")
        client = self.track(await connect(self.server.port))
        await client.hello()
        with self.assertRaises(RequestError) as caught:
            await client.request("guest", username="Alice")
        self.assertEqual(caught.exception.code, "name_taken")


class NoGuestsE2ETests(E2ECase):

    @with_server_output
    async def test_guests_are_refused_by_default(self):
        client = self.track(await connect(self.server.port))
        hello = await client.hello()
        self.assertFalse(hello["policy"]["guests"])
        with self.assertRaises(RequestError) as caught:
            await client.request("guest", username="visitor")
        self.assertEqual(caught.exception.code, "forbidden")
