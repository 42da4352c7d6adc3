"""Files: file_offer, upload, download, cancel, files; publishing a complete file as a message;
expiry of abandoned partial uploads; and, with ``--lite``, deleting files once they are
delivered.

Metadata goes through the storage (Deferreds); bytes go through the
:class:`~chat.server.files.store.FileStore`, whose blocking methods run only in the file I/O
pool. Every transfer is logged with the user, the file id, the size and the outcome, never
with the content.
"""

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat.server.metrics import NullMetrics
from chat.protocol import commands as C
from chat.protocol.errors import (
    BAD_REQUEST, FORBIDDEN, NO_SPACE, NOT_FOUND, QUOTA_EXCEEDED, SERVER_ERROR, TOO_LARGE,
    ProtocolError)
from chat.protocol.names import ROOM_PREFIX, USER_PREFIX, name_key
from chat.protocol.timestamps import now_ms
from chat.server.results import Stream
from chat.server.conversations import ALL, LOBBY, dm_conv, dm_members, is_room, room_conv
from chat.server.faults import log_failure
from chat.server.files.catalog import FileCatalog
from chat.server.files.relay import RelayExpiry
from chat.server.files.store import FileStore
from chat.server.files.transfers import DownloadProducer, UploadSink, UploadSuperseded
from chat.server.handlers.paging import fit

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PROGRESS_SAVE_EVERY = 60.0
"""Seconds between two writes of an upload's progress time to storage (it decides expiry)."""
EXPIRY_RETRY = 60.0
"""Seconds after which an expired partial whose record could not be deleted is tried again."""
MISMATCH = "the data does not match its SHA-256"


def _not_found(file_id) -> ProtocolError:
    # the same words whether the file does not exist or the caller may not see it
    return ProtocolError(NOT_FOUND, "no such file")


def _bytes(n: int) -> str:
    return f"{n:,} bytes"


