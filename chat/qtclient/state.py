"""ChatState: keeps the Qt models in step with the session, and knows what the user looks at.

It listens to :class:`chat.qtclient.session.Session` and fills the conversations, users,
messages and transfers models; widgets call it to switch conversations, load older
messages, send, retry and clear local history. "Read" is decided here: a conversation's
messages are read when it is the current one and the window is active; only then are read
marks sent and burn-after-reading countdowns started.
"""

import time

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from chat.protocol.timestamps import format_ts
from chat.qtclient.stickers import builtin_by_sha
from chat.qtclient.models import (
    ChatItem, ConversationsModel, Delivery, ItemKind, MessagesModel, Person, TransfersModel,
    UsersModel)

LOBBY = "#lobby"
HISTORY_PAGE = 50
INLINE_IMAGE_MAX = 10 * 1024 * 1024
"""Images up to this size are fetched as soon as they are shown; bigger ones on a click."""


class ChatState(QObject):
    """See the module docstring. ``tr`` words the system lines (joined, left, topic)."""

    currentChanged = pyqtSignal(str)             # the conversation now shown
    incoming = pyqtSignal(str, dict)             # a live message from someone else
    unreadChanged = pyqtSignal(int)              # total unread
    notice = pyqtSignal(dict)                    # a server notice
    avatarChanged = pyqtSignal(str)              # a user's avatar arrived
    historyLoaded = pyqtSignal(str, int)         # conv, rows added at the top

    def __init__(self, session, translator, settings=None, clock=time.monotonic, parent=None,
                 image_dir: str = None):
        super().__init__(parent)
        self.image_dir = image_dir               # where inline images are fetched to
        self.session = session
        self.translator = translator
        self.settings = settings
        self.clock = clock
        self.conversations = ConversationsModel(self)
        self.users = UsersModel(self)
        self.transfers = TransfersModel(self)
        self.logs: dict[str, MessagesModel] = {}
        self.current = ""
        self.active = False                      # the main window is the active window
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
        """A copy of this picture on this computer (a built-in sticker, or an image fetched or
        sent in this session), or None."""
        if not file_view:
            return None
        known = builtin_by_sha(file_view.get("sha256"))
        if known is not None:
            return known.path
        transfer = self.transfers.for_file(file_view.get("id"))
        path = getattr(transfer, "path", None)
        state = getattr(getattr(transfer, "state", None), "value", None)
        if path and (transfer.direction == "up" or state == "done"):
            return path
        return None

    def fetch_picture(self, file_view: dict):
        """Fetch a picture (not too big) into the image folder unless it is being fetched or is
        here; returns its transfer or None. Its end shows in ``transfers``."""
        if (not file_view or self.image_dir is None
                or not str(file_view.get("mime", "")).startswith("image/")
                or (file_view.get("size") or 0) > INLINE_IMAGE_MAX
                or self.picture_for(file_view) is not None or not self.session.is_online):
            return None
        running = self.transfers.for_file(file_view.get("id"), "down")
        if running is not None and getattr(running.state, "value", "") not in (
                "failed", "cancelled"):
            return None
        transfer = self.session.download(file_view["id"], self.image_dir)
        self._transfer(transfer)
        return transfer

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
        if first and not self.current:
            self.select(LOBBY if self.conversations.get(LOBBY) else
                        (self.conversations.rows[0].key if self.conversations.rows else LOBBY))
        elif self.current:
            self.mark_seen()

    def _sync_rooms(self) -> None:
        rooms = {("#" + r.name).casefold(): r for r in self.session.model.rooms.values()}
        for conv in list(self.conversations.rows):
            if conv.is_room and conv.key.casefold() not in rooms:
                self.conversations.remove(conv.key)
        for room in rooms.values():
            self.conversations.ensure("#" + room.name, room.topic)

    def _load_users(self, after: str = None) -> None:
        d = self.session.users(after=after)

        def got(data):
            people = [] if after is None else list(self.users.rows)
            for u in data.get("users", []):
                people.append(Person(u["name"], bool(u.get("online")), bool(u.get("admin")),
                                     bool(u.get("avatar")), u.get("last_seen")))
            self.users.reset(people)
            for u in data.get("users", []):
                if u.get("avatar"):
                    self.fetch_avatar(u["name"])
            if data.get("more") and data.get("users"):
                self._load_users(data["users"][-1]["name"])
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
        if row >= 0:
            mine = model.items[row]
            mine.msg_id, mine.ts, mine.delivery = item.msg_id, item.ts, Delivery.STORED
            mine.out = None
            if item.file:
                mine.file = item.file
            model.changed(row)
        elif model.row_of_id(item.msg_id) < 0:
            model.append(item)
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
        """Fetch the file of ``item`` into ``folder``; the item follows its progress."""
        transfer = self.session.download(item.file["id"], folder)
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
        item.transfer = self.download(item, settings.auto_save_dir)
        return True

    def _fetch_image(self, item: ChatItem) -> None:
        """Images show inline: fetch them at once (small ones) unless we have them."""
        if item.is_sticker and not item.picture:
            known = builtin_by_sha(item.file.get("sha256"))
            if known is not None:
                item.picture = known.path        # one of ours: nothing to download
                return
        if (not item.is_image or self.image_dir is None or item.transfer is not None
                or item.picture or (item.file.get("size") or 0) > INLINE_IMAGE_MAX):
            return
        item.transfer = self.download(item, self.image_dir)

    def _queued(self, out) -> None:
        model = self.log(out.to)
        self.conversations.ensure(out.to)
        row = model.row_of_cid(out.cid)
        if row >= 0:
            item = model.items[row]
            item.delivery, item.error, item.error_code = Delivery.PENDING, "", ""
            model.changed(row)
            return
        model.append(ChatItem(ItemKind.MESSAGE, text=out.text, sender=self.session.me,
                              cid=out.cid, own=True, private=out.to.startswith("@"),
                              delivery=Delivery.PENDING, out=out, burn=out.burn))

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

    def _system(self, conv: str, key: str, **params) -> None:
        """A line of the client's own (joined, left, topic), worded when it is shown."""
        item = ChatItem(ItemKind.SYSTEM, ts=_now_ts(), template=(key, params))
        item.text = item.shown_text(self.translator)
        self.log(conv).append(item)

    def _presence(self, event: dict) -> None:
        for change in event.get("changes", []):
            person = self.users.get(change["user"])
            changes = {"online": bool(change["online"])}
            if not change["online"]:
                changes["last_seen"] = change.get("last_seen")
            self.users.update(change["user"], **changes)
            if person is None:
                # someone new (registered after our user list was read): presence does not
                # say whether there is an avatar, so ask; "not_found" is simply ignored
                self.fetch_avatar(change["user"])

    def _joined(self, event: dict) -> None:
        conv = "#" + event["room"]
        if event["user"] == self.session.me:
            self.conversations.ensure(conv, event.get("topic"))
        self._system(conv, "joined", user=event["user"], room=event["room"])

    def _left(self, event: dict) -> None:
        conv = "#" + event["room"]
        if event["user"] == self.session.me:
            self.conversations.remove(conv)
            return
        self._system(conv, "left", user=event["user"], room=event["room"])

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
        for row in range(len(model.items) - 1, -1, -1):
            if model.items[row].msg_id in ids:
                model.remove(row)

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
        if transfer.file_id is None:
            return
        for model in self.logs.values():
            for row, item in enumerate(model.items):
                if item.file and item.file.get("id") == transfer.file_id:
                    item.transfer = transfer
                    model.changed(row)


def _now_ts() -> str:
    return format_ts(time.time() * 1000)
