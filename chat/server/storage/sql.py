"""The SQL implementation of :class:`~chat.server.storage.IStorage`, on any :class:`Engine`.

A facade over the query modules (``sql_accounts``, ``sql_rooms``, ``sql_messages``,
``sql_reads``, ``sql_files``): every method runs one interaction, that is one transaction, in
a thread of an adbapi connection pool, so the reactor never waits on the database.
Database errors come out as :class:`~chat.server.storage.StorageError`. The engines' own
classes: :mod:`.sqlite` and :mod:`.postgresql`.
"""

import time

from twisted.internet import defer
from zope.interface import implementer

from . import IStorage, StorageError
from . import migrate, sql_accounts, sql_files, sql_messages, sql_reads, sql_rooms
from .engine import Engine, Tx


@implementer(IStorage)
class SQLStorage:
    """The server's state in a SQL database reached through ``engine``."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._pool = None
        self._pending: set[defer.Deferred] = set()

    def describe(self) -> str:
        """The database, as messages name it."""
        raise NotImplementedError

    def preflight(self):
        try:
            self._engine.preflight()
        except self._engine.error as error:
            raise StorageError(f"{self.describe()}: {str(error).strip()}") from None

    def start(self):
        self._pool = self._engine.connection_pool()
        files = migrate.schema_files(self._engine.schema_dir)
        d = self._run(migrate.apply, files, int(time.time() * 1000))
        d.addCallback(lambda _: None)
        return d

    @defer.inlineCallbacks
    def stop(self):
        # adbapi's close() would stop the thread with work still queued: let that finish.
        while self._pending:
            yield defer.DeferredList(list(self._pending))
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    #: times a transaction the database gave up on (a deadlock between two of the pool's
    #: connections, a serialization failure) is run again: it was rolled back whole, and an
    #: interaction is a function of its arguments and the database
    RETRIES = 3

    def _run(self, interaction, *args):
        """Run ``interaction(tx, *args)`` in a thread of the pool, in one transaction."""
        return self._track(self._attempt(interaction, args, self.RETRIES))

    def _attempt(self, interaction, args, retries):
        d = self._pool.runInteraction(self._interact, interaction, args)
        if retries > 0:
            def again(failure):
                if (failure.check(self._engine.error)
                        and self._engine.is_transient(failure.value)):
                    return self._attempt(interaction, args, retries - 1)
                return failure
            d.addErrback(again)
        return d

    def _track(self, d):
        self._pending.add(d)

        def done(result):
            self._pending.discard(d)
            return result
        d.addBoth(done)
        d.addErrback(self._translate)
        return d

    def _interact(self, cursor, interaction, args):
        self._engine.begin(cursor)
        return interaction(Tx(self._engine, cursor), *args)

    def _translate(self, failure):
        if failure.check(self._engine.error):
            raise StorageError(str(failure.value)) from failure.value
        return failure

    # -- accounts
    def create_account(self, name, key, password_hash, now, admin=False, join=(),
                       admin_if_first=False):
        return self._run(sql_accounts.create, name, key, password_hash, now, admin, tuple(join),
                         admin_if_first)

    def account_by_key(self, key):
        return self._run(sql_accounts.by_key, key)

    def account_by_id(self, account_id):
        return self._run(sql_accounts.by_id, account_id)

    def accounts(self):
        return self._run(sql_accounts.all_accounts)

    def count_accounts(self):
        return self._run(sql_accounts.count)

    def set_password_hash(self, account_id, password_hash):
        return self._run(sql_accounts.set_password_hash, account_id, password_hash)

    def set_admin(self, account_id, admin):
        return self._run(sql_accounts.set_admin, account_id, admin)

    def set_last_seen(self, account_id, now):
        return self._run(sql_accounts.set_last_seen, account_id, now)

    def set_banned(self, account_id, banned, reason=None):
        return self._run(sql_accounts.set_banned, account_id, banned, reason)

    def set_avatar(self, account_id, avatar_type, data):
        return self._run(sql_accounts.set_avatar, account_id, avatar_type, data)

    def avatar(self, account_id):
        return self._run(sql_accounts.avatar, account_id)

    def delete_account(self, account_id, now):
        return self._run(sql_accounts.delete, account_id, now)

    # -- rooms and membership
    def create_room(self, name, key, topic, created_by, now):
        return self._run(sql_rooms.create, name, key, topic, created_by, now)

    def rooms(self):
        return self._run(sql_rooms.all_rooms)

    def set_topic(self, key, topic):
        return self._run(sql_rooms.set_topic, key, topic)

    def add_member(self, conv, account_id, now):
        return self._run(sql_rooms.add_member, conv, account_id, now)

    def remove_member(self, conv, account_id):
        return self._run(sql_rooms.remove_member, conv, account_id)

    def memberships(self):
        return self._run(sql_rooms.memberships)

    # -- messages
    def max_message_id(self):
        return self._run(sql_messages.max_id)

    def store_messages(self, batch):
        return self._run(sql_messages.store, list(batch))

    def history(self, conv, before=None, after=None, limit=50):
        return self._run(sql_messages.history, conv, before, after, limit)

    def messages_since(self, account_id, since_id, limit):
        return self._run(sql_messages.since, account_id, since_id, limit)

    def unread_counts(self, account_id):
        return self._run(sql_reads.unread_counts, account_id)

    def read_marks(self, conv):
        return self._run(sql_reads.read_marks, conv)

    def set_read(self, account_id, conv, up_to, now):
        return self._run(sql_reads.set_read, account_id, conv, up_to, now)

    def pending_burns(self):
        return self._run(sql_reads.pending_burns)

    def burn(self, message_ids):
        d = self._run(sql_reads.burn, list(message_ids))
        d.addCallback(lambda _: self._track(self._pool.runWithConnection(self._engine.scrub)))
        d.addCallback(lambda _: None)
        return d

    # -- files
    def create_file(self, sender_id, conv, target, name, size, sha256, mime, now):
        return self._run(sql_files.create, sender_id, conv, target, name, size, sha256, mime,
                         now)

    def file_by_id(self, file_id):
        return self._run(sql_files.by_id, file_id)

    def files_of_conv(self, conv, before=None, limit=50):
        return self._run(sql_files.of_conv, conv, before, limit)

    def complete_files(self):
        return self._run(sql_files.with_state, True)

    def incomplete_files(self):
        return self._run(sql_files.with_state, False)

    def touch_file(self, file_id, now):
        return self._run(sql_files.touch, file_id, now)

    def delete_file(self, file_id):
        return self._run(sql_files.delete, file_id)

    def quota_used(self, sender_id):
        return self._run(sql_files.quota_used, sender_id)
