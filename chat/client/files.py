"""Sending and fetching files for a ChatClient: offers, resumes, progress.

Each transfer runs as one loop: (hash,) wait for a logged-in link, offer or request, move the
bytes; if the link goes, wait for the next login and go on from what the other side already
has (the server's ``offset`` for an upload, the partial file's size for a download). Only a
refusal by the server, a local disk error or a checksum mismatch ends a transfer as FAILED.
Uploads go one at a time (a transport has one producer); downloads are queued by the server.

:meth:`FileTransfers.cancel` ends a transfer as CANCELLED, for good: a local wait (hashing,
the link, the upload turn, the offer) is interrupted at once; a running upload or download
request is cancelled on the server (``cancel``) and ends when the server answers, or when the
link goes, never to be resumed. A cancelled download's partial file is deleted; a cancelled
upload's partial stays on the server (a later offer of the same file resumes it).
"""

import mimetypes
import os

from twisted.internet import defer
from twisted.internet.error import ConnectionLost
from twisted.internet.threads import deferToThread
from twisted.logger import Logger

from chat.client.connection import NotConnected, RequestFailed
from chat.client.transfers import (
    ChecksumMismatch, DownloadBusy, DownloadSink, PartialChanged, Transfer, TransferState,
    UploadStream, hash_file)
from chat.protocol import commands as C
from chat.protocol.errors import BAD_REQUEST, CANCELLED
from chat.protocol.errors import ProtocolError
from chat.protocol.framing import FILE_CHUNK

LINK_ERRORS = (ConnectionLost, NotConnected)
"""What a lost or missing link raises: the transfer waits for the next login and goes on."""


