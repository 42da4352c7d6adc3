"""In-memory implementation of :class:`~chat.server.storage.IStorage`.

Everything lives in dicts and is lost at exit: the server's ``--lite`` mode (a pure relay) and
fast tests. Every method returns an already-fired Deferred. With ``max_messages_per_conv``
each conversation keeps only its newest messages, so memory stays bounded.
"""

import dataclasses
import functools
import heapq
from bisect import bisect_left, bisect_right, insort
from itertools import islice
from typing import Optional

from twisted.internet import defer
from zope.interface import implementer

from . import (UNREAD_MAX, Account, BurnDue, FileRecord, IStorage, NameTaken, NewMessage, Room,
               StorageError, StoredMessage, StoreResult)
from .common import burn_deadline


def _deferred(method):
    """Make ``method`` return a fired Deferred with its result or exception."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return defer.succeed(method(*args, **kwargs))
        except Exception:
            return defer.fail()
    return wrapper


@implementer(IStorage)
class MemoryStorage:
    """The server's state in dicts; see the module docstring."""

    def __init__(self, max_messages_per_conv: Optional[int] = None):
        self._max_per_conv = max_messages_per_conv
        self._accounts: dict[int, Account] = {}
        self._account_ids: dict[str, int] = {}             # key -> id
        self._avatars: dict[int, bytes] = {}
        self._next_account_id = 1
        self._rooms: dict[str, Room] = {}
        self._members: dict[str, set[int]] = {}            # conv -> account ids
        self._convs: dict[int, set[str]] = {}              # account id -> convs
        self._messages: dict[int, StoredMessage] = {}
        self._conv_ids: dict[str, list[int]] = {}          # conv -> message ids, ascending
        self._first_copy: dict[tuple[int, str], tuple[int, int]] = {}  # (sender, cid) -> id, ts
        self._max_id = 0
        self._read_marks: dict[str, dict[int, int]] = {}   # conv -> account id -> up_to
        self._awaiting: dict[int, set[int]] = {}           # burn message -> unread recipients
        self._awaited_by: dict[int, set[int]] = {}         # account -> burn messages to read
        self._deadlines: dict[int, int] = {}               # burn message -> deadline
        self._files: dict[int, FileRecord] = {}            # file id -> record
        self._next_file_id = 1

    def preflight(self):
        pass  # nothing outside the process to check

    @_deferred
    def start(self):
        return None

    @_deferred
    def stop(self):
        return None

    # -- accounts
    @_deferred
    def create_account(self, name, key, password_hash, now, admin=False, join=(),
                       admin_if_first=False):
        if key in self._account_ids:
            raise NameTaken(key)
        admin = bool(admin) or (admin_if_first and not self._accounts)
        account = Account(self._next_account_id, name, key, password_hash, admin, now,
                          None, None)
        self._next_account_id += 1
        self._accounts[account.id] = account
        self._account_ids[key] = account.id
        for conv in join:
            self._add_member(conv, account.id)
        return account

    @_deferred
    def account_by_key(self, key):
        return self._accounts.get(self._account_ids.get(key))

    @_deferred
    def account_by_id(self, account_id):
        return self._accounts.get(account_id)

    @_deferred
    def accounts(self):
        return sorted(self._accounts.values(), key=lambda a: a.key)

    @_deferred
    def count_accounts(self):
        return len(self._accounts)

    def _update_account(self, account_id, **changes):
        if account_id in self._accounts:
            self._accounts[account_id] = dataclasses.replace(self._accounts[account_id], **changes)

    @_deferred
    def set_password_hash(self, account_id, password_hash):
        self._update_account(account_id, password_hash=password_hash)

    @_deferred
    def set_admin(self, account_id, admin):
        self._update_account(account_id, admin=bool(admin))

    @_deferred
    def set_last_seen(self, account_id, now):
        self._update_account(account_id, last_seen=now)

    @_deferred
    def set_banned(self, account_id, banned, reason=None):
        self._update_account(account_id, banned=bool(banned),
                             ban_reason=reason if banned else None)

    @_deferred
    def set_avatar(self, account_id, avatar_type, data):
        if account_id not in self._accounts:
            return
        self._update_account(account_id, avatar_type=avatar_type)
        if avatar_type is None:
            self._avatars.pop(account_id, None)
        else:
            self._avatars[account_id] = bytes(data)

    @_deferred
    def delete_account(self, account_id, now):
        account = self._accounts.pop(account_id, None)
        if account is None:
            return False
        del self._account_ids[account.key]
        self._avatars.pop(account_id, None)
        for conv in self._convs.pop(account_id, set()):
            members = self._members.get(conv)
            if members is not None:
                members.discard(account_id)
                if not members:
                    del self._members[conv]
        for marks in self._read_marks.values():
            marks.pop(account_id, None)
        return True     # ids come from a counter: never handed out again

    @_deferred
    def avatar(self, account_id):
        account = self._accounts.get(account_id)
        if account is None or account.avatar_type is None:
            return None
        return account.avatar_type, self._avatars[account_id]

    # -- rooms and membership
    @_deferred
    def create_room(self, name, key, topic, created_by, now):
        if key in self._rooms:
            raise NameTaken(key)
        room = self._rooms[key] = Room(name, key, topic, created_by, now)
        return room

    @_deferred
    def rooms(self):
        return [self._rooms[key] for key in sorted(self._rooms)]

    @_deferred
    def set_topic(self, key, topic):
        if key in self._rooms:
            self._rooms[key] = dataclasses.replace(self._rooms[key], topic=topic)

    def _add_member(self, conv, account_id):
        self._members.setdefault(conv, set()).add(account_id)
        self._convs.setdefault(account_id, set()).add(conv)

    @_deferred
    def add_member(self, conv, account_id, now):
        self._add_member(conv, account_id)

    @_deferred
    def remove_member(self, conv, account_id):
        for index, outer, inner in ((self._members, conv, account_id),
                                    (self._convs, account_id, conv)):
            values = index.get(outer)
            if values is not None:
                values.discard(inner)
                if not values:
                    del index[outer]

    @_deferred
    def memberships(self):
        return {conv: set(members) for conv, members in self._members.items()}

    # -- messages
    @_deferred
    def max_message_id(self):
        return self._max_id

    @_deferred
    def store_messages(self, batch):
        # Work out everything first, so that a bad batch changes nothing.
        results, fresh, in_batch = [], [], {}
        for m in batch:
            key = (m.sender_id, m.cid)
            copy = self._first_copy.get(key) or in_batch.get(key)
            if copy is not None:
                results.append(StoreResult(*copy, duplicate=True))
                continue
            deadline = None
            if m.burn_ttl is not None and not m.burn_recipients:
                deadline = burn_deadline(m.ts, m.burn_ttl)
            in_batch[key] = (m.id, m.ts)
            fresh.append((m, deadline))
            results.append(StoreResult(m.id, m.ts, duplicate=False, burn_deadline=deadline))
        ids = {m.id for m, _ in fresh}
        if len(ids) < len(fresh) or not ids.isdisjoint(self._messages):
            raise StorageError("message id stored twice")
        for m, _ in fresh:
            if m.file_id is not None and m.file_id in self._files:
                self._files[m.file_id] = dataclasses.replace(
                    self._files[m.file_id], complete=True, msg_id=m.id)
        for m, deadline in fresh:
            self._store(m, deadline)
        if self._max_per_conv is not None:
            for conv in {m.conv for m, _ in fresh}:
                self._trim(conv)
        return results

    def _store(self, m: NewMessage, deadline):
        self._messages[m.id] = StoredMessage(m.id, m.conv, m.sender_id, m.sender, m.text, m.ts,
                                             m.cid, m.burn_ttl, False, m.file_id)
        ids = self._conv_ids.setdefault(m.conv, [])
        if not ids or m.id > ids[-1]:
            ids.append(m.id)
        else:
            insort(ids, m.id)
        self._first_copy[m.sender_id, m.cid] = (m.id, m.ts)
        self._max_id = max(self._max_id, m.id)
        if m.burn_ttl is not None:
            if m.burn_recipients:
                self._awaiting[m.id] = set(m.burn_recipients)
                for account_id in m.burn_recipients:
                    self._awaited_by.setdefault(account_id, set()).add(m.id)
            else:
                self._deadlines[m.id] = deadline

    def _trim(self, conv):
        ids = self._conv_ids[conv]
        excess = len(ids) - self._max_per_conv
        if excess <= 0:
            return
        for id in ids[:excess]:
            m = self._messages.pop(id)
            # Forgetting its cid too keeps memory bounded; a resend that old is stored anew.
            del self._first_copy[m.sender_id, m.cid]
            self._forget_burn(id)
        del ids[:excess]

    def _forget_burn(self, message_id):
        self._deadlines.pop(message_id, None)
        for account_id in self._awaiting.pop(message_id, ()):
            self._awaited_by[account_id].discard(message_id)

    @_deferred
    def history(self, conv, before=None, after=None, limit=50):
        if limit <= 0:
            return []
        ids = self._conv_ids.get(conv, [])
        lo = 0 if after is None else bisect_right(ids, after)
        hi = len(ids) if before is None else bisect_left(ids, before)
        if after is not None and before is None:
            chosen = ids[lo:lo + limit]
        else:
            chosen = ids[max(lo, hi - limit):hi]
        return [self._messages[id] for id in chosen]

    @_deferred
    def messages_since(self, account_id, since_id, limit):
        if limit <= 0:
            return []
        per_conv = []
        for conv in self._convs.get(account_id, ()):
            ids = self._conv_ids.get(conv, [])
            start = bisect_right(ids, since_id)
            per_conv.append(ids[start:start + limit])
        return [self._messages[id] for id in islice(heapq.merge(*per_conv), limit)]

    @_deferred
    def unread_counts(self, account_id):
        counts = {}
        for conv in self._convs.get(account_id, ()):
            ids = self._conv_ids.get(conv, [])
            mark = self._read_marks.get(conv, {}).get(account_id, 0)
            start = bisect_right(ids, mark)
            n = 0
            for id in islice(ids, start, None):
                if self._messages[id].sender_id != account_id:
                    n += 1
                    if n == UNREAD_MAX:
                        break
            if n:
                counts[conv] = n
        return counts

    @_deferred
    def read_marks(self, conv):
        return dict(self._read_marks.get(conv, {}))

    @_deferred
    def set_read(self, account_id, conv, up_to, now):
        marks = self._read_marks.setdefault(conv, {})
        marks[account_id] = max(marks.get(account_id, up_to), up_to)
        awaited = self._awaited_by.get(account_id, set())
        due = []
        for id in sorted(awaited):
            m = self._messages[id]
            if id > up_to or m.conv != conv:
                continue
            awaited.discard(id)
            readers = self._awaiting[id]
            readers.discard(account_id)
            if not readers:
                del self._awaiting[id]
                deadline = self._deadlines[id] = burn_deadline(now, m.burn_ttl)
                due.append(BurnDue(id, conv, deadline))
        return due

    @_deferred
    def pending_burns(self):
        return [BurnDue(id, self._messages[id].conv, deadline)
                for deadline, id in sorted((d, id) for id, d in self._deadlines.items())]

    @_deferred
    def burn(self, message_ids):
        for id in message_ids:
            m = self._messages.get(id)
            if m is not None:
                self._messages[id] = dataclasses.replace(m, text=None, burned=True)
                self._forget_burn(id)

    # -- files
    @_deferred
    def create_file(self, sender_id, conv, target, name, size, sha256, mime, now):
        record = FileRecord(self._next_file_id, sender_id, conv, target, name, size, sha256,
                            mime, now, False, None, now)
        self._next_file_id += 1
        self._files[record.id] = record
        return record

    @_deferred
    def file_by_id(self, file_id):
        return self._files.get(file_id)

    @_deferred
    def files_of_conv(self, conv, before=None, limit=50):
        found = [f for id, f in sorted(self._files.items(), reverse=True)
                 if f.conv == conv and f.complete and (before is None or id < before)]
        return found[:max(limit, 0)]

    @_deferred
    def complete_files(self):
        return [f for _, f in sorted(self._files.items()) if f.complete]

    @_deferred
    def incomplete_files(self):
        return [f for _, f in sorted(self._files.items()) if not f.complete]

    @_deferred
    def touch_file(self, file_id, now):
        if file_id in self._files:
            self._files[file_id] = dataclasses.replace(self._files[file_id], last_progress=now)

    @_deferred
    def delete_file(self, file_id):
        self._files.pop(file_id, None)

    @_deferred
    def quota_used(self, sender_id):
        return sum(f.size for f in self._files.values() if f.sender_id == sender_id)
