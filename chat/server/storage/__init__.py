"""Storage interface of the server and the records it deals in.

Every method returns a Deferred, so that a SQLite (or later PostgreSQL) implementation can run
its queries in threads and the reactor never waits on a disk. Two implementations:

* :class:`chat.server.storage.memory.MemoryStorage`: everything in dicts (``--lite``, fast tests);
* :class:`chat.server.storage.sqlite.SQLiteStorage`: ``twisted.enterprise.adbapi``, WAL mode,
  versioned schema files from ``schema/``.

Conversations are opaque strings to the storage. The server uses ``r:<room key>`` for a room
and ``d:<lower account id>:<higher account id>`` for a private chat. Membership of a
conversation decides who may read it, what counts as unread and what ``messages_since``
returns. Times are integer milliseconds since the Unix epoch (UTC).
"""

from dataclasses import dataclass
from typing import Optional

from zope.interface import Interface


UNREAD_MAX = 1000
"""Unread counts stop here ("999+" in a client): counting further would scan a whole history
on every login of someone who never read a busy room."""


class NameTaken(Exception):
    """An account or room with this key exists already."""


class StorageError(Exception):
    """The storage could not carry out a write (disk full, database locked, ...)."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str            # display form (NFKC)
    key: str             # case-folded identity, unique
    password_hash: str
    admin: bool
    created: int         # ms
    last_seen: Optional[int]   # ms, None if never logged out
    avatar_type: Optional[str]  # MIME type, None if no avatar
    banned: bool = False        # set by an admin: the account may not log in
    ban_reason: Optional[str] = None


@dataclass(frozen=True)
class Room:
    name: str
    key: str             # unique; the room's conversation is "r:" + key
    topic: str
    created_by: Optional[int]
    created: int         # ms


@dataclass(frozen=True)
class NewMessage:
    """A message the server has accepted and assigned an id to, not yet stored."""
    id: int              # assigned by the server, increasing
    conv: str
    sender_id: int
    sender: str          # sender's display name, kept with the message
    text: str
    ts: int              # ms
    cid: str             # the client's own message id, unique per sender
    burn_ttl: Optional[float] = None          # seconds; None: an ordinary message
    burn_recipients: tuple[int, ...] = ()     # accounts that must read a burn message
    file_id: Optional[int] = None             # a published file: storing marks it complete


@dataclass(frozen=True)
class StoredMessage:
    id: int
    conv: str
    sender_id: int
    sender: str
    text: Optional[str]  # None once burned
    ts: int
    cid: str
    burn_ttl: Optional[float]
    burned: bool
    file_id: Optional[int] = None   # the message publishes this file


@dataclass(frozen=True)
class FileRecord:
    """A file offered by ``sender_id`` to ``conv``; complete once every byte has arrived and
    matched ``sha256`` (its message is ``msg_id`` then). The bytes live outside the storage
    (see chat.server.files)."""
    id: int
    sender_id: int
    conv: str            # the conversation it is published in ("r:lobby" for @all)
    target: str          # as the sender named it: "#dev", "@bob" or "@all"
    name: str
    size: int
    sha256: str          # 64 lowercase hex digits
    mime: str
    created: int         # ms
    complete: bool = False
    msg_id: Optional[int] = None
    last_progress: int = 0   # ms: the last time bytes of an upload arrived (partial expiry)


@dataclass(frozen=True)
class StoreResult:
    """What became of one NewMessage: its id and ts, or those of the earlier copy."""
    id: int
    ts: int
    duplicate: bool
    burn_deadline: Optional[int] = None  # ms; set when a burn message has no recipients


@dataclass(frozen=True)
class BurnDue:
    """A burn-after-reading message that everybody has read: delete it at ``deadline``."""
    message_id: int
    conv: str
    deadline: int        # ms


class IStorage(Interface):
    """Durable state of the server. All methods return Deferreds."""

    def preflight():
        """SYNCHRONOUS, called once before the reactor runs: raise StorageError with the reason
        if the store cannot be used at all (not a database, not writable, locked), so that the
        server stops at once with one clear line instead of failing later."""

    def start():
        """Open the store (create or migrate the schema). Fires with None."""

    def stop():
        """Close the store after pending writes. Fires with None."""

    # -- accounts
    def create_account(name, key, password_hash, now, admin=False, join=(),
                       admin_if_first=False):
        """Create an account and make it a member of the conversations in ``join``,
        in one transaction. With ``admin_if_first`` the account is an admin if no other
        account exists, decided in that transaction (of racing creations exactly one is
        first). Fires with the Account; fails with NameTaken."""

    def account_by_key(key):
        """Fires with the Account or None."""

    def account_by_id(account_id):
        """Fires with the Account or None."""

    def accounts():
        """Fires with all Accounts, ordered by key."""

    def count_accounts():
        """Fires with the number of accounts."""

    def set_password_hash(account_id, password_hash):
        """Fires with None."""

    def set_admin(account_id, admin):
        """Fires with None."""

    def set_last_seen(account_id, now):
        """Fires with None."""

    def set_banned(account_id, banned, reason=None):
        """Ban (``banned`` true, with an optional ``reason``) or unban an account; unbanning
        clears the reason. Fires with None."""

    def set_avatar(account_id, avatar_type, data):
        """Store the avatar image bytes. Fires with None."""

    def avatar(account_id):
        """Fires with (avatar_type, bytes) or None."""

    def delete_account(account_id, now):
        """Forget the account with its avatar, memberships and read marks (its messages and
        file records stay); its id is never handed out again. Fires with True, or False if
        there was no such account."""

    # -- rooms and membership
    def create_room(name, key, topic, created_by, now):
        """Fires with the Room; fails with NameTaken."""

    def rooms():
        """Fires with all Rooms, ordered by key."""

    def set_topic(key, topic):
        """Fires with None."""

    def add_member(conv, account_id, now):
        """Idempotent. Fires with None."""

    def remove_member(conv, account_id):
        """Idempotent. Fires with None."""

    def memberships():
        """Fires with {conv: set(account ids)} for every conversation with members."""

    # -- messages
    def max_message_id():
        """Fires with the highest message id ever stored, 0 if none."""

    def store_messages(batch):
        """Store a list of NewMessage in ONE transaction; fires with a list of StoreResult in
        the same order. A message whose (sender_id, cid) exists already (stored earlier or
        earlier in the same batch) is not stored again: its result carries the first copy's
        id and ts and duplicate=True. A burn message gets one pending-read row per burn
        recipient; with no recipients its deadline is ts + ttl at once (burn_deadline set).
        Fails with StorageError if nothing could be written (then nothing of the batch is)."""

    def history(conv, before=None, after=None, limit=50):
        """Messages of ``conv`` in ascending id order: with ``before``, the last ``limit``
        with id < before; with ``after``, the first ``limit`` with id > after; with neither,
        the last ``limit``. (Both given: ids strictly between, the last ``limit``.)"""

    def messages_since(account_id, since_id, limit):
        """The first ``limit`` messages with id > since_id, ascending, in every conversation
        the account is a member of."""

    def unread_counts(account_id):
        """Fires with {conv: n} for the account's conversations where n > 0: messages with
        id above the account's read mark (0 if none) that others sent, at most UNREAD_MAX."""

    def read_marks(conv):
        """Fires with {account_id: up_to} for ``conv``."""

    def set_read(account_id, conv, up_to, now):
        """Raise the account's read mark of ``conv`` to ``up_to`` (never lower it). Burn
        messages in ``conv`` with id <= up_to that awaited this account's reading are marked
        read; each one that nobody else awaits now gets deadline now + ttl. Fires with the
        list of those BurnDue."""

    def pending_burns():
        """Fires with BurnDue for every message with a deadline that is not burned yet."""

    def burn(message_ids):
        """Delete the content of these messages (text becomes None, burned True), keeping
        who, to whom and when. Fires with None."""

    # -- files (metadata only: the bytes are on disk, see chat.server.files)
    def create_file(sender_id, conv, target, name, size, sha256, mime, now):
        """Record a new, incomplete file (``last_progress`` = ``now``); ids are never reused.
        Fires with the FileRecord."""

    def file_by_id(file_id):
        """Fires with the FileRecord or None."""

    def files_of_conv(conv, before=None, limit=50):
        """The complete files of ``conv``, newest (highest id) first, ids below ``before`` if
        given, at most ``limit``."""

    def complete_files():
        """Fires with every complete FileRecord, by id."""

    def incomplete_files():
        """Fires with every incomplete FileRecord (partial uploads), by id."""

    def touch_file(file_id, now):
        """Set the file's ``last_progress`` to ``now``. Fires with None."""

    def delete_file(file_id):
        """Forget the file's record (its message, if any, stays). Idempotent. Fires with None."""

    def quota_used(sender_id):
        """Fires with the sum of the sizes of the sender's file records, complete or not."""