class FileTransfers:
    """The transfers of one client; ``client`` is the :class:`chat.client.core.ChatClient`."""

    log = Logger()

    def __init__(self, client, run=deferToThread):
        self.client = client
        self.run = run
        self.active: list[Transfer] = []
        self.chunk = FILE_CHUNK     # data bytes per body frame of an upload
        self._upload_lock = defer.DeferredLock()
        self._link_waiters: list = []

    # -- link
    def link_up(self) -> None:
        """The client is logged in (again): waiting transfers go on."""
        waiters, self._link_waiters = self._link_waiters, []
        for d in waiters:
            if not d.called:          # cancelled meanwhile by an earlier one's callbacks
                d.callback(None)

    def link_gone_for_good(self, reason: str) -> None:
        """The client gave up reconnecting: what waits for a link fails."""
        waiters, self._link_waiters = self._link_waiters, []
        for d in waiters:
            if not d.called:
                d.errback(ConnectionLost(reason))

    def _online(self) -> defer.Deferred:
        if self.client.is_online:
            return defer.succeed(None)
        d = defer.Deferred(self._forget_link_waiter)
        self._link_waiters.append(d)
        return d

    def _forget_link_waiter(self, d) -> None:
        if d in self._link_waiters:
            self._link_waiters.remove(d)

    # -- cancelling
    def cancel(self, transfer: Transfer) -> defer.Deferred:
        """Stop ``transfer`` for good (see the module docstring). Fires with True once it is
        CANCELLED, with False if it had ended already, or ends DONE all the same (its last
        byte was in before the server heard of the cancel)."""
        if transfer.state.ended or transfer.finished is None:
            return defer.succeed(False)
        if not transfer.cancelling:
            transfer.cancelling = True
            self._interrupt(transfer)
        d = defer.Deferred()

        def ended(result):
            d.callback(transfer.state is TransferState.CANCELLED)
            return result            # finished keeps its result for its other callbacks
        transfer.finished.addBoth(ended)
        return d

    def _interrupt(self, transfer: Transfer) -> None:
        if transfer._request is not None:
            # the upload or download runs: the server ends it (error "cancelled")
            if transfer._stream is not None:
                transfer._stream.cancel()          # no more body frames from here
            conn = transfer._conn
            sent = conn.cancel(transfer._request) if conn is not None else None
            if sent is not None:
                sent.addErrback(self._cancel_refused, conn, transfer)
        elif transfer._wait is not None:
            transfer._wait.cancel()    # the loop sees CancelledError
        # else the loop is in a step of its own (preparing a partial file): it looks at
        # transfer.cancelling when that is done

    def _cancel_refused(self, failure, conn, transfer: Transfer) -> None:
        if failure.check(RequestFailed):
            # a server without "cancel": only closing the link stops the request; the
            # transfer then ends CANCELLED and the client reconnects as after any cut
            self.log.info("the server could not cancel {name} ({error}): reconnecting",
                          name=transfer.name, error=failure.value)
            conn.abort()
        # a lost link ends the request itself

    def _wait(self, transfer: Transfer, d: defer.Deferred) -> defer.Deferred:
        """Wait for ``d`` in a way cancel() interrupts (the wait then fails CancelledError)."""
        transfer._wait = d

        def done(result):
            if transfer._wait is d:
                transfer._wait = None
            return result
        d.addBoth(done)
        if transfer.cancelling:
            d.cancel()
        return d

    def _run_request(self, transfer: Transfer, request: C.Request, **options):
        """Send the upload or download ``request``, where cancel() can find it (``options``
        as for :meth:`ClientConnection.request`: the upload's ``stream``, the download's
        ``sink``)."""
        stream = options.get("stream")
        transfer._conn, transfer._stream = self.client.connection, stream
        d = self.client.request(request, **options)
        if d.called:                  # failed at once (not connected)
            transfer._conn = transfer._stream = None
            return d
        transfer._request = d

        def done(result):
            transfer._request = transfer._conn = transfer._stream = None
            return result
        return d.addBoth(done)

    def _cancelled(self, transfer: Transfer) -> None:
        self._set(transfer, TransferState.CANCELLED)

    @defer.inlineCallbacks
    def _discard_partial(self, transfer: Transfer, sink=None):
        """A cancelled download: its partial file goes, this attempt's or an earlier one's."""
        if sink is None:
            sink = DownloadSink(transfer.folder, transfer.file_id, self.run, None, None)
        try:
            yield sink.discard()
        except OSError as exc:
            self.log.warn("could not delete {path}: {error}", path=sink.partial, error=exc)

    # -- reporting
    def _report(self, transfer: Transfer, force: bool = True) -> None:
        if force or transfer.due(self.client.clock.seconds()):
            self.client.listener.on_transfer(transfer)

    def _set(self, transfer: Transfer, state: TransferState) -> None:
        transfer.state = state
        self._report(transfer)

    def _progress(self, transfer: Transfer, done: int) -> None:
        transfer.moved(self.client.clock.seconds(), done)
        self._report(transfer, force=False)

    def _hashed(self, transfer: Transfer, done: int, size: int) -> None:
        transfer.size, transfer.hashed = size, done
        self._report(transfer, force=False)

    def _fail(self, transfer: Transfer, code: str, message: str) -> None:
        transfer.error = (code, message)
        self._set(transfer, TransferState.FAILED)

    # -- upload
    def send(self, to: str, path: str, mime: str = None) -> Transfer:
        """Offer ``path`` to ``#room``, ``@user`` or ``@all`` and upload it."""
        transfer = Transfer("up", os.path.basename(path), None, path=path, target=to,
                            mime=mime or mimetypes.guess_type(path)[0]
                            or "application/octet-stream")
        transfer.finished = self._run_upload(transfer)
        return transfer

    @defer.inlineCallbacks
    def _run_upload(self, transfer: Transfer):
        self.active.append(transfer)
        try:
            self._set(transfer, TransferState.HASHING)
            try:
                transfer.sha256, transfer.size = yield self._wait(
                    transfer, hash_file(transfer.path, self.run,
                                        lambda done, size: self._hashed(transfer, done, size)))
                yield self._wait(transfer, self._upload_lock.acquire())
            except defer.CancelledError:
                return self._cancelled(transfer)
            except OSError as exc:
                return self._fail(transfer, "local_error", f"cannot read {transfer.path}: "
                                  f"{exc.strerror or exc}")
            try:
                yield self._upload_until_done(transfer)
            finally:
                self._upload_lock.release()
        finally:
            self.active.remove(transfer)
        return transfer

    @defer.inlineCallbacks
    def _upload_until_done(self, transfer: Transfer):
        while True:
            if transfer.cancelling:
                return self._cancelled(transfer)
            self._set(transfer, TransferState.WAITING)
            try:
                yield self._wait(transfer, self._online())
                self._set(transfer, TransferState.OFFERING)
                offer = yield self._wait(transfer, self.client.request(C.FileOffer(
                    to=transfer.target, name=transfer.name, size=transfer.size,
                    sha256=transfer.sha256, mime=transfer.mime)))
                transfer.file, transfer.file_id = offer["file"], offer["file"]["id"]
                transfer.name = offer["file"]["name"]
                offset = offer["offset"]
                transfer.resumed_from = offset
                transfer.moved(self.client.clock.seconds(), offset)
                result = offer
                if offset < transfer.size:
                    self._set(transfer, TransferState.SENDING)
                    stream = UploadStream(transfer.path, offset, transfer.size, self.run,
                                          lambda done: self._progress(transfer, done),
                                          chunk=self.chunk)
                    result = yield self._run_request(
                        transfer, C.Upload(file=transfer.file_id, offset=offset), stream=stream)
                    if stream.failed is not None:
                        return self._fail(transfer, "local_error", str(stream.failed))
            except defer.CancelledError:
                return self._cancelled(transfer)
            except RequestFailed as exc:
                if transfer.cancelling or exc.code == CANCELLED:
                    return self._cancelled(transfer)
                return self._fail(transfer, exc.code, exc.message)
            except ProtocolError as exc:
                return self._fail(transfer, exc.code, exc.message)
            except LINK_ERRORS:
                if transfer.cancelling:
                    return self._cancelled(transfer)   # not resumed
                if self.client.gave_up:
                    return self._fail(transfer, "not_connected", "not connected to the server")
                continue   # resumes after the next login, from the server's offset
            transfer.file = result["file"]
            transfer.moved(self.client.clock.seconds(), transfer.size)
            self._set(transfer, TransferState.DONE)
            return None

    # -- download
    def fetch(self, file_id: int, folder: str) -> Transfer:
        """Download file ``file_id`` into ``folder`` (resuming a partial one there).

        A file already being downloaded into that folder is not fetched a second time: the
        running transfer is returned (see :meth:`downloading`); two downloads never share a
        partial file."""
        running = self.downloading(file_id, folder)
        if running is not None:
            return running
        transfer = Transfer("down", f"#{file_id}", None, file_id=file_id, folder=folder)
        transfer.finished = self._run_download(transfer)
        return transfer

    def downloading(self, file_id: int, folder: str):
        """The running download of ``file_id`` into ``folder``, or None."""
        where = os.path.abspath(folder)     # no realpath: that is file I/O on the reactor
        for transfer in self.active:
            if (transfer.direction == "down" and transfer.file_id == file_id
                    and not transfer.state.ended and not transfer.cancelling
                    and os.path.abspath(transfer.folder) == where):
                return transfer
        return None

    @defer.inlineCallbacks
    def _run_download(self, transfer: Transfer):
        self.active.append(transfer)
        try:
            while True:
                if transfer.cancelling:
                    yield self._discard_partial(transfer)
                    return self._cancelled(transfer)
                self._set(transfer, TransferState.WAITING)
                sink = None
                try:
                    yield self._wait(transfer, self._online())
                    sink = DownloadSink(transfer.folder, transfer.file_id, self.run,
                                        lambda data: self._download_begins(transfer, data),
                                        lambda done: self._progress(transfer, done))
                    offset = yield sink.prepare()
                    if transfer.cancelling:
                        raise defer.CancelledError()
                    transfer.resumed_from = offset
                    sink.conn = self.client.connection
                    yield self._run_request(
                        transfer, C.Download(file=transfer.file_id, offset=offset), sink=sink)
                except defer.CancelledError:
                    yield self._discard_partial(transfer, sink)
                    return self._cancelled(transfer)
                except RequestFailed as exc:
                    if sink is not None:
                        yield sink.discard()
                    if transfer.cancelling or exc.code == CANCELLED:
                        return self._cancelled(transfer)
                    if (exc.code == BAD_REQUEST and sink is not None and sink.offset
                            and not transfer.restarted):
                        # an offset past the file's end: the partial kept from before is not
                        # this file's start (changed on the disk); it is gone, start again
                        transfer.restarted = True
                        continue
                    return self._fail(transfer, exc.code, exc.message)
                except PartialChanged:
                    # the bytes kept from before were changed on the disk (the sink deleted
                    # them): once more from the first byte, said in the transfer's reports
                    if transfer.restarted:
                        return self._fail(transfer, "checksum", "the downloaded data does "
                                          "not match its SHA-256")
                    transfer.restarted = True
                    continue
                except ChecksumMismatch as exc:
                    return self._fail(transfer, "checksum", str(exc))
                except DownloadBusy as exc:
                    return self._fail(transfer, "busy", exc.strerror)
                except ProtocolError as exc:     # a hostile name from the server
                    return self._fail(transfer, exc.code, exc.message)
                except OSError as exc:
                    return self._fail(transfer, "local_error", str(exc))
                except LINK_ERRORS:
                    if sink is not None:
                        sink.abort()
                    if transfer.cancelling:                # not resumed
                        yield self._discard_partial(transfer, sink)
                        return self._cancelled(transfer)
                    if self.client.gave_up:
                        return self._fail(transfer, "not_connected",
                                          "not connected to the server")
                    continue
                transfer.path = sink.final_path
                transfer.moved(self.client.clock.seconds(), transfer.size)
                self._set(transfer, TransferState.DONE)
                return transfer
        finally:
            self.active.remove(transfer)

    def _download_begins(self, transfer: Transfer, data: dict) -> None:
        view = data["file"]
        transfer.file, transfer.name, transfer.size = view, view["name"], view["size"]
        transfer.sha256 = view["sha256"]
        transfer.moved(self.client.clock.seconds(), data.get("offset", 0))
        self._set(transfer, TransferState.RECEIVING)
