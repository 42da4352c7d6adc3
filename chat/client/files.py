"""Sending and fetching files for a ChatClient: offers, resumes, progress.

Each transfer runs as one loop: (hash,) wait for a logged-in link, offer or request, move the
bytes; if the link goes, wait for the next login and go on from what the other side already
has (the server's ``offset`` for an upload, the partial file's size for a download). Only a
refusal by the server, a local disk error or a checksum mismatch ends a transfer as FAILED.
Uploads go one at a time (a transport has one producer); downloads are queued by the server.
"""

import mimetypes
import os

from twisted.internet import defer
from twisted.internet.error import ConnectionLost
from twisted.internet.threads import deferToThread
from twisted.logger import Logger

from chat.client.connection import NotConnected, RequestFailed
from chat.client.transfers import (
    ChecksumMismatch, DownloadSink, Transfer, TransferState, UploadStream, hash_file)
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
            d.callback(None)

    def link_gone_for_good(self, reason: str) -> None:
        """The client gave up reconnecting: what waits for a link fails."""
        waiters, self._link_waiters = self._link_waiters, []
        for d in waiters:
            d.errback(ConnectionLost(reason))

    def _online(self) -> defer.Deferred:
        if self.client.is_online:
            return defer.succeed(None)
        d = defer.Deferred()
        self._link_waiters.append(d)
        return d

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
                transfer.sha256, transfer.size = yield hash_file(transfer.path, self.run)
            except OSError as exc:
                return self._fail(transfer, "local_error", f"cannot read {transfer.path}: "
                                  f"{exc.strerror or exc}")
            yield self._upload_lock.acquire()
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
            self._set(transfer, TransferState.WAITING)
            try:
                yield self._online()
                self._set(transfer, TransferState.OFFERING)
                offer = yield self.client.request(
                    "file_offer", to=transfer.target, name=transfer.name, size=transfer.size,
                    sha256=transfer.sha256, mime=transfer.mime)
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
                    result = yield self.client.request(
                        "upload", stream=stream, file=transfer.file_id, offset=offset)
                    if stream.failed is not None:
                        return self._fail(transfer, "local_error", str(stream.failed))
            except RequestFailed as exc:
                return self._fail(transfer, exc.code, exc.message)
            except ProtocolError as exc:
                return self._fail(transfer, exc.code, exc.message)
            except LINK_ERRORS:
                if self.client.gave_up:
                    return self._fail(transfer, "not_connected", "not connected to the server")
                continue   # resumes after the next login, from the server's offset
            transfer.file = result["file"]
            transfer.moved(self.client.clock.seconds(), transfer.size)
            self._set(transfer, TransferState.DONE)
            return None

    # -- download
    def fetch(self, file_id: int, folder: str) -> Transfer:
        """Download file ``file_id`` into ``folder`` (resuming a partial one there)."""
        transfer = Transfer("down", f"#{file_id}", None, file_id=file_id, folder=folder)
        transfer.finished = self._run_download(transfer)
        return transfer

    @defer.inlineCallbacks
    def _run_download(self, transfer: Transfer):
        self.active.append(transfer)
        try:
            while True:
                self._set(transfer, TransferState.WAITING)
                sink = None
                try:
                    yield self._online()
                    sink = DownloadSink(transfer.folder, transfer.file_id, self.run,
                                        lambda data: self._download_begins(transfer, data),
                                        lambda done: self._progress(transfer, done))
                    offset = yield sink.prepare()
                    transfer.resumed_from = offset
                    sink.conn = self.client.connection
                    yield self.client.request("download", file=transfer.file_id,
                                              offset=offset, sink=sink)
                except RequestFailed as exc:
                    if sink is not None:
                        yield sink.discard()
                    return self._fail(transfer, exc.code, exc.message)
                except ChecksumMismatch as exc:
                    return self._fail(transfer, "checksum", str(exc))
                except ProtocolError as exc:     # a hostile name from the server
                    return self._fail(transfer, exc.code, exc.message)
                except OSError as exc:
                    return self._fail(transfer, "local_error", str(exc))
                except LINK_ERRORS:
                    if sink is not None:
                        sink.abort()
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
