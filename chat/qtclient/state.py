"""ChatState: keeps the Qt models in step with the session, and knows what the user looks at.

It listens to :class:`chat.qtclient.session.Session` and fills the conversations, users,
messages and transfers models; widgets call it to switch conversations, load older
messages, send, retry and clear local history. "Read" is decided here: a conversation's
messages are read when it is the current one and the window is active; only then are read
marks sent and burn-after-reading countdowns started.
"""

import os
import time

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from chat.client.transfers import TransferState
from chat.protocol.timestamps import format_ts
from chat.qtclient.cache import CachedFile, FileCache, is_sha256
from chat.qtclient.stickers import builtin_by_sha
from chat.qtclient.models import (
    ChatItem, ConversationsModel, Delivery, ItemKind, MessagesModel, Person, TransfersModel,
    UsersModel)

LOBBY = "#lobby"
HISTORY_PAGE = 50
INLINE_IMAGE_MAX = 10 * 1024 * 1024
"""Images up to this size are fetched as soon as they are shown; bigger ones on a click."""
GROUP_LINES_SECONDS = 60.0
"""Presence and join lines of one kind this close together become one line ("alice, bob and
3 others came online."), as long as nothing else came between them."""


class ChatState(QObject):
    """See the module docstring. ``tr`` words the system lines (joined, left, topic)."""

    currentChanged = pyqtSignal(str)             # the conversation now shown
    incoming = pyqtSignal(str, dict)             # a live message from someone else
    unreadChanged = pyqtSignal(int)              # total unread
    notice = pyqtSignal(dict)                    # a server notice
    avatarChanged = pyqtSignal(str)              # a user's avatar arrived
    historyLoaded = pyqtSignal(str, int)         # conv, rows added at the top
    alreadySaved = pyqtSignal(str)               # a download asked for was here: its path
    pictureReady = pyqtSignal(str)               # the picture of this SHA-256 is here now

    def __init__(self, session, translator, settings=None, clock=time.monotonic, parent=None,
                 image_dir: str = None):
        super().__init__(parent)
        self.image_dir = image_dir               # where inline images are fetched to
        # each content once, found by its SHA-256 (defect 11 of issue 14)
        self.cache = FileCache(image_dir) if image_dir else None
        self._pictures = {}                      # sha256 -> a copy of that picture here
        self._fetching = {}                      # sha256 -> items waiting for that picture
        self._saving = {}                        # (sha256, folder) -> items waiting for it
        self.session = session
        self.translator = translator
        self.settings = settings
        self.clock = clock
        self.conversations = ConversationsModel(self)
        self.users = UsersModel(self)
        self._users_loaded = False               # every page of the people list is in
        self.transfers = TransfersModel(self)
        self.logs: dict[str, MessagesModel] = {}
        self.current = ""
        self.active = False                      # the main window is the active window
        self._uploads = 0                        # upload cards made (their local cids)
        self._burn_timer = QTimer(self)
        self._burn_timer.setInterval(250)
        self._burn_timer.timeout.connect(self._tick_burns)
        s = session
        s.loggedIn.connect(self.logged_in)
        s.messageReceived.connect(self._message)
        s.messageQueued.connect(self._queued)
        s.messageAcked.connect(self._acked)
        s.messageFailed.connect(self._failed)
        s.presenceChanged.connect(self._presence)
        s.memberJoined.connect(self._joined)
        s.memberLeft.connect(self._left)
        s.topicChanged.connect(self._topic)
        s.readReceipt.connect(self._read)
        s.burned.connect(self._burned)
        s.noticeReceived.connect(self._notice)
        s.transferChanged.connect(self._transfer)
        s.roomsChanged.connect(self._sync_rooms)

    # ------------------------------------------------------------------ conversations
    def log(self, conv: str) -> MessagesModel:
        key = self._key(conv)
        model = self.logs.get(key)
        if model is None:
            model = self.logs[key] = MessagesModel(conv, self)
        return model

    @staticmethod
    def _key(conv: str) -> str:
        return conv.casefold()

    def select(self, conv: str) -> None:
        """Show ``conv``: its first page of history is fetched if nothing is loaded yet."""
        self.conversations.ensure(conv)
        if self.current != conv:
            self.current = conv
            self.currentChanged.emit(conv)
        if not self.log(conv).items and self.session.is_online:
            self.load_older(conv)
        self.mark_seen()

    def set_active(self, active: bool) -> None:
        self.active = active
        if active:
            self.mark_seen()

    def mark_seen(self) -> None:
        """The user sees the current conversation: read marks, unread badge, burn timers."""
        conv = self.current
        if not conv or not self.active:
            return
        model = self.log(conv)
        newest = model.newest_id()
        if newest and self.session.is_online:
            self.session.mark_read(conv, newest)
        self.conversations.set_unread(conv, 0)
        self.unreadChanged.emit(self.conversations.total_unread())
        now = self.clock()
        for row, item in enumerate(model.items):
            if item.burn and not item.own and item.burn_at is None and not item.burned:
                item.burn_at = now + item.burn
                model.changed(row)
                self._burn_timer.start()

    def load_older(self, conv: str):
        """Fetch the page before the oldest message shown; fires with the rows added."""
        model = self.log(conv)
        if model.loading or not model.more_before or not self.session.is_online:
            return None
        model.loading = True
        d = self.session.history(conv, model.oldest_id(), HISTORY_PAGE)

        def got(data):
            model.loading = False
            model.more_before = bool(data.get("more"))
            floor = self.cleared_up_to(conv)
            items = [self._item(m) for m in data.get("messages", [])
                     if m["id"] > floor and not m.get("burned")]
            if len(items) < len(data.get("messages", [])):
                model.more_before = False           # the rest was cleared by the user
            before = len(model.items)
            model.prepend(items)
            added = len(model.items) - before
            self._newest_shown(conv)
            for item in items:
                self._fetch_image(item)
            self.historyLoaded.emit(conv, added)
            if conv == self.current:
                self.mark_seen()
            return added

        def failed(failure):
            model.loading = False
            return 0
        return d.addCallbacks(got, failed)

    def reveal(self, conv: str, msg_id: int, max_pages: int = 200):
        """Show ``conv`` with message ``msg_id`` loaded: older pages are fetched until it is
        there. Fires with its row, or -1 if it is not to be had (cleared, burned, gone)."""
        from twisted.internet import defer
        self.select(conv)
        model = self.log(conv)
        result = defer.Deferred()
        pages = {"n": 0}

        def step(*_):
            row = model.row_of_id(msg_id)
            if row >= 0 or not model.more_before or pages["n"] >= max_pages \
                    or not self.session.is_online:
                if not result.called:
                    result.callback(row)
                return
            pages["n"] += 1
            d = self.load_older(conv)
            if d is None:
                # a page is on its way already (select() asked for one): wait for it
                waiter = defer.Deferred()

                def loaded(loaded_conv, _added):
                    if loaded_conv == conv and not waiter.called:
                        self.historyLoaded.disconnect(loaded)
                        waiter.callback(None)
                self.historyLoaded.connect(loaded)
                if not model.loading:        # nothing came after all: stop here
                    self.historyLoaded.disconnect(loaded)
                    waiter.callback(None)
                    pages["n"] = max_pages
                d = waiter
            d.addCallback(step)

        step()
        return result

    # ------------------------------------------------------------------ pictures
    def picture_for(self, file_view: dict):
        """A copy of this picture on this computer (a built-in sticker, one in the cache or
        saved, or an image fetched or sent in this session), or None."""
        if not file_view:
            return None
        known = builtin_by_sha(file_view.get("sha256"))
        if known is not None:
            return known.path
        path = self._pictures.get(file_view.get("sha256"))
        if path:
            return path
        transfer = self.transfers.for_file(file_view.get("id"))
        path = getattr(transfer, "path", None)
        state = getattr(getattr(transfer, "state", None), "value", None)
        if path and (transfer.direction == "up" or state == "done"):
            return path
        return None

    def fetch_picture(self, file_view: dict):
        """Find a picture (not too big) here or fetch it into the cache, unless it is on its
        way or here; returns what it waits for (a transfer) or None. Its end is
        ``pictureReady``."""
        if (not file_view or self.cache is None
                or not str(file_view.get("mime", "")).startswith("image/")
                or (file_view.get("size") or 0) > INLINE_IMAGE_MAX
                or self.picture_for(file_view) is not None or not self.session.is_online):
            return None
        if file_view.get("sha256") in self._fetching:
            return None
        return self._want_picture(file_view, None)

    def _want_picture(self, info: dict, item):
        """Show the picture ``info`` from a copy here (the cache, or one the user saved), or
        fetch it into the cache: each content is fetched once, whatever the number of messages
        (or logins) that show it. ``item`` (a ChatItem, or None) follows."""
        sha = info.get("sha256")
        if not is_sha256(sha):                # every server file has one; never trust less
            return None
        path = self._pictures.get(sha)
        if path:
            if item is not None:
                item.transfer = CachedFile.of(info, path)
                self._refresh_item(item)
            return item.transfer if item is not None else None
        entry = self._fetching.get(sha)
        if entry is not None:                 # the same picture is on its way already
            if item is not None:
                entry["items"].append(item)
                item.transfer = entry["transfer"]
                self._refresh_item(item)
            return entry["transfer"]
        looking = CachedFile.of(info, None, TransferState.WAITING)
        entry = self._fetching[sha] = {"items": [], "transfer": looking}
        if item is not None:
            entry["items"].append(item)
            item.transfer = looking
            self._refresh_item(item)

        def found(path):
            if path:
                return self._picture_here(sha, path)
            transfer = self._start_download(info, self.cache.folder_for(sha))
            entry["transfer"] = transfer
            for waiting in entry["items"]:
                waiting.transfer = transfer
                self._refresh_item(waiting)

            def ended(result):
                if transfer.state is TransferState.DONE and transfer.path:
                    self._picture_here(sha, transfer.path)
                elif self._fetching.get(sha) is entry:
                    del self._fetching[sha]      # failed: the card says so; a retry may come
                return result
            transfer.finished.addBoth(ended)

        self.cache.find(sha, info.get("size") or 0).addCallbacks(
            found, lambda failure: found(None))
        return entry["transfer"]

    def _picture_here(self, sha: str, path: str) -> None:
        """The picture ``sha`` is at ``path``: every message waiting for it shows it."""
        self._pictures[sha] = path
        entry = self._fetching.pop(sha, None)
        for item in entry["items"] if entry else []:
            if getattr(item.transfer, "path", None) != path:
                item.transfer = CachedFile.of(item.file, path)
            self._refresh_item(item)
        self.pictureReady.emit(sha)

    def clear_local(self, conv: str) -> None:
        """Forget what this client shows of ``conv`` (the server's copy is not touched).

        What is cleared is read: the unread badge goes, and the read mark goes up to the
        conversation's newest message (asked of the server: the unread ones may never have
        been loaded here), so that the badge does not come back at the next login."""
        model = self.log(conv)
        newest = model.newest_id()
        if self.settings is not None and newest:
            self.settings.set_cleared(self._account(), conv, newest)
        model.clear()
        model.more_before = False
        self.conversations.replace_last(conv, None)
        if newest and self.session.is_online:
            self.session.mark_read(conv, newest)
        self.conversations.set_unread(conv, 0)
        self.unreadChanged.emit(self.conversations.total_unread())
        if self.session.is_online:
            def newest_of(data):
                ids = [m["id"] for m in data.get("messages", [])]
                top = max(ids) if ids else 0
                if top > (newest or 0):
                    if self.settings is not None:
                        self.settings.set_cleared(self._account(), conv, top)
                    self.session.mark_read(conv, top)
            self.session.history(conv, None, 1).addCallbacks(newest_of, lambda f: None)

    def cleared_up_to(self, conv: str) -> int:
        if self.settings is None:
            return 0
        return self.settings.cleared(self._account(), conv)

    def _account(self) -> str:
        return f"{self.session.host}:{self.session.port}/{self.session.me}"

    # ------------------------------------------------------------------ sending
    def send(self, text: str, burn: float = None, conv: str = None):
        return self.session.send(conv or self.current, text, burn)

    def retry(self, item: ChatItem) -> None:
        if item.out is not None and item.delivery is Delivery.FAILED:
            self.session.retry(item.out)

    # ------------------------------------------------------------------ uploads
    def send_file(self, path: str, conv: str = None, mime: str = None):
        """Send the file at ``path``: its card shows at once (preparing: its SHA-256 is
        computed, with progress; waiting; sending with progress and speed; cancel at any
        time; then done, failed or cancelled) and becomes the file's message once the
        server has it (defect 2 of issue 14). Returns the upload's transfer."""
        conv = conv or self.current
        transfer = self.session.send_file(conv, path, mime)
        self.conversations.ensure(conv)
        try:
            size = os.path.getsize(path)   # a stat; the bytes are read in the hashing thread
        except OSError:
            size = 0                       # the upload fails and its card says why
        self._uploads += 1
        self.log(conv).append(ChatItem(
            ItemKind.MESSAGE, sender=self.session.me, own=True, private=conv.startswith("@"),
            cid=f"upload-{self._uploads}", delivery=Delivery.PENDING, ts=_now_ts(),
            file={"name": transfer.name, "size": size, "mime": transfer.mime},
            transfer=transfer))
        self._remember_upload(transfer)
        return transfer

    def retry_upload(self, item: ChatItem):
        """Send a failed or cancelled upload again, on the same card."""
        old = item.transfer
        transfer = self.session.send_file(old.target or self.current, old.path, old.mime)
        item.transfer = transfer
        self._refresh_item(item)
        self._remember_upload(transfer)
        return transfer

    def _remember_upload(self, transfer) -> None:
        """The file we sent is a copy here: neither a later login nor a Download fetches it."""
        if self.cache is None or transfer.finished is None:
            return

        def ended(result):
            if transfer.state is TransferState.DONE and transfer.sha256:
                self.cache.remember(transfer.sha256, os.path.abspath(transfer.path))
                if str(transfer.mime or "").startswith("image/"):
                    self._pictures.setdefault(transfer.sha256, transfer.path)
            return result
        transfer.finished.addBoth(ended)

    @staticmethod
    def _upload_row(model, view: dict) -> int:
        """The card of our upload that became the file message ``view``, or -1."""
        for row in range(len(model.items) - 1, -1, -1):
            item = model.items[row]
            t = item.transfer
            if item.msg_id is not None or t is None or getattr(t, "direction", "") != "up":
                continue
            if t.file_id is not None:
                if t.file_id == view.get("id"):
                    return row
            elif t.sha256 is not None and t.sha256 == view.get("sha256"):
                return row           # published by the offer itself (content the server had)
        return -1

    # ------------------------------------------------------------------ session events
    def logged_in(self, data: dict, first: bool) -> None:
        """The login reply (also replayed by the app for the login that created this state)."""
        model = self.session.model
        for room in model.rooms.values():
            self.conversations.ensure("#" + room.name, room.topic)
        for conv, n in model.unread.items():
            self.conversations.ensure(conv)
            self.conversations.set_unread(conv, n)
        self.unreadChanged.emit(self.conversations.total_unread())
        self._load_users()
        self._load_last_messages()
        if first and not self.current:
            self.select(LOBBY if self.conversations.get(LOBBY) else
                        (self.conversations.rows[0].key if self.conversations.rows else LOBBY))
        elif self.current:
            self.mark_seen()

    def _load_last_messages(self) -> None:
        """The newest message of each conversation listed, for the line under its name (the
        conversation shown loads a page of its own)."""
        for conv in list(self.conversations.rows):
            if conv.last is not None or not self.session.is_online:
                continue
            floor = self.cleared_up_to(conv.key)

            def got(data, key=conv.key, floor=floor):
                messages = [m for m in data.get("messages", [])
                            if m["id"] > floor and not m.get("burned")]
                if messages:
                    self.conversations.set_last(key, self._item(messages[-1]))
            self.session.history(conv.key, None, 1).addCallbacks(got, lambda f: None)

    def _newest_shown(self, conv: str) -> None:
        """The newest message in ``conv``'s log is the one under its name."""
        model = self.log(conv)
        for item in reversed(model.items):
            if item.kind is ItemKind.MESSAGE:
                self.conversations.set_last(conv, item)
                return

    def _last_gone(self, conv: str, gone) -> None:
        """Messages left the log (burned): the line under the name shows one still there."""
        info = self.conversations.get(conv)
        if info is None or info.last is None:
            return
        if info.last in gone or info.last.msg_id in {i.msg_id for i in gone if i.msg_id}:
            model = self.log(conv)
            newest = next((i for i in reversed(model.items) if i.kind is ItemKind.MESSAGE),
                          None)
            self.conversations.replace_last(conv, newest)

    def _sync_rooms(self) -> None:
        rooms = {("#" + r.name).casefold(): r for r in self.session.model.rooms.values()}
        for conv in list(self.conversations.rows):
            if conv.is_room and conv.key.casefold() not in rooms:
                self.conversations.remove(conv.key)
        for room in rooms.values():
            self.conversations.ensure("#" + room.name, room.topic)

    def _load_users(self, after: str = None) -> None:
        if after is None:
            self._users_loaded = False     # until the last page: nobody is "new" meanwhile
        d = self.session.users(after=after)

        def got(data):
            people = [] if after is None else list(self.users.rows)
            for u in data.get("users", []):
                people.append(Person(u["name"], bool(u.get("online")), bool(u.get("admin")),
                                     bool(u.get("avatar")), u.get("last_seen"),
                                     guest=bool(u.get("guest"))))
            self.users.reset(people)
            for u in data.get("users", []):
                if u.get("avatar"):
                    self.fetch_avatar(u["name"])
            if data.get("more") and data.get("users"):
                self._load_users(data["users"][-1]["name"])
            else:
                self._users_loaded = True
        d.addCallbacks(got, lambda f: None)

    def fetch_avatar(self, user: str) -> None:
        from PyQt6.QtGui import QPixmap

        def got(result):
            mime, data = result
            pixmap = QPixmap()
            if pixmap.loadFromData(data):
                person = self.users.get(user)
                if person is not None:
                    person.avatar = pixmap
                    self.users.refresh(user)
                self.avatarChanged.emit(user)
        self.session.get_avatar(user).addCallbacks(got, lambda f: None)

    def _item(self, msg: dict) -> ChatItem:
        me = self.session.me
        own = msg.get("from") == me
        return ChatItem(
            ItemKind.MESSAGE, text=msg.get("text", ""), sender=msg.get("from", ""),
            ts=msg.get("ts"), msg_id=msg.get("id"), cid=msg.get("cid"), own=own,
            private=msg["conv"].startswith("@"), burn=msg.get("burn"),
            file=msg.get("file"), burned=bool(msg.get("burned")),
            transfer=(self.transfers.for_file(msg["file"]["id"]) if msg.get("file") else None))

    def _message(self, msg: dict, live: bool) -> None:
        conv = msg["conv"]
        self.conversations.ensure(conv)
        self.conversations.touch(conv, msg.get("ts"))
        model = self.log(conv)
        if msg.get("burned"):
            return                         # nothing left to show of it
        item = self._item(msg)
        row = model.row_of_cid(item.cid) if item.own and item.cid else -1
        if row < 0 and item.own and item.file:
            row = self._upload_row(model, item.file)   # the card shown since the upload began
        if row >= 0:
            mine = model.items[row]
            mine.msg_id, mine.ts, mine.delivery = item.msg_id, item.ts, Delivery.STORED
            mine.out = None
            if item.file:
                mine.file = item.file
            model.changed(row)
            self.conversations.set_last(conv, mine)
        elif model.row_of_id(item.msg_id) < 0:
            model.append(item)
            self.conversations.set_last(conv, item)
            if not self._auto_save(item):
                self._fetch_image(item)
        if not item.own:
            seen = conv == self.current and self.active
            if seen:
                self.mark_seen()
            else:
                n = self.session.model.unread.get(conv, 0)
                self.conversations.set_unread(conv, n)
                self.unreadChanged.emit(self.conversations.total_unread())
            if live:
                self.incoming.emit(conv, msg)

    def download(self, item: ChatItem, folder: str):
        """Fetch the file of ``item`` into ``folder``; the item follows its progress. A copy
        the user has already (the same SHA-256: saved before, or sent from here) is shown
        instead of a second one, and ``alreadySaved`` says where it is. Returns what the item
        follows (a transfer)."""
        info = item.file
        sha = info.get("sha256")
        if self.cache is None or not is_sha256(sha):
            item.transfer = self._start_download(info, folder)
            return item.transfer
        key = (sha, os.path.abspath(folder))
        entry = self._saving.get(key)
        if entry is not None:                   # asked twice: one download, one copy
            entry["items"].append(item)
            item.transfer = entry["transfer"]
            self._refresh_item(item)
            return item.transfer
        checking = CachedFile.of(info, None, TransferState.HASHING)
        entry = self._saving[key] = {"items": [item], "transfer": checking}
        item.transfer = checking
        self._refresh_item(item)

        def known(path):
            if path:
                del self._saving[key]
                for waiting in entry["items"]:
                    waiting.transfer = CachedFile.of(waiting.file, path)
                    self._refresh_item(waiting)
                self.alreadySaved.emit(path)
                return
            transfer = self._start_download(info, folder)
            entry["transfer"] = transfer
            for waiting in entry["items"]:
                waiting.transfer = transfer
                self._refresh_item(waiting)

            def ended(result):
                if self._saving.get(key) is entry:
                    del self._saving[key]
                if transfer.state is TransferState.DONE and transfer.path:
                    self.cache.remember(sha, transfer.path)
                return result
            transfer.finished.addBoth(ended)

        self.cache.known(sha, info.get("size") or 0, folder, info.get("name", "")).addCallbacks(
            known, lambda failure: known(None))
        return item.transfer

    def _start_download(self, info: dict, folder: str):
        transfer = self.session.download(info["id"], folder)
        self._transfer(transfer)
        return transfer

    def _auto_save(self, item: ChatItem) -> bool:
        """A file that arrives is saved into the chosen folder at once if the user asked for
        it (Settings.auto_save) and it is within the size limit; True if it is being saved.
        An image saved so is shown inline from there (one download, not two); stickers are
        pictures in the chat, not files to keep, and are not saved."""
        settings = self.settings
        if (settings is None or not settings.auto_save or item.own or not item.file
                or item.file.get("complete") is False or item.is_sticker):
            return False
        file_id, size = item.file.get("id"), item.file.get("size") or 0
        if file_id is None or size > settings.auto_save_mb * 1024 * 1024:
            return False
        account = self._account()
        if file_id in settings.auto_saved(account):
            return False                     # saved at an earlier arrival already
        settings.add_auto_saved(account, file_id)
        # the download makes the folder if need be (in its thread, like its file)
        self.download(item, settings.auto_save_dir)
        return True

    def _fetch_image(self, item: ChatItem) -> None:
        """Images show inline: fetch them at once (small ones) unless we have them."""
        if item.is_sticker and not item.picture:
            known = builtin_by_sha(item.file.get("sha256"))
            if known is not None:
                item.picture = known.path        # one of ours: nothing to download
                return
        if (not item.is_image or self.cache is None or item.transfer is not None
                or item.picture or (item.file.get("size") or 0) > INLINE_IMAGE_MAX):
            return
        self._want_picture(item.file, item)

    def _refresh_item(self, item: ChatItem) -> None:
        for model in self.logs.values():
            row = _row_of_item(model, item)
            if row >= 0:
                model.changed(row)

    def _queued(self, out) -> None:
        model = self.log(out.to)
        self.conversations.ensure(out.to)
        row = model.row_of_cid(out.cid)
        if row >= 0:
            item = model.items[row]
            item.delivery, item.error, item.error_code = Delivery.PENDING, "", ""
            model.changed(row)
            return
        item = ChatItem(ItemKind.MESSAGE, text=out.text, sender=self.session.me,
                        cid=out.cid, own=True, private=out.to.startswith("@"),
                        delivery=Delivery.PENDING, out=out, burn=out.burn)
        model.append(item)
        self.conversations.set_last(out.to, item)

    def _acked(self, out) -> None:
        model = self.log(out.to)
        row = model.row_of_cid(out.cid)
        if row >= 0:
            item = model.items[row]
            item.msg_id = item.msg_id or out.msg_id
            item.ts = item.ts or out.ts
            item.delivery = Delivery.STORED
            item.out = None
            model.changed(row)
            self.conversations.refresh(out.to)

    def _failed(self, out) -> None:
        model = self.log(out.to)
        row = model.row_of_cid(out.cid)
        if row >= 0:
            item = model.items[row]
            item.delivery = Delivery.FAILED
            item.error = out.error[1] if out.error else ""
            item.error_code = out.error[0] if out.error else ""
            item.out = out
            model.changed(row)

    def _system(self, conv: str, key: str, **params) -> ChatItem:
        """A line of the client's own (joined, left, topic), worded when it is shown."""
        item = ChatItem(ItemKind.SYSTEM, ts=_now_ts(), template=(key, params))
        item.text = item.shown_text(self.translator)
        self.log(conv).append(item)
        return item

    def _group_line(self, conv: str, key: str, users: list, **params) -> None:
        """A system line about ``users`` (came online, joined ...): it joins the last line of
        ``conv`` if that is one of the same kind (and room) from the last
        GROUP_LINES_SECONDS, else it is a new line."""
        model = self.log(conv)
        last = model.items[-1] if model.items else None
        if (last is not None and last.kind is ItemKind.SYSTEM and last.template is not None
                and last.template[0] == key and last.merge_until is not None
                and self.clock() <= last.merge_until
                and {k: v for k, v in last.template[1].items() if k != "users"} == params):
            known = {u.casefold() for u in last.template[1]["users"]}
            for user in users:
                if user.casefold() not in known:
                    last.template[1]["users"].append(user)
                    known.add(user.casefold())
            last.text = last.shown_text(self.translator)
            model.changed(len(model.items) - 1)
            return
        item = self._system(conv, key, users=list(users), **params)
        item.merge_until = self.clock() + GROUP_LINES_SECONDS

    def _presence_lines(self, event: dict) -> None:
        """People coming online or going offline, as lines in the conversation: in the lobby
        (where everybody is), and in a private chat with one of them, about them alone."""
        me = (self.session.me or "").casefold()
        went = {True: [], False: []}
        for change in event.get("changes", []):
            if change["user"].casefold() != me:
                went[bool(change["online"])].append(change["user"])
        if self._users_loaded and self.conversations.get(LOBBY) is not None:
            # someone our complete list of people does not know yet has just registered (or
            # is a guest): they joined the lobby, as a chat app says of a newcomer
            new = [u for u in went[True] if self.users.get(u) is None]
            if new:
                went[True] = [u for u in went[True] if u not in new]
                self._group_line(LOBBY, "msg_joined", new, room=LOBBY[1:])
        for online, users in went.items():
            if not users:
                continue
            key = "msg_online" if online else "msg_offline"
            if self.conversations.get(LOBBY) is not None:
                self._group_line(LOBBY, key, users)
            for user in users:
                if self.conversations.get("@" + user) is not None:
                    self._group_line("@" + user, key, [user])

    def _presence(self, event: dict) -> None:
        self._presence_lines(event)
        for change in event.get("changes", []):
            person = self.users.get(change["user"])
            if change.get("guest") and not change["online"]:
                self.users.discard(change["user"])     # a guest who left is nobody now
                continue
            changes = {"online": bool(change["online"])}
            if change.get("guest"):
                changes["guest"] = True
            if not change["online"]:
                changes["last_seen"] = change.get("last_seen")
            self.users.update(change["user"], **changes)
            if person is None and not change.get("guest"):      # guests have no avatar
                # someone new (registered after our user list was read): presence does not
                # say whether there is an avatar, so ask; "not_found" is simply ignored
                self.fetch_avatar(change["user"])

    def _joined(self, event: dict) -> None:
        conv = "#" + event["room"]
        if event["user"] == self.session.me:
            self.conversations.ensure(conv, event.get("topic"))
        self._group_line(conv, "msg_joined", [event["user"]], room=event["room"])

    def _left(self, event: dict) -> None:
        conv = "#" + event["room"]
        if event["user"] == self.session.me:
            self.conversations.remove(conv)
            return
        self._group_line(conv, "msg_left", [event["user"]], room=event["room"])

    def _topic(self, event: dict) -> None:
        conv = "#" + event["room"]
        self.conversations.set_topic(conv, event["topic"])
        self._system(conv, "topic", by=event.get("by", ""), room=event["room"],
                     topic=event["topic"])

    def _read(self, event: dict) -> None:
        conv, up_to = event["conv"], event["up_to"]
        if event.get("user") == self.session.me:
            return                 # our own mark from another of our connections
        model = self.log(conv)
        now = self.clock()
        for row, item in enumerate(model.items):
            if item.own and item.msg_id is not None and item.msg_id <= up_to \
                    and not item.read_by_peer:
                item.read_by_peer = True
                if item.burn and item.burn_at is None:
                    item.burn_at = now + item.burn
                    self._burn_timer.start()
                model.changed(row)

    def _burned(self, event: dict) -> None:
        ids = set(event.get("ids", []))
        model = self.log(event["conv"])
        gone = [i for i in model.items if i.msg_id in ids]
        for row in range(len(model.items) - 1, -1, -1):
            if model.items[row].msg_id in ids:
                model.remove(row)
        info = self.conversations.get(event["conv"])
        if info is not None and info.last is not None and info.last.msg_id in ids:
            gone.append(info.last)           # known from its preview only
        self._last_gone(event["conv"], gone)

    def _tick_burns(self) -> None:
        """Redraw countdowns; a message whose countdown ended vanishes (the server's
        ``burned`` follows and removes it for anyone who was not looking)."""
        now = self.clock()
        running = False
        for model in self.logs.values():
            for row in range(len(model.items) - 1, -1, -1):
                item = model.items[row]
                if item.burn_at is None:
                    continue
                if now >= item.burn_at:
                    model.remove(row)
                    self._last_gone(model.conv, [item])
                else:
                    running = True
                    model.changed(row)
        if not running:
            self._burn_timer.stop()

    def _notice(self, event: dict) -> None:
        conv = self.current or LOBBY
        text = event.get("text", "")
        if event.get("kind") == "shutdown":
            text = self.translator.tr("main_shutdown", seconds=event.get("seconds", 0),
                                      message=text)
        self.log(conv).append(ChatItem(ItemKind.NOTICE, text=text,
                                       sender=event.get("from", ""),
                                       ts=event.get("ts") or _now_ts()))
        self.notice.emit(event)

    def _transfer(self, transfer) -> None:
        self.transfers.update(transfer)
        for model in self.logs.values():
            for row, item in enumerate(model.items):
                if item.transfer is transfer:
                    if transfer.file and "id" not in item.file:
                        item.file = dict(transfer.file)   # the offer made it a server file
                    model.changed(row)
                elif transfer.file_id is not None and item.file \
                        and item.file.get("id") == transfer.file_id \
                        and not _keeps_upload(item, transfer):
                    item.transfer = transfer
                    model.changed(row)


def _row_of_item(model, item) -> int:
    for row, mine in enumerate(model.items):
        if mine is item:
            return row
    return -1


def _keeps_upload(item, transfer) -> bool:
    """Our own upload's card stays with its upload (a download of the same file elsewhere
    does not take it over)."""
    return getattr(item.transfer, "direction", "") == "up" and transfer.direction == "down"


def _now_ts() -> str:
    return format_ts(time.time() * 1000)