class FileHandlers:
    """Handlers for the file requests, and the life cycle of the files behind them."""

    log = Logger()

    def __init__(self, config, clock, storage, io, directory, conversations, writer, messages,
                 catalog, store=None, limits=None, metrics=NullMetrics()):
        self.config = config
        self.clock = clock
        self.storage = storage
        self.io = io                       # chat.server.files.io.FileIO
        self.directory = directory
        self.conversations = conversations
        self.writer = writer               # MessageWriter: publishing is a message
        self.messages = messages           # MessageHandlers: delivery and private chats
        # None: a temporary directory, made when the first file comes (--lite, tests)
        self.store = store
        self.metrics = metrics             # chat.server.metrics: file bytes in and out
        self.catalog = catalog             # FileCatalog, shared with the message views
        self.limits = limits               # chat.server.limits.Limits; None: none (tests)
        self.relay = None
        if not config.persistent:
            self.relay = RelayExpiry(clock, config.file_ttl, self._delete_published)
        self._store_prepared = False
        self._store_waiting: list = []
        self._publishing: dict[int, list] = {}   # file id -> Deferreds of later publishers
        self._producers: set = set()

    def commands(self):
        return {C.FileOffer: self.offer, C.Upload: self.upload, C.Download: self.download,
                C.Files: self.files, C.Cancel: self.cancel}

    def view_of(self, file_id: int):
        """The ``file`` view of a message's file (see MessageHandlers.view)."""
        return self.catalog.view_of(file_id)

    # -- life cycle
    @defer.inlineCallbacks
    def start(self):
        """Load the files' metadata, measure the partial uploads, drop the expired ones.

        The store's directories are made when the first file is offered, not here: a server
        nobody sends files to has none."""
        for record in (yield self.storage.complete_files()):
            self.catalog.add_complete(record)
        expired = 0
        for record in (yield self.storage.incomplete_files()):
            if self._expired(record.last_progress):
                yield self._delete_partial_record(record)
                expired += 1
                continue
            held = (yield self.io.run(self.store.partial_size, record.id)) if self.store else 0
            self._schedule_expiry(self.catalog.add_partial(record, held))
        self.log.info("files: {complete} complete, {partial} partial uploads, {expired} expired",
                      complete=len(self.catalog.complete), partial=len(self.catalog.partials),
                      expired=expired)

    @defer.inlineCallbacks
    def stop(self):
        """Stop every transfer, wait for the disk, remove a temporary store, stop the pool."""
        if self.relay is not None:
            self.relay.stop()
        closing = []
        for partial in self.catalog.partials.values():
            if partial.expiry is not None and partial.expiry.active():
                partial.expiry.cancel()
            if partial.sink is not None:
                closing.append(self._interrupt(partial, partial.sink))
        for producer in list(self._producers):
            producer.stopProducing()
        yield defer.DeferredList(closing, consumeErrors=True)
        if self.store is not None and self.store.temporary:
            yield self.io.run(self.store.remove)
        yield self.io.stop()

    def _ready(self):
        """Fires once the store's directories exist (made in the pool, the first time)."""
        if self._store_prepared:
            return defer.succeed(None)
        d = defer.Deferred()
        self._store_waiting.append(d)
        if len(self._store_waiting) == 1:
            if self.store is None:
                made = self.io.run(FileStore.in_temporary_directory)
                made.addCallback(self._temporary_store_made)
            else:
                # the partials loaded at start: any other partial file is an orphan
                made = self.io.run(self._prepare_store, self.store, set(self.catalog.partials))
                made.addCallback(self._orphans_deleted)
            made.addBoth(self._store_prepared_now)
        return d

    @staticmethod
    def _prepare_store(store, known: set) -> int:    # in the pool
        """Make the store's directories, and delete the partial files that have no record:
        a crash (or a storage fault) came between deleting an expired partial's record and its
        file, so nothing would ever expire them."""
        store.prepare()
        orphans = [file_id for file_id in store.partial_ids() if file_id not in known]
        for file_id in orphans:
            store.remove_partial(file_id)
        return len(orphans)

    def _orphans_deleted(self, n: int) -> None:
        if n:
            self.log.info("{n} partial files without a record deleted", n=n)

    def _temporary_store_made(self, store):
        self.store = store
        return self.io.run(store.prepare)

    def _store_prepared_now(self, result) -> None:
        self._store_prepared = not isinstance(result, Failure)
        waiting, self._store_waiting = self._store_waiting, []
        for d in waiting:
            if self._store_prepared:
                d.callback(None)
            else:
                d.errback(result)

    # -- who may do what
    def _target(self, session, to: str) -> tuple[str, str]:
        """The conversation a file offered to ``to`` goes to (Conversations.resolve), and
        ``to`` as it is shown."""
        conv = self.conversations.resolve(to, session.account_id, may_address_all=session.admin)
        return conv, ALL if to == ALL else self.conversations.wire_name(conv, session.account_id)

    def may_read(self, record, account_id: int) -> bool:
        """Members of the file's conversation: both accounts of a private chat, a room's
        current members (everybody for @all, which lives in #lobby)."""
        if is_room(record.conv):
            return self.conversations.is_member(record.conv, account_id)
        return account_id in dm_members(record.conv)

    # -- file_offer
    @defer.inlineCallbacks
    def offer(self, connection, request, body):
        session = connection.session
        sender = session.account_id
        conv, target = self._target(session, request.to)
        limit = self.config.max_file_size
        if request.size > limit:
            raise ProtocolError(TOO_LARGE, f"{request.name} is {_bytes(request.size)}, over this "
                                           f"server's limit of {_bytes(limit)}")
        if request.size == 0 and request.sha256 != EMPTY_SHA256:
            raise ProtocolError(BAD_REQUEST, f"{MISMATCH} (an empty file's is {EMPTY_SHA256})")
        yield self._ready()
        partial = self.catalog.find_partial(sender, conv, request.sha256, request.size)
        if partial is None and self.limits is not None:
            # a resume is not counted: only new files are
            self.limits.offers.hit(sender, "too many files offered; try again in {wait} s")
        if partial is None:
            used = yield self.storage.quota_used(sender)
            quota = self.config.quota
            if used + request.size > quota:
                left = max(quota - used, 0)
                raise ProtocolError(QUOTA_EXCEEDED, (
                    f"{request.name} ({_bytes(request.size)}) would exceed your quota of "
                    f"{_bytes(quota)}: {_bytes(left)} left"))
            # the partial may have appeared while the quota was read
            partial = self.catalog.find_partial(sender, conv, request.sha256, request.size)
        yield self._check_space(request, partial, session.name)
        if partial is None:
            record = yield self.storage.create_file(
                sender, conv, target, request.name, request.size, request.sha256, request.mime,
                now_ms(self.clock))
            partial = self.catalog.add_partial(record, 0)
            self._schedule_expiry(partial)
            self.log.info("file {id} offered by {user}: {size} bytes to {target}",
                          id=record.id, user=session.name, size=record.size, target=target)
        record = partial.record
        # on disk but not in the catalogue: a crash came between the last byte and the message
        # (a temporary store, --lite, never outlives a crash: it is not looked at)
        if (record.size == 0 or self.catalog.has_content(record.sha256)
                or (not self.store.temporary
                    and (yield self.io.run(self.store.has_blob, record.sha256, record.size)))):
            # the server has these bytes already (or there are none): nothing to upload
            if record.size == 0:
                yield self.io.run(self.store.store_empty, record.sha256)
            return (yield self._published_reply(partial, session, "already stored"))
        if partial.sink is None and partial.held == record.size and record.size > 0:
            # every byte arrived before, but the check did not happen (the link or the
            # server went down in between): check now
            matched = yield partial.queue.submit(self.store.verify_partial, record.id,
                                                 record.sha256, record.size)
            if matched:
                return (yield self._published_reply(partial, session, "verified"))
            partial.held = 0
            self.log.info("file {id}: the {size} bytes held did not match its SHA-256; "
                          "upload again from 0", id=record.id, size=record.size)
        return {"file": self.catalog.view(record), "offset": partial.received}

    @defer.inlineCallbacks
    def _check_space(self, request, partial, user: str):
        """Refuse an offer whose bytes the disk has no room for, before any is sent: room
        is what the disk has free, less what the uploads running now still need, less
        ``config.disk_reserve`` (the database must still be able to grow)."""
        need = request.size - (partial.received if partial is not None else 0)
        if need <= 0 or self.catalog.has_content(request.sha256):
            return
        free = yield self.io.run(self.store.free_space)
        owed = sum(other.record.size - other.received
                   for other in self.catalog.partials.values()
                   if other is not partial and other.sink is not None)
        room = free - owed - self.config.disk_reserve
        if room >= need:
            return
        if not self.store.temporary and (
                yield self.io.run(self.store.has_blob, request.sha256, request.size)):
            return      # the bytes are on the disk already (see offer)
        self.log.warn("file offer by {user} refused: {need} bytes needed, {free} free on the "
                      "disk, {owed} owed to running uploads", user=user, need=need, free=free,
                      owed=owed)
        raise ProtocolError(NO_SPACE, (
            f"the server's disk has no room for {request.name} ({_bytes(need)} to send): "
            f"{_bytes(max(room, 0))} free for files; try again later, or ask its admin"))

    @defer.inlineCallbacks
    def _published_reply(self, partial, session, how: str):
        record, msg_id = yield self._publish(partial)
        self.log.info("file {id} of {user} complete at once ({how}): {size} bytes",
                      id=record.id, user=session.name, how=how, size=record.size)
        return {"file": self.catalog.view(record), "offset": record.size, "msg_id": msg_id}

    # -- upload
    def upload(self, connection, request, body):
        """Returns the sink the connection streams the body into (see ChatConnection)."""
        session = connection.session
        partial = self.catalog.partials.get(request.file)
        if (partial is None or partial.record.sender_id != session.account_id
                or self.store is None):
            done = self.catalog.complete.get(request.file)
            if done is not None and done.sender_id == session.account_id:
                raise ProtocolError(BAD_REQUEST, f"file {request.file} is complete already")
            raise _not_found(request.file)
        record = partial.record
        # still allowed to send there? (one may have left the room since the offer)
        self._target(session, record.target)
        have = partial.received
        if request.offset != have:
            raise ProtocolError(BAD_REQUEST, f"the server has {have} bytes of file {record.id}: "
                                             f"upload from offset {have}")
        rest = record.size - have
        if (request.body or 0) != rest:
            raise ProtocolError(BAD_REQUEST, f"body must be {rest} bytes: the rest of file "
                                             f"{record.id} from offset {have}")
        if partial.sink is not None:
            # the same client reconnected before the server noticed the old link was dead
            self.log.info("upload of file {id} by {user} taken over by a newer one",
                          id=record.id, user=session.name)
            self._interrupt(partial, partial.sink, superseded=True)
        sink = UploadSink(partial.queue, self.store, record.id, record.sha256, have,
                          connection, lambda: self._progress(partial), size=record.size,
                          counted=lambda n: self.metrics.file_bytes("in", n))
        partial.sink = sink
        self._progress(partial, save=True)
        self.log.info("upload of file {id} by {user}: {n} bytes from offset {offset}",
                      id=record.id, user=session.name, n=rest, offset=have)
        return _UploadRequest(self, partial, sink, session.name)

    def _progress(self, partial, save: bool = False) -> None:
        now = now_ms(self.clock)
        partial.last_progress = now
        if save or now - partial.saved_progress >= PROGRESS_SAVE_EVERY * 1000:
            partial.saved_progress = now
            d = self.storage.touch_file(partial.record.id, now)
            d.addErrback(lambda f: log_failure(self.log, f, "saving upload progress"))

    @defer.inlineCallbacks
    def _upload_finished(self, partial, sink, user: str):
        record = partial.record
        try:
            matched = yield sink.finish()
        except UploadSuperseded:
            raise ProtocolError(BAD_REQUEST, f"a newer upload of file {record.id} took over "
                                             "from this one") from None
        except Exception:
            log_failure(self.log, None, "upload of file {id} by {user}: writing",
                        id=record.id, user=user)
            if partial.sink is sink:
                partial.sink = None
                partial.held = yield partial.queue.submit(self.store.partial_size, record.id)
            raise ProtocolError(SERVER_ERROR, "the server could not write the file; offer it "
                                              "again to resume") from None
        if partial.sink is sink:
            partial.sink = None
            partial.held = record.size if matched else 0
        if not matched:
            self.log.info("upload of file {id} by {user}: {size} bytes did not match the "
                          "SHA-256; dropped", id=record.id, user=user, size=record.size)
            raise ProtocolError(BAD_REQUEST, MISMATCH)
        record, msg_id = yield self._publish(partial)
        self.log.info("upload of file {id} by {user} complete: {size} bytes, message {msg}",
                      id=record.id, user=user, size=record.size, msg=msg_id)
        return {"file": self.catalog.view(record), "msg_id": msg_id}

    def _interrupt(self, partial, sink, superseded: bool = False):
        """End an upload without its last byte; the partial keeps what arrived."""
        d = sink.supersede() if superseded else sink.abort()

        def closed(held):
            if held is None:
                return           # it had ended already (the server stopping came first)
            if partial.sink is sink:
                partial.sink = None
                partial.held = held
            self._progress(partial, save=True)
            if not superseded:
                self.log.info("upload of file {id} interrupted at {held} of {size} bytes",
                              id=partial.record.id, held=held, size=partial.record.size)

        def failed(failure):
            self.log.failure("closing the partial upload of file {id} failed", failure,
                             id=partial.record.id)
            if partial.sink is sink:
                # not left "running" for ever (it would never expire): a resume starts from
                # what the disk holds
                partial.sink = None
                held = partial.queue.submit(self.store.partial_size, partial.record.id)
                held.addCallback(lambda n: setattr(partial, "held", n))
                held.addErrback(lambda f: self.log.failure("measuring partial file {id} "
                                                           "failed", f, id=partial.record.id))
        d.addCallbacks(closed, failed)
        return d

    # -- publishing
    def _publish(self, partial):
        """Store the file's message (which marks it complete) and deliver it; fires with the
        complete record and the message id. Concurrent callers share one publication."""
        file_id = partial.record.id
        if file_id in self.catalog.complete:
            record = self.catalog.complete[file_id]
            return defer.succeed((record, record.msg_id))
        waiting = self._publishing.get(file_id)
        if waiting is not None:
            d = defer.Deferred()
            waiting.append(d)
            return d
        self._publishing[file_id] = []
        d = self._store_message(partial)
        d.addBoth(self._published, file_id)
        return d

    def _published(self, result, file_id):
        for d in self._publishing.pop(file_id, []):
            if isinstance(result, tuple):
                d.callback(result)
            else:
                d.errback(result)
        return result

    @defer.inlineCallbacks
    def _store_message(self, partial):
        record = partial.record
        conv = record.conv
        if not is_room(conv):
            yield self.messages.open_private_chat(conv)
        message, stored = yield self.writer.submit(
            conv, record.sender_id, self.directory.name(record.sender_id), "", f"file-{record.id}",
            file_id=record.id)
        if partial.sink is not None:       # published while another upload still ran
            self._interrupt(partial, partial.sink, superseded=True)
        record = self.catalog.completed(partial, stored.id)
        if self.relay is not None:
            self.relay.published(record.id, self._recipients(record))
        if not stored.duplicate:
            self.messages.stored(message)
        return record, stored.id

    def _recipients(self, record) -> set:
        if is_room(record.conv):
            members = self.conversations.members.get(record.conv, set())
        else:
            members = set(dm_members(record.conv))
        return set(members) - {record.sender_id}

    # -- download
    def download(self, connection, request, body):
        viewer = connection.session.account_id
        record = self.catalog.complete.get(request.file)
        if record is None or not self.may_read(record, viewer) or self.store is None:
            raise _not_found(request.file)
        if request.offset > record.size:
            raise ProtocolError(BAD_REQUEST, f"offset {request.offset} is past the end of file "
                                             f"{record.id} ({_bytes(record.size)})")
        user = connection.session.name
        sha = record.sha256
        self.catalog.downloads_of[sha] = self.catalog.downloads_of.get(sha, 0) + 1

        def ended(complete, sent):
            self._producers.discard(producer)
            self.catalog.downloads_of[sha] -= 1
            if not self.catalog.downloads_of[sha]:
                del self.catalog.downloads_of[sha]
            self.log.info("download of file {id} by {user}: {sent} of {n} bytes from offset "
                          "{offset}, {outcome}", id=record.id, user=user, sent=sent,
                          n=record.size - request.offset, offset=request.offset,
                          outcome="complete" if complete else "interrupted")
            if self.relay is not None:
                self.relay.downloaded(record.id, viewer, request.offset, sent, record.size)
            self._drop_content_if_unused(sha)

        producer = DownloadProducer(self.io.run, self.store, sha, request.offset, record.size,
                                    ended, counted=lambda n: self.metrics.file_bytes("out", n))
        self._producers.add(producer)
        return Stream({"file": self.catalog.view(record), "offset": request.offset},
                      record.size - request.offset, producer)

    # -- cancel
    def cancel(self, connection, request, body):
        """Stop an upload or download of this connection (see ChatConnection.cancel): the
        upload keeps its partial for a resume, as after a lost connection."""
        cancelled = connection.cancel(request.request)
        if cancelled:
            user = connection.session.name if connection.session else "?"
            self.log.info("request {id} of {user} at {address} cancelled", id=request.request,
                          user=user, address=connection.address)
        return {"request": request.request, "cancelled": cancelled}

    # -- files
    @defer.inlineCallbacks
    def files(self, connection, request, body):
        viewer = connection.session.account_id
        try:
            conv = self.conversations.resolve(request.conv, viewer)
        except ProtocolError as error:
            if error.code != FORBIDDEN:
                raise
            # a room one is not in looks exactly like a room that does not exist
            raise ProtocolError(NOT_FOUND, f"no such room: {request.conv[1:]}") from None
        found = yield self.storage.files_of_conv(conv, request.before, request.limit + 1)
        files, cut = fit([self.catalog.view(record) for record in found[:request.limit]])
        return {"files": files, "more": len(found) > request.limit or cut}

    # -- deleting
    def _expired(self, last_progress: int) -> bool:
        return last_progress / 1000 + self.config.partial_ttl <= self.clock.seconds()

    def _schedule_expiry(self, partial) -> None:
        now = self.clock.seconds()
        due = partial.last_progress / 1000 + self.config.partial_ttl
        if due <= now:
            due = now + self.config.partial_ttl    # running or publishing: look again later
        partial.expiry = self.clock.callLater(due - now, self._expire, partial)

    def _expire(self, partial) -> None:
        partial.expiry = None
        record = partial.record
        if self.catalog.partials.get(record.id) is not partial:
            return
        if (partial.sink is not None or record.id in self._publishing
                or not partial.queue.idle or not self._expired(partial.last_progress)):
            self._schedule_expiry(partial)   # bytes arrived meanwhile: not abandoned
            return
        del self.catalog.partials[record.id]
        self.log.info("partial upload of file {id} ({held} of {size} bytes) expired after "
                      "{ttl:.0f} s without progress", id=record.id, held=partial.held,
                      size=record.size, ttl=self.config.partial_ttl)
        self._drop_expired(partial)

    @defer.inlineCallbacks
    def _drop_expired(self, partial):
        record = partial.record
        try:
            yield self.storage.delete_file(record.id)
        except Exception as error:
            # the record (and so the quota it counts) stays: keep the partial and try again
            self.log.error("deleting the record of expired partial file {id} failed, again in "
                           "{retry:.0f} s: {error}", id=record.id, retry=EXPIRY_RETRY,
                           error=error)
            if record.id not in self.catalog.partials:
                self.catalog.partials[record.id] = partial
                partial.expiry = self.clock.callLater(EXPIRY_RETRY, self._expire, partial)
            return
        if self.store is not None:
            try:
                yield partial.queue.submit(self.store.remove_partial, record.id)
            except Exception:
                # its record is gone: the first offer after the next start removes it
                self.log.failure("deleting partial file {id} failed", id=record.id)

    @defer.inlineCallbacks
    def _delete_partial_record(self, record, queue=None):
        yield self.storage.delete_file(record.id)
        if self.store is not None:
            run = queue.submit if queue is not None else self.io.run
            yield run(self.store.remove_partial, record.id)

    def _delete_published(self, file_id: int) -> None:
        """--lite: a delivered (or timed-out) file goes, its bytes once nothing needs them."""
        record = self.catalog.remove_complete(file_id)
        if record is None:
            return
        self.log.info("file {id} deleted ({size} bytes): delivered or expired", id=file_id,
                      size=record.size)
        d = self.storage.delete_file(file_id)
        d.addErrback(lambda f: self.log.failure("deleting file {id} failed", f, id=file_id))
        self._drop_content_if_unused(record.sha256)

    def _drop_content_if_unused(self, sha256: str) -> None:
        # only --lite deletes complete files; a content no complete file holds any more was
        # theirs (downloads are of complete files only)
        if self.relay is None or not self.catalog.content_unused(sha256):
            return
        if self.store is not None:
            d = self.io.run(self.store.remove_blob, sha256)
            d.addErrback(lambda f: self.log.failure("removing a file's bytes failed", f))


class _UploadRequest:
    """What ``upload`` hands the connection: the body goes to the sink, the end to the
    handlers (see ChatConnection's streamed bodies)."""

    __slots__ = ("handlers", "partial", "sink", "user")

    def __init__(self, handlers, partial, sink, user):
        self.handlers = handlers
        self.partial = partial
        self.sink = sink
        self.user = user

    def write(self, data) -> None:
        self.sink.write(data)

    def finish(self):
        return self.handlers._upload_finished(self.partial, self.sink, self.user)

    def abort(self) -> None:
        self.handlers._interrupt(self.partial, self.sink)
