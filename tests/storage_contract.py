"""The behaviour every IStorage implementation must show, as a test mixin.

``tests/test_storage.py`` mixes :class:`StorageContractMixin` into one trial TestCase per
implementation; the TestCase's ``setUp`` provides a started, empty ``self.storage``.
"""

from twisted.internet import defer

from chat.server.storage import (UNREAD_MAX, Account, BurnDue, FileRecord, NameTaken, NewMessage,
                                 Room, StorageError, StoredMessage, StoreResult)

ROOM = "r:lobby"
OTHER_ROOM = "r:other"


def msg(id, conv=ROOM, sender_id=1, text=None, ts=None, cid=None, **kwargs):
    """A NewMessage with predictable defaults derived from its id."""
    return NewMessage(id=id, conv=conv, sender_id=sender_id, sender=f"user{sender_id}",
                      text=f"text {id}" if text is None else text,
                      ts=1_000_000 + id if ts is None else ts,
                      cid=f"c{id}" if cid is None else cid, **kwargs)


def stored(m: NewMessage, text=..., burned=False) -> StoredMessage:
    """What history returns for ``m``."""
    return StoredMessage(m.id, m.conv, m.sender_id, m.sender, m.text if text is ... else text,
                         m.ts, m.cid, m.burn_ttl, burned)


def dm(a: int, b: int) -> str:
    return f"d:{min(a, b)}:{max(a, b)}"


class StorageContractMixin:
    """Tests of the IStorage contract; needs ``self.storage`` (started, empty)."""

    @defer.inlineCallbacks
    def people(self, *names, join=(ROOM,)):
        """Create accounts named ``names`` (joined to ``join``); fires with their ids."""
        ids = []
        for name in names:
            account = yield self.storage.create_account(name, name.lower(), "hash", 1, join=join)
            ids.append(account.id)
        return ids

    @defer.inlineCallbacks
    def ids(self, deferred):
        return [m.id for m in (yield deferred)]

    # -- accounts

    @defer.inlineCallbacks
    def test_create_account(self):
        account = yield self.storage.create_account("Alice", "alice", "h1", 1234)
        self.assertEqual(account, Account(account.id, "Alice", "alice", "h1", False, 1234,
                                          None, None))
        self.assertEqual((yield self.storage.account_by_key("alice")), account)
        self.assertEqual((yield self.storage.account_by_id(account.id)), account)
        admin = yield self.storage.create_account("Root", "root", "h2", 5, admin=True)
        self.assertTrue(admin.admin)
        self.assertNotEqual(admin.id, account.id)

    @defer.inlineCallbacks
    def test_only_the_first_account_is_admin_if_first(self):
        created = yield defer.gatherResults([
            self.storage.create_account(f"u{n}", f"u{n}", "h", n, admin_if_first=True)
            for n in range(6)])
        self.assertEqual([a.admin for a in created].count(True), 1)
        later = yield self.storage.create_account("late", "late", "h", 9, admin_if_first=True)
        self.assertFalse(later.admin)
        forced = yield self.storage.create_account("boss", "boss", "h", 9, admin=True,
                                                   admin_if_first=True)
        self.assertTrue(forced.admin)

    @defer.inlineCallbacks
    def test_unknown_account(self):
        self.assertIsNone((yield self.storage.account_by_key("nobody")))
        self.assertIsNone((yield self.storage.account_by_id(404)))
        self.assertEqual((yield self.storage.accounts()), [])
        self.assertEqual((yield self.storage.count_accounts()), 0)

    @defer.inlineCallbacks
    def test_accounts_ordered_by_key(self):
        for name in ["Carol", "alice", "Bob"]:
            yield self.storage.create_account(name, name.lower(), "h", 1)
        self.assertEqual([a.key for a in (yield self.storage.accounts())],
                         ["alice", "bob", "carol"])
        self.assertEqual((yield self.storage.count_accounts()), 3)

    @defer.inlineCallbacks
    def test_account_name_taken(self):
        yield self.storage.create_account("alice", "alice", "h", 1)
        yield self.assertFailure(self.storage.create_account("ALICE", "alice", "h2", 2),
                                 NameTaken)
        self.assertEqual((yield self.storage.count_accounts()), 1)
        self.assertEqual((yield self.storage.account_by_key("alice")).name, "alice")

    @defer.inlineCallbacks
    def test_create_account_joins(self):
        alice = yield self.storage.create_account("alice", "alice", "h", 1,
                                                  join=[ROOM, OTHER_ROOM])
        self.assertEqual((yield self.storage.memberships()),
                         {ROOM: {alice.id}, OTHER_ROOM: {alice.id}})

    @defer.inlineCallbacks
    def test_name_taken_joins_nothing(self):
        yield self.storage.create_account("alice", "alice", "h", 1, join=[ROOM])
        yield self.assertFailure(
            self.storage.create_account("Alice", "alice", "h", 2, join=[OTHER_ROOM]), NameTaken)
        self.assertEqual(set((yield self.storage.memberships())), {ROOM})

    @defer.inlineCallbacks
    def test_account_updates(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.set_password_hash(alice, "new hash")
        yield self.storage.set_admin(alice, True)
        yield self.storage.set_last_seen(alice, 99_000)
        account = yield self.storage.account_by_id(alice)
        self.assertEqual((account.password_hash, account.admin, account.last_seen),
                         ("new hash", True, 99_000))
        yield self.storage.set_admin(alice, False)
        self.assertFalse((yield self.storage.account_by_key("alice")).admin)
        untouched = yield self.storage.account_by_id(bob)
        self.assertEqual((untouched.password_hash, untouched.admin, untouched.last_seen),
                         ("hash", False, None))

    @defer.inlineCallbacks
    def test_ban_and_unban(self):
        alice, bob = yield self.people("alice", "bob")
        account = yield self.storage.account_by_id(alice)
        self.assertEqual((account.banned, account.ban_reason), (False, None))
        yield self.storage.set_banned(alice, True, "spam")
        account = yield self.storage.account_by_key("alice")
        self.assertEqual((account.banned, account.ban_reason), (True, "spam"))
        self.assertEqual([(a.key, a.banned) for a in (yield self.storage.accounts())],
                         [("alice", True), ("bob", False)])
        yield self.storage.set_banned(alice, True, None)   # banned again, no reason now
        account = yield self.storage.account_by_id(alice)
        self.assertEqual((account.banned, account.ban_reason), (True, None))
        yield self.storage.set_banned(alice, True, "again")
        yield self.storage.set_banned(alice, False, "ignored")  # unbanning clears the reason
        account = yield self.storage.account_by_id(alice)
        self.assertEqual((account.banned, account.ban_reason), (False, None))
        untouched = yield self.storage.account_by_id(bob)
        self.assertEqual((untouched.banned, untouched.ban_reason), (False, None))
        yield self.storage.set_banned(404, True, "nobody")  # an unknown id is harmless
        self.assertIsNone((yield self.storage.account_by_id(404)))

    @defer.inlineCallbacks
    def test_delete_account(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.add_member(dm(alice, bob), alice, 2)
        yield self.storage.add_member(dm(alice, bob), bob, 2)
        yield self.storage.set_read(alice, ROOM, 1, 3)
        yield self.storage.set_avatar(alice, "image/png", b"png")
        self.assertTrue((yield self.storage.delete_account(alice, 10)))
        self.assertIsNone((yield self.storage.account_by_id(alice)))
        self.assertIsNone((yield self.storage.account_by_key("alice")))
        self.assertEqual([a.key for a in (yield self.storage.accounts())], ["bob"])
        members = yield self.storage.memberships()
        self.assertEqual((members.get(ROOM), members.get(dm(alice, bob))), ({bob}, {bob}))
        self.assertNotIn(alice, (yield self.storage.read_marks(ROOM)))
        self.assertFalse((yield self.storage.delete_account(alice, 11)))   # gone already
        # the name is free again, but the new account is somebody else: a new id, above
        # every id used, so it inherits no private chat of the deleted one
        again, = yield self.people("alice")
        self.assertNotIn(again, (alice, bob))
        self.assertGreater(again, max(alice, bob))
        self.assertIsNone((yield self.storage.avatar(again)))

    @defer.inlineCallbacks
    def test_deleted_newest_id_is_not_reused(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.delete_account(bob, 10)
        carol, = yield self.people("carol")
        self.assertGreater(carol, bob)

    @defer.inlineCallbacks
    def test_avatar_round_trip(self):
        alice, bob = yield self.people("alice", "bob")
        self.assertIsNone((yield self.storage.avatar(alice)))
        data = bytes(range(256)) * 40 + b"\x00"
        yield self.storage.set_avatar(alice, "image/png", data)
        got = yield self.storage.avatar(alice)
        self.assertEqual(got, ("image/png", data))
        self.assertIsInstance(got[1], bytes)
        self.assertEqual((yield self.storage.account_by_id(alice)).avatar_type, "image/png")
        yield self.storage.set_avatar(alice, "image/jpeg", b"\xff\xd8")
        self.assertEqual((yield self.storage.avatar(alice)), ("image/jpeg", b"\xff\xd8"))
        self.assertIsNone((yield self.storage.avatar(bob)))
        self.assertIsNone((yield self.storage.avatar(404)))

    # -- rooms and membership

    @defer.inlineCallbacks
    def test_create_room(self):
        room = yield self.storage.create_room("Lobby", "lobby", "hello", 7, 1000)
        self.assertEqual(room, Room("Lobby", "lobby", "hello", 7, 1000))
        nobody = yield self.storage.create_room("Sys", "sys", "", None, 1)
        self.assertIsNone(nobody.created_by)
        self.assertEqual((yield self.storage.rooms()), [room, nobody])

    @defer.inlineCallbacks
    def test_room_name_taken(self):
        yield self.storage.create_room("Lobby", "lobby", "", None, 1)
        yield self.assertFailure(self.storage.create_room("LOBBY", "lobby", "x", None, 2),
                                 NameTaken)
        self.assertEqual([r.name for r in (yield self.storage.rooms())], ["Lobby"])

    @defer.inlineCallbacks
    def test_rooms_ordered_and_topic(self):
        for key in ["zed", "abc", "mid"]:
            yield self.storage.create_room(key.upper(), key, "", None, 1)
        yield self.storage.set_topic("mid", "new topic")
        rooms = yield self.storage.rooms()
        self.assertEqual([(r.key, r.topic) for r in rooms],
                         [("abc", ""), ("mid", "new topic"), ("zed", "")])

    @defer.inlineCallbacks
    def test_membership(self):
        alice, bob = yield self.people("alice", "bob", join=())
        self.assertEqual((yield self.storage.memberships()), {})
        yield self.storage.add_member(ROOM, alice, 5)
        yield self.storage.add_member(ROOM, alice, 6)
        yield self.storage.add_member(ROOM, bob, 7)
        yield self.storage.add_member(dm(alice, bob), bob, 7)
        self.assertEqual((yield self.storage.memberships()),
                         {ROOM: {alice, bob}, dm(alice, bob): {bob}})
        yield self.storage.remove_member(ROOM, alice)
        yield self.storage.remove_member(ROOM, alice)
        yield self.storage.remove_member(dm(alice, bob), bob)
        self.assertEqual((yield self.storage.memberships()), {ROOM: {bob}})

    # -- storing messages

    @defer.inlineCallbacks
    def test_store_and_history(self):
        alice, = yield self.people("alice")
        self.assertEqual((yield self.storage.max_message_id()), 0)
        batch = [msg(1, sender_id=alice), msg(2, sender_id=alice, text="héllo ✓ \x00")]
        results = yield self.storage.store_messages(batch)
        self.assertEqual(results, [StoreResult(1, batch[0].ts, False),
                                   StoreResult(2, batch[1].ts, False)])
        self.assertEqual((yield self.storage.history(ROOM)), [stored(m) for m in batch])
        self.assertEqual((yield self.storage.max_message_id()), 2)
        self.assertEqual((yield self.storage.store_messages([])), [])

    @defer.inlineCallbacks
    def test_dedup_within_batch(self):
        first, again, other = msg(1, cid="x"), msg(2, cid="x", text="resent"), msg(3, cid="y")
        results = yield self.storage.store_messages([first, again, other])
        self.assertEqual(results, [StoreResult(1, first.ts, False),
                                   StoreResult(1, first.ts, True),
                                   StoreResult(3, other.ts, False)])
        self.assertEqual((yield self.storage.history(ROOM)), [stored(first), stored(other)])

    @defer.inlineCallbacks
    def test_dedup_across_batches(self):
        first = msg(1, cid="x")
        yield self.storage.store_messages([first])
        results = yield self.storage.store_messages([msg(5, cid="x", ts=9), msg(6, cid="z")])
        self.assertEqual(results, [StoreResult(1, first.ts, True),
                                   StoreResult(6, msg(6).ts, False)])
        self.assertEqual((yield self.ids(self.storage.history(ROOM))), [1, 6])
        yield self.storage.store_messages([msg(7, cid="x")])
        self.assertEqual((yield self.storage.max_message_id()), 6)

    @defer.inlineCallbacks
    def test_same_cid_other_sender_is_no_duplicate(self):
        results = yield self.storage.store_messages([msg(1, sender_id=1, cid="x"),
                                                     msg(2, sender_id=2, cid="x")])
        self.assertEqual([r.duplicate for r in results], [False, False])

    @defer.inlineCallbacks
    def test_failed_batch_stores_nothing(self):
        yield self.storage.store_messages([msg(1)])
        # The same id twice (once already stored) cannot be written: the whole batch fails.
        for batch in ([msg(2), msg(3), msg(2, cid="other")], [msg(4), msg(1, cid="again")]):
            yield self.assertFailure(self.storage.store_messages(batch), StorageError)
        self.assertEqual((yield self.ids(self.storage.history(ROOM))), [1])
        results = yield self.storage.store_messages([msg(2), msg(3), msg(4)])
        self.assertEqual([r.duplicate for r in results], [False, False, False])

    # -- history

    @defer.inlineCallbacks
    def fill(self):
        """Messages 1..10 in ROOM, interleaved with 101..105 in OTHER_ROOM."""
        batch = [msg(i) for i in range(1, 11)] + [msg(100 + i, OTHER_ROOM) for i in range(1, 6)]
        batch.sort(key=lambda m: (m.id % 100, m.id))
        yield self.storage.store_messages(batch)

    @defer.inlineCallbacks
    def test_history_modes(self):
        yield self.fill()
        h = self.storage.history
        self.assertEqual((yield self.ids(h(ROOM))), list(range(1, 11)))
        self.assertEqual((yield self.ids(h(ROOM, limit=3))), [8, 9, 10])
        self.assertEqual((yield self.ids(h(ROOM, before=5, limit=2))), [3, 4])
        self.assertEqual((yield self.ids(h(ROOM, before=5))), [1, 2, 3, 4])
        self.assertEqual((yield self.ids(h(ROOM, after=5, limit=2))), [6, 7])
        self.assertEqual((yield self.ids(h(ROOM, after=5))), [6, 7, 8, 9, 10])
        self.assertEqual((yield self.ids(h(ROOM, after=2, before=9, limit=3))), [6, 7, 8])
        self.assertEqual((yield self.ids(h(ROOM, after=2, before=9))), [3, 4, 5, 6, 7, 8])
        self.assertEqual((yield self.ids(h(ROOM, before=1))), [])
        self.assertEqual((yield self.ids(h(ROOM, after=10))), [])
        self.assertEqual((yield self.ids(h(ROOM, after=4, before=5))), [])
        self.assertEqual((yield self.ids(h(OTHER_ROOM, before=104, limit=2))), [102, 103])
        self.assertEqual((yield self.ids(h("r:empty"))), [])
        self.assertEqual((yield self.ids(h(ROOM, limit=0))), [])

    # -- messages_since

    @defer.inlineCallbacks
    def test_messages_since_only_member_conversations(self):
        alice, bob, carol = yield self.people("alice", "bob", "carol", join=())
        yield self.storage.add_member(ROOM, carol, 1)
        for a in (alice, bob):
            yield self.storage.add_member(dm(alice, bob), a, 1)
        yield self.storage.store_messages([
            msg(1, ROOM, alice), msg(2, dm(alice, bob), alice), msg(3, dm(alice, bob), bob),
            msg(4, ROOM, bob), msg(5, OTHER_ROOM, alice), msg(6, ROOM, carol)])
        self.assertEqual((yield self.ids(self.storage.messages_since(carol, 0, 100))), [1, 4, 6])
        self.assertEqual((yield self.ids(self.storage.messages_since(alice, 0, 100))), [2, 3])
        self.assertEqual((yield self.ids(self.storage.messages_since(bob, 2, 100))), [3])
        yield self.storage.remove_member(ROOM, carol)
        self.assertEqual((yield self.ids(self.storage.messages_since(carol, 0, 100))), [])

    @defer.inlineCallbacks
    def test_messages_since_order_and_limit(self):
        alice, = yield self.people("alice", join=(ROOM, OTHER_ROOM))
        yield self.fill()
        since = self.storage.messages_since
        self.assertEqual((yield self.ids(since(alice, 0, 3))), [1, 2, 3])
        self.assertEqual((yield self.ids(since(alice, 8, 4))), [9, 10, 101, 102])
        self.assertEqual((yield self.ids(since(alice, 104, 10))), [105])
        self.assertEqual((yield self.ids(since(alice, 0, 0))), [])
        everything = yield since(alice, 0, 100)
        self.assertEqual([m.id for m in everything], list(range(1, 11)) + list(range(101, 106)))
        self.assertEqual(everything[0], stored(msg(1)))

    # -- unread counts and read marks

    @defer.inlineCallbacks
    def test_unread_counts(self):
        alice, bob, carol = yield self.people("alice", "bob", "carol", join=())
        private = dm(alice, bob)
        for a in (alice, bob):
            yield self.storage.add_member(private, a, 1)
        yield self.storage.add_member(ROOM, bob, 1)
        yield self.storage.store_messages([
            msg(1, private, alice), msg(2, private, alice), msg(3, private, bob),
            msg(4, private, alice), msg(5, ROOM, alice), msg(6, OTHER_ROOM, alice)])
        self.assertEqual((yield self.storage.unread_counts(bob)), {private: 3, ROOM: 1})
        self.assertEqual((yield self.storage.unread_counts(alice)), {private: 1})
        self.assertEqual((yield self.storage.unread_counts(carol)), {})
        yield self.storage.set_read(bob, private, 2, 10)
        self.assertEqual((yield self.storage.unread_counts(bob)), {private: 1, ROOM: 1})
        yield self.storage.set_read(bob, ROOM, 5, 10)
        yield self.storage.set_read(bob, private, 4, 10)
        self.assertEqual((yield self.storage.unread_counts(bob)), {})
        self.assertEqual((yield self.storage.unread_counts(alice)), {private: 1})

    @defer.inlineCallbacks
    def test_unread_counts_stop_at_the_cap(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.store_messages(
            [msg(i, ROOM, alice, cid=f"u{i}") for i in range(1, UNREAD_MAX + 6)])
        self.assertEqual((yield self.storage.unread_counts(bob)), {ROOM: UNREAD_MAX})
        yield self.storage.set_read(bob, ROOM, UNREAD_MAX + 2, 10)
        self.assertEqual((yield self.storage.unread_counts(bob)), {ROOM: 3})

    @defer.inlineCallbacks
    def test_read_marks_never_go_down(self):
        alice, bob = yield self.people("alice", "bob")
        self.assertEqual((yield self.storage.read_marks(ROOM)), {})
        self.assertEqual((yield self.storage.set_read(alice, ROOM, 7, 1)), [])
        yield self.storage.set_read(bob, ROOM, 3, 1)
        yield self.storage.set_read(alice, ROOM, 5, 2)
        yield self.storage.set_read(bob, OTHER_ROOM, 9, 2)
        self.assertEqual((yield self.storage.read_marks(ROOM)), {alice: 7, bob: 3})
        yield self.storage.set_read(alice, ROOM, 8, 3)
        self.assertEqual((yield self.storage.read_marks(ROOM)), {alice: 8, bob: 3})
        self.assertEqual((yield self.storage.read_marks(OTHER_ROOM)), {bob: 9})

    # -- burn after reading

    @defer.inlineCallbacks
    def test_burn_after_reading(self):
        alice, bob, carol = yield self.people("alice", "bob", "carol")
        secret = msg(2, sender_id=alice, text="secret", burn_ttl=30.0,
                     burn_recipients=(bob, carol))
        results = yield self.storage.store_messages([msg(1, sender_id=bob), secret])
        self.assertIsNone(results[1].burn_deadline)
        self.assertEqual((yield self.storage.pending_burns()), [])
        # Reading up to an earlier message, or another conversation, reads nothing.
        self.assertEqual((yield self.storage.set_read(bob, ROOM, 1, 100)), [])
        self.assertEqual((yield self.storage.set_read(bob, OTHER_ROOM, 50, 100)), [])
        self.assertEqual((yield self.storage.set_read(carol, ROOM, 2, 200)), [])
        self.assertEqual((yield self.storage.pending_burns()), [])
        due = yield self.storage.set_read(bob, ROOM, 2, 5_000)
        self.assertEqual(due, [BurnDue(2, ROOM, 35_000)])
        self.assertEqual((yield self.storage.pending_burns()), due)
        self.assertEqual((yield self.storage.set_read(bob, ROOM, 3, 6_000)), [])
        self.assertEqual((yield self.storage.history(ROOM))[1], stored(secret))

        yield self.storage.burn([2])
        self.assertEqual((yield self.storage.history(ROOM)),
                         [stored(msg(1, sender_id=bob)), stored(secret, text=None, burned=True)])
        self.assertEqual((yield self.storage.pending_burns()), [])
        self.assertEqual((yield self.ids(self.storage.messages_since(bob, 0, 10))), [1, 2])

    @defer.inlineCallbacks
    def test_burn_deadline_uses_fractional_ttl(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.store_messages([
            msg(1, sender_id=alice, burn_ttl=1.5, burn_recipients=(bob,)),
            msg(2, sender_id=alice, burn_ttl=4.35, burn_recipients=(bob,))])
        due = yield self.storage.set_read(bob, ROOM, 2, 10_000)
        self.assertEqual(due, [BurnDue(1, ROOM, 11_500), BurnDue(2, ROOM, 14_350)])

    @defer.inlineCallbacks
    def test_burn_without_recipients(self):
        alice, = yield self.people("alice")
        lonely = msg(3, sender_id=alice, ts=50_000, burn_ttl=10.0)
        results = yield self.storage.store_messages([msg(1), lonely])
        self.assertEqual(results[1], StoreResult(3, 50_000, False, burn_deadline=60_000))
        self.assertIsNone(results[0].burn_deadline)
        self.assertEqual((yield self.storage.pending_burns()), [BurnDue(3, ROOM, 60_000)])
        yield self.storage.burn([3])
        self.assertEqual((yield self.storage.pending_burns()), [])
        self.assertEqual((yield self.storage.history(ROOM))[-1],
                         stored(lonely, text=None, burned=True))

    @defer.inlineCallbacks
    def test_resent_burn_message_is_awaited_once(self):
        alice, bob = yield self.people("alice", "bob")
        burn = msg(1, sender_id=alice, cid="b", burn_ttl=5.0, burn_recipients=(bob,))
        yield self.storage.store_messages([burn, msg(2, sender_id=alice, cid="b", burn_ttl=5.0,
                                                     burn_recipients=(bob,))])
        results = yield self.storage.store_messages([msg(3, sender_id=alice, cid="b",
                                                         burn_ttl=5.0, burn_recipients=(bob,))])
        self.assertEqual(results, [StoreResult(1, burn.ts, True)])
        self.assertEqual((yield self.storage.set_read(bob, ROOM, 3, 0)),
                         [BurnDue(1, ROOM, 5_000)])
        self.assertEqual((yield self.ids(self.storage.history(ROOM))), [1])

    @defer.inlineCallbacks
    def test_burn_unknown_or_twice_is_harmless(self):
        yield self.storage.store_messages([msg(1, burn_ttl=1.0)])
        yield self.storage.burn([1, 404])
        yield self.storage.burn([1])
        yield self.storage.burn([])
        self.assertEqual((yield self.storage.history(ROOM)),
                         [stored(msg(1, burn_ttl=1.0), text=None, burned=True)])

    @defer.inlineCallbacks
    def test_pending_burns_by_deadline(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.store_messages([
            msg(1, sender_id=alice, ts=0, burn_ttl=60.0),
            msg(2, sender_id=alice, ts=0, burn_ttl=5.0),
            msg(3, sender_id=alice, ts=0, burn_ttl=9.0, burn_recipients=(bob,))])
        yield self.storage.set_read(bob, ROOM, 3, 1_000)
        self.assertEqual((yield self.storage.pending_burns()),
                         [BurnDue(2, ROOM, 5_000), BurnDue(3, ROOM, 10_000),
                          BurnDue(1, ROOM, 60_000)])

    # -- files

    def new_file(self, sender_id=1, conv=ROOM, size=100, sha="ab" * 32, now=5_000, **kwargs):
        fields = {"target": "#lobby", "name": "f.bin", "mime": "application/octet-stream"}
        fields.update(kwargs)
        return self.storage.create_file(sender_id, conv, fields["target"], fields["name"], size,
                                        sha, fields["mime"], now)

    @defer.inlineCallbacks
    def test_create_file(self):
        record = yield self.storage.create_file(7, dm(7, 9), "@bob", "r.pdf", 1234, "cd" * 32,
                                                "application/pdf", 42)
        self.assertEqual(record, FileRecord(record.id, 7, dm(7, 9), "@bob", "r.pdf", 1234,
                                            "cd" * 32, "application/pdf", 42, False, None, 42))
        self.assertEqual((yield self.storage.file_by_id(record.id)), record)
        self.assertIsNone((yield self.storage.file_by_id(record.id + 1)))
        other = yield self.new_file()
        self.assertGreater(other.id, record.id)
        self.assertEqual((yield self.storage.incomplete_files()), [record, other])
        self.assertEqual((yield self.storage.complete_files()), [])

    @defer.inlineCallbacks
    def test_file_message_completes_its_file(self):
        record = yield self.new_file()
        results = yield self.storage.store_messages(
            [msg(10, text="", cid=f"file-{record.id}", file_id=record.id), msg(11)])
        self.assertFalse(results[0].duplicate)
        done = yield self.storage.file_by_id(record.id)
        self.assertEqual((done.complete, done.msg_id), (True, 10))
        self.assertEqual((yield self.storage.complete_files()), [done])
        self.assertEqual((yield self.storage.incomplete_files()), [])
        history = yield self.storage.history(ROOM)
        self.assertEqual([(m.id, m.file_id, m.text) for m in history],
                         [(10, record.id, ""), (11, None, "text 11")])
        # a resend of the same message changes nothing
        again = yield self.storage.store_messages(
            [msg(12, text="", cid=f"file-{record.id}", file_id=record.id)])
        self.assertEqual((again[0].id, again[0].duplicate), (10, True))
        self.assertEqual((yield self.storage.file_by_id(record.id)).msg_id, 10)

    @defer.inlineCallbacks
    def test_failed_batch_completes_no_file(self):
        record = yield self.new_file()
        yield self.storage.store_messages([msg(1)])
        yield self.assertFailure(self.storage.store_messages(
            [msg(2, cid="f", file_id=record.id), msg(1, cid="clash")]), StorageError)
        self.assertFalse((yield self.storage.file_by_id(record.id)).complete)

    @defer.inlineCallbacks
    def test_files_of_conv(self):
        records = []
        for i in range(5):
            records.append((yield self.new_file(conv=ROOM if i != 2 else OTHER_ROOM)))
        for i, record in enumerate(records[:4]):       # the last one stays incomplete
            yield self.storage.store_messages([msg(i + 1, conv=record.conv, cid=f"file-{i}",
                                                   file_id=record.id)])
        ids = [r.id for r in records]
        page = yield self.storage.files_of_conv(ROOM)
        self.assertEqual([f.id for f in page], [ids[3], ids[1], ids[0]])
        self.assertTrue(all(f.complete for f in page))
        self.assertEqual([f.id for f in (yield self.storage.files_of_conv(ROOM, limit=2))],
                         [ids[3], ids[1]])
        self.assertEqual([f.id for f in (yield self.storage.files_of_conv(ROOM, before=ids[3]))],
                         [ids[1], ids[0]])
        self.assertEqual([f.id for f in (yield self.storage.files_of_conv(OTHER_ROOM))],
                         [ids[2]])
        self.assertEqual((yield self.storage.files_of_conv("r:none")), [])
        self.assertEqual((yield self.storage.files_of_conv(ROOM, limit=0)), [])

    @defer.inlineCallbacks
    def test_touch_delete_and_quota(self):
        a = yield self.new_file(sender_id=1, size=100)
        b = yield self.new_file(sender_id=1, size=50)
        yield self.new_file(sender_id=2, size=7)
        yield self.storage.store_messages([msg(1, file_id=a.id)])
        self.assertEqual((yield self.storage.quota_used(1)), 150)   # complete or not
        self.assertEqual((yield self.storage.quota_used(2)), 7)
        self.assertEqual((yield self.storage.quota_used(3)), 0)
        yield self.storage.touch_file(b.id, 99_000)
        self.assertEqual((yield self.storage.file_by_id(b.id)).last_progress, 99_000)
        yield self.storage.delete_file(b.id)
        yield self.storage.delete_file(b.id)         # idempotent
        self.assertIsNone((yield self.storage.file_by_id(b.id)))
        self.assertEqual((yield self.storage.quota_used(1)), 100)
        # the newest id, deleted, is never handed out again
        c = yield self.new_file(sender_id=1)
        self.assertGreater(c.id, b.id)
        yield self.storage.delete_file(a.id)
        # the message that published it stays
        self.assertEqual([m.file_id for m in (yield self.storage.history(ROOM))], [a.id])
