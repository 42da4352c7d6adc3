"""Where everything of a row goes: :class:`Span`, :class:`RowLayout` and :class:`RowLayouter`.

:class:`RowLayouter` is the measuring half of the view's delegate: for a row it computes a
:class:`RowLayout` (its day separator, avatar, bubble, text, thumbnail, progress bar, status
line and links). :class:`~.delegate.MessageDelegate` paints that very layout and
:class:`~.view.MessageView` hit-tests clicks on it, so what is drawn and what is clicked
never disagree.

Messages of one sender that follow each other within :data:`GROUP_SECONDS` are grouped: the
later ones have no avatar or name of their own (their time shows beside them on hover). Web
addresses in a text are links (coloured, underlined, clicked through the view), and a message
of one to three emoji alone is shown large, without a bubble.
"""

import collections
import datetime
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from PyQt6.QtCore import QPoint, QPointF, QRect, Qt
from PyQt6.QtGui import (
    QColor, QFont, QFontMetrics, QImageReader, QPixmap, QTextCharFormat, QTextCursor,
    QTextDocument, QTextLayout, QTextOption)
from PyQt6.QtWidgets import QStyledItemDelegate

from chat.cli.format import human_size
from chat.qtclient.errors import describe_error
from chat.qtclient import theme
from chat.qtclient.models import Delivery, ItemKind, ItemRole, local_time, parse_ts

from .files import RUNNING, human_speed, local_image, transfer_state
from .style import (
    AVATAR, BURN, CARD_W, DAY_H, ERROR, FILE_ICON, GAP, INK, LINK, MARGIN, MAX_BUBBLE, MUTED,
    NOTICE_INK, PAD_X, PAD_Y, READ, ROW_GAP, STICKER, THUMB)
from .text import emoji_count, find_links

if TYPE_CHECKING:
    from .view import MessageView

DOC_CACHE = 4000     # laid-out texts kept (sizeHint and paint both ask for every row)
THUMB_CACHE = 100
GROUP_SECONDS = 5 * 60
"""A message this soon after the one before it, of the same sender, joins its group."""
BIG_EMOJI = 3        # at most this many emoji alone are shown large ...
BIG_EMOJI_PX = 40    # ... at this size


@dataclass
class Span:
    """A piece of a one-line row of text: plain, coloured, or a clickable link (``action``)."""
    text: str
    colour: QColor
    action: str = ""
    icon: str = ""               # drawn before the text: "clock" (pending) or "flame" (burn)
    bold: bool = False
    rect: QRect = field(default_factory=QRect)


@dataclass
class RowLayout:
    """Where everything of one row goes, in the coordinates of the view's viewport."""
    height: int = 0
    day: Optional[QRect] = None
    day_text: str = ""
    avatar: Optional[QRect] = None
    header: Optional[QRect] = None
    header_spans: list = field(default_factory=list)
    bubble: Optional[QRect] = None
    doc: Optional[QTextDocument] = None
    doc_at: QPoint = field(default_factory=QPoint)
    doc_colour: QColor = field(default_factory=lambda: QColor(INK))
    image: Optional[QRect] = None            # a thumbnail (clickable)
    pixmap: Optional[QPixmap] = None
    placeholder: Optional[QRect] = None      # an image that is not here yet
    sticker: bool = False                    # a sticker shown: no bubble around it
    icon: Optional[QRect] = None             # a file card's icon
    title: Optional[QRect] = None            # a file card's name
    title_text: str = ""
    progress: Optional[QRect] = None
    fraction: float = 0.0
    lines: list = field(default_factory=list)    # lists of Spans, each laid out already
    actions: dict = field(default_factory=dict)  # action name -> QRect
    continued: bool = False                  # grouped under the message before: no avatar
    side_time: Optional[QRect] = None        # ... its time, beside it on hover
    side_time_text: str = ""
    big_emoji: bool = False                  # emoji alone, large and without a bubble

    def action_at(self, pos: QPoint) -> str:
        for name, rect in self.actions.items():
            if rect.contains(pos):
                return name
        return ""

    def doc_rect(self) -> Optional[QRect]:
        """Where the row's text is (None without one)."""
        if self.doc is None:
            return None
        size = self.doc.size()
        return QRect(self.doc_at, QPoint(self.doc_at.x() + math.ceil(size.width()) - 1,
                                         self.doc_at.y() + math.ceil(size.height()) - 1))

    def link_at(self, pos: QPoint) -> str:
        """The web address under ``pos`` in the text, or ""."""
        rect = self.doc_rect()
        if rect is None or not rect.contains(pos):
            return ""
        return self.doc.documentLayout().anchorAt(QPointF(pos - self.doc_at))

    def text_position(self, pos: QPoint) -> int:
        """The place in the text nearest ``pos`` (for selecting): 0 above it, its end below."""
        rect = self.doc_rect()
        if rect is None:
            return 0
        if pos.y() < rect.top():
            return 0
        end = self.doc.characterCount() - 1
        if pos.y() > rect.bottom():
            return end
        hit = self.doc.documentLayout().hitTest(QPointF(pos - self.doc_at),
                                                Qt.HitTestAccuracy.FuzzyHit)
        return end if hit < 0 else hit


def _seconds(value) -> str:
    """Burn times are floats on the wire; ``5.0`` reads better as ``5``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _percent(transfer, state) -> float:
    """How far a running transfer is: of its hashing while it hashes, else of its bytes."""
    if state == "hashing":
        size = getattr(transfer, "size", 0) or 0
        return 100.0 * getattr(transfer, "hashed", 0) / size if size else 0.0
    return transfer.percent or 0


class RowLayouter(QStyledItemDelegate):
    """Lays out a :class:`~chat.qtclient.models.ChatItem` (see the module); the painting is
    :class:`~.delegate.MessageDelegate`'s."""

    def __init__(self, view: "MessageView", translator):
        super().__init__(view)
        self.view = view
        self.translator = translator
        self._docs = collections.OrderedDict()
        self._thumbs = collections.OrderedDict()

    # ------------------------------------------------------------------ fonts
    def fonts(self):
        base = QFont(self.view.font())
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        if base.pointSizeF() > 0:
            small.setPointSizeF(base.pointSizeF() * 0.86)
        else:
            small.setPixelSize(max(8, round(base.pixelSize() * 0.86)))
        small_bold = QFont(small)
        small_bold.setBold(True)
        return base, bold, small, small_bold

    # ------------------------------------------------------------------ texts
    def day_text(self, day: datetime.date) -> str:
        """The separator's words for a local date: Today, Yesterday or the weekday and date."""
        tr = self.translator.tr
        today = datetime.date.today()
        if day == today:
            return tr("msg_today")
        if day == today - datetime.timedelta(days=1):
            return tr("msg_yesterday")
        weekday = tr(f"msg_weekday_{day.weekday()}")
        return tr("msg_day", weekday=weekday, date=day.isoformat())

    def _doc(self, text: str, width: int, font: QFont, centred: bool = False,
             links: bool = False):
        """A laid-out text: (document, widest line, height); with ``links`` its web addresses
        are coloured and underlined anchors. Cached: every row is measured on each layout of
        the list and painted on each scroll."""
        key = (text, width, font.key(), centred, links and theme.hex_of("link"))
        hit = self._docs.get(key)
        if hit is not None:
            self._docs.move_to_end(key)
            return hit
        doc = QTextDocument()
        doc.setDocumentMargin(0)
        doc.setDefaultFont(font)
        option = QTextOption()
        # long URLs and runs of CJK have no spaces: break them anywhere rather than overflow
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        if centred:
            option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        doc.setDefaultTextOption(option)
        doc.setPlainText(text)
        if links:
            # formats on the plain text (not HTML): positions in the text stay those of the
            # message, which selecting and copying rely on
            for start, end, url in find_links(text):
                cursor = QTextCursor(doc)
                cursor.setPosition(start)
                cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                fmt = QTextCharFormat()
                fmt.setAnchor(True)
                fmt.setAnchorHref(url)
                fmt.setForeground(QColor(LINK))
                fmt.setFontUnderline(True)
                cursor.mergeCharFormat(fmt)
        doc.setTextWidth(width)
        hit = (doc, min(width, math.ceil(doc.idealWidth())), math.ceil(doc.size().height()))
        self._docs[key] = hit
        if len(self._docs) > DOC_CACHE:
            self._docs.popitem(last=False)
        return hit

    def _thumbnail(self, path: str) -> Optional[QPixmap]:
        """The picture at ``path`` scaled to fit THUMB x THUMB (cached by path and mtime)."""
        try:
            key = (path, os.path.getmtime(path))
        except OSError:
            return None
        hit = self._thumbs.get(key)
        if hit is not None:
            self._thumbs.move_to_end(key)
            return hit
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        size = reader.size()
        if size.isValid() and (size.width() > THUMB or size.height() > THUMB):
            # decode at thumbnail size: a 6000x4000 photo would cost 96 MB otherwise
            reader.setScaledSize(size.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        if image.isNull():
            return None
        pixmap = QPixmap.fromImage(image)
        self._thumbs[key] = pixmap
        if len(self._thumbs) > THUMB_CACHE:
            self._thumbs.popitem(last=False)
        return pixmap

    # ------------------------------------------------------------------ layout
    def shows_day(self, index) -> bool:
        """Whether the row starts a local day (its predecessor is of another day)."""
        item = index.data(ItemRole)
        if item is None or item.day is None:
            return False
        row = index.row()
        while row > 0:
            row -= 1
            before = index.model().index(row, 0).data(ItemRole)
            if before is not None and before.day is not None:
                return before.day != item.day
        return True

    def continues(self, index) -> bool:
        """Whether the message at ``index`` joins the group of the one before it: the same
        sender, the same day, within GROUP_SECONDS (one of ours still on its way joins ours)."""
        item = index.data(ItemRole)
        row = index.row()
        if item is None or item.kind is not ItemKind.MESSAGE or row == 0:
            return False
        before = index.model().index(row - 1, 0).data(ItemRole)
        if before is None or before.kind is not ItemKind.MESSAGE \
                or before.sender != item.sender or before.own != item.own:
            return False
        then, now = parse_ts(before.ts), parse_ts(item.ts)
        if now is None:                    # ours, pending: it is being sent now
            return item.own and (then is None or (datetime.datetime.now(
                datetime.timezone.utc) - then).total_seconds() < GROUP_SECONDS)
        if then is None:
            return False
        if before.day != item.day:
            return False
        return 0 <= (now - then).total_seconds() < GROUP_SECONDS

    def layout(self, rect: QRect, index) -> RowLayout:
        """Where everything of the row at ``index`` goes when its row is at ``rect``."""
        item = index.data(ItemRole)
        out = RowLayout()
        if item is None:
            return out
        width = self.view.viewport().width()
        left, top = rect.left(), rect.top() + ROW_GAP // 2
        if self.shows_day(index):
            out.day = QRect(left, top, width, DAY_H)
            out.day_text = self.day_text(item.day)
            top += DAY_H
        if item.kind is ItemKind.SYSTEM:
            bottom = self._lay_system(out, item, left, top, width)
        elif item.kind is ItemKind.NOTICE:
            bottom = self._lay_notice(out, item, left, top, width)
        else:
            if out.day is None and self.continues(index):
                out.continued = True
                top = rect.top() + 1       # close under the bubble before
            bottom = self._lay_message(out, item, left, top, width)
        out.height = bottom - rect.top() + ROW_GAP // 2
        return out

    def _lay_system(self, out, item, left, top, width) -> int:
        _, _, small, _ = self.fonts()
        when = local_time(item.ts)
        shown = item.shown_text(self.translator)      # worded now: a language switch shows
        text = f"{when:%H:%M:%S}  {shown}" if when else shown
        avail = max(80, width - 2 * MARGIN - 80)
        out.doc, _, height = self._doc(text, avail, small, centred=True)
        out.doc_at = QPoint(left + (width - avail) // 2, top + 2)
        out.doc_colour = QColor(MUTED)
        return top + height + 4

    def _lay_notice(self, out, item, left, top, width) -> int:
        base, _, _, small_bold = self.fonts()
        banner_w = min(width - 2 * MARGIN, 760)
        x = left + (width - banner_w) // 2
        when = local_time(item.ts)
        title = self.translator.tr("msg_notice_from", admin=item.sender or "?")
        fm = QFontMetrics(small_bold)
        out.header = QRect(x + 16, top + 8, banner_w - 28, fm.height())
        out.header_spans = [Span(title, NOTICE_INK, bold=True),
                            Span(f"{when:%H:%M:%S}" if when else "", NOTICE_INK)]
        self._place(out.header_spans, out.header, right=False)
        out.doc, _, height = self._doc(item.text, banner_w - 28, base)
        out.doc_at = QPoint(x + 16, out.header.bottom() + 5)
        out.doc_colour = QColor(INK)
        out.bubble = QRect(x, top, banner_w, out.doc_at.y() + height + 8 - top)
        return out.bubble.bottom() + 1

    def _lay_message(self, out, item, left, top, width) -> int:
        base, _, small, small_bold = self.fonts()
        fm_small = QFontMetrics(small)
        own = item.own
        max_w = max(160, min(width - 2 * (MARGIN + AVATAR + GAP) - 40, MAX_BUBBLE))
        right_edge = left + width - MARGIN
        when = local_time(item.ts)
        bubble_x = left + MARGIN + AVATAR + GAP
        if out.continued:
            # one avatar and name for the group: this one's time shows beside it on hover
            content_top = top
            out.side_time = (QRect(right_edge - AVATAR - GAP // 2, top + PAD_Y,
                                   AVATAR + GAP // 2, fm_small.height()) if own
                             else QRect(left + MARGIN - GAP // 2, top + PAD_Y,
                                        AVATAR + GAP // 2, fm_small.height()))
            out.side_time_text = f"{when:%H:%M}" if when else ""
        else:
            out.avatar = (QRect(right_edge - AVATAR, top, AVATAR, AVATAR) if own
                          else QRect(left + MARGIN, top, AVATAR, AVATAR))
            # the header (name and time) sits above the bubble, on its side
            out.header_spans = [Span(item.sender, INK, bold=True),
                                Span(f"{when:%H:%M:%S}" if when else "", MUTED)]
            header_h = QFontMetrics(small_bold).height()
            out.header = QRect(right_edge - AVATAR - GAP - max_w if own else bubble_x, top,
                               max_w, header_h)
            self._place(out.header_spans, out.header, right=own)
            content_top = top + header_h + 3
        # the bubble's content, laid out at x = 0 and moved into place below
        if item.file:
            content_w, content_h = self._lay_file(out, item, max_w - 2 * PAD_X)
        elif item.burned:
            italic = QFont(base)
            italic.setItalic(True)
            out.doc, content_w, content_h = self._doc(self.translator.tr("burned_text"),
                                                      max_w - 2 * PAD_X, italic)
            out.doc_colour = QColor(MUTED)
        elif 0 < emoji_count(item.text, BIG_EMOJI) <= BIG_EMOJI:
            big = QFont(base)
            big.setPixelSize(BIG_EMOJI_PX)
            out.doc, content_w, content_h = self._doc(item.text.strip(), max_w - 2 * PAD_X,
                                                      big)
            out.big_emoji = True
        else:
            out.doc, content_w, content_h = self._doc(item.text, max_w - 2 * PAD_X, base,
                                                      links=True)
        bubble_w = max(content_w + 2 * PAD_X, 48)
        bubble_x = right_edge - AVATAR - GAP - bubble_w if own else bubble_x
        out.bubble = QRect(bubble_x, content_top, bubble_w, content_h + 2 * PAD_Y)
        self._shift(out, QPoint(bubble_x + PAD_X, content_top + PAD_Y))
        bottom = out.bubble.bottom() + 1
        status = self._status(item)
        if status:
            line = QRect(out.bubble.right() - max_w + 1 if own else out.bubble.left(),
                         bottom + 3, max_w, fm_small.height())
            self._place(status, line, right=own)
            out.lines.append(status)
            bottom = line.bottom() + 1
        for span in (s for line in out.lines for s in line):
            if span.action:
                out.actions[span.action] = span.rect
        if out.image is not None:
            out.actions["image"] = out.image
        return max(bottom, out.avatar.bottom() + 1) if out.avatar is not None else bottom

    def _lay_file(self, out, item, max_w):
        """A file's content (thumbnail, placeholder or card, progress, links) from (0, 0):
        returns its size."""
        _, bold, small, _ = self.fonts()
        fm_small = QFontMetrics(small)
        tr = self.translator.tr
        info, transfer = item.file, item.transfer
        state = transfer_state(transfer)
        size_text = human_size(info.get("size", 0))
        path = local_image(item) if item.is_image else None
        pixmap = self._thumbnail(path) if path else None
        y = 0
        if pixmap is not None and item.is_sticker:
            # large, whole, and without a bubble (the delegate leaves it out)
            out.pixmap = pixmap
            side = min(STICKER, max_w)
            scale = side / max(pixmap.width(), pixmap.height())
            out.image = QRect(0, 0, max(1, round(pixmap.width() * scale)),
                              max(1, round(pixmap.height() * scale)))
            width, y = out.image.width(), out.image.height()
            out.sticker = True
        elif pixmap is not None:
            out.pixmap = pixmap
            # a narrow window shrinks the thumbnail further rather than overflow the bubble
            shown_w = min(pixmap.width(), max_w)
            out.image = QRect(0, 0, shown_w, round(pixmap.height() * shown_w / pixmap.width()))
            width = max(shown_w, min(120, max_w))
            y = out.image.height()
        elif item.is_image:
            width = min(max_w, THUMB)
            out.placeholder = QRect(0, 0, width, width * 9 // 16)
            out.title_text = f"{info.get('name', '')}\n{tr('file_image', size=size_text)}"
            y = out.placeholder.height()
        else:
            width = min(max_w, CARD_W)
            out.icon = QRect(0, 0, FILE_ICON.width(), FILE_ICON.height())
            fm_bold = QFontMetrics(bold)
            text_x = FILE_ICON.width() + 10
            out.title = QRect(text_x, 2, width - text_x, fm_bold.height())
            out.title_text = fm_bold.elidedText(info.get("name", ""),
                                                Qt.TextElideMode.ElideMiddle, out.title.width())
            sub = size_text
            if info.get("to") == "@all":
                sub += " · " + tr("file_to_everyone")
            line = [Span(sub, MUTED)]
            self._place(line, QRect(text_x, out.title.bottom() + 3, out.title.width(),
                                    fm_small.height()), right=False)
            out.lines.append(line)
            y = FILE_ICON.height()
        if state in RUNNING:
            y += 8
            out.progress = QRect(0, y, width, 6)
            out.fraction = max(0.0, min(1.0, _percent(transfer, state) / 100.0))
            y += 10
        rows = self._file_links(item, state, pixmap is not None)
        if out.sticker and state not in RUNNING and state not in ("failed", "cancelled"):
            rows = []                      # a sticker is a picture, not a file to open
        rows = self._wrap_rows(rows, width, small)
        for row in rows:
            line_rect = QRect(0, y + 4, width, fm_small.height())
            self._place(row, line_rect, right=False)
            out.lines.append(row)
            y = line_rect.bottom() + 1
        return width, y

    @staticmethod
    def _wrap_rows(rows, width: int, font: QFont, most: int = 3) -> list:
        """A row of one plain span too long for ``width`` (a server's reason for refusing a
        file says the limit at its end) goes on up to ``most`` lines, the last one shortened."""
        fm = QFontMetrics(font)
        out = []
        for row in rows:
            if len(row) != 1 or row[0].action or fm.horizontalAdvance(row[0].text) <= width:
                out.append(row)
                continue
            span = row[0]
            layout = QTextLayout(span.text, font)
            option = QTextOption()
            option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
            layout.setTextOption(option)
            layout.beginLayout()
            pieces = []
            while True:
                line = layout.createLine()
                if not line.isValid():
                    break
                line.setLineWidth(width)
                pieces.append(span.text[line.textStart():line.textStart() + line.textLength()])
            layout.endLayout()
            if len(pieces) > most:
                pieces[most - 1:] = [fm.elidedText("".join(pieces[most - 1:]),
                                                   Qt.TextElideMode.ElideRight, width)]
            out.extend([Span(piece.strip(), span.colour, bold=span.bold)] for piece in pieces)
        return out

    def _file_links(self, item, state, shown: bool) -> list:
        """The rows of text and links under a file: progress, errors and what can be done."""
        tr = self.translator.tr
        transfer = item.transfer
        if state in RUNNING:
            if state == "hashing":
                # an upload's own first phase: the file is read once for its SHA-256; a
                # download's is the check of a copy saved before
                text = tr("file_preparing", percent=int(_percent(transfer, state))) \
                    if transfer.direction == "up" else tr("file_hashing")
            elif state in ("waiting", "offering"):
                text = tr("file_waiting")
            else:
                text = tr("file_progress", percent=int(transfer.percent or 0),
                          speed=human_speed(transfer.speed or 0))
            if getattr(transfer, "cached", False):
                return [[Span(text, MUTED)]]     # a copy here being checked: nothing to stop
            return [[Span(text, MUTED), Span(tr("file_cancel"), LINK, "cancel")]]
        if state == "done":
            if shown:
                return [] if transfer.direction == "up" else [
                    [Span(tr("file_show_in_folder"), LINK, "show")]]
            return [[Span(tr("file_open"), LINK, "open"),
                     Span(tr("file_show_in_folder"), LINK, "show")]]
        if state == "failed":
            error = describe_error(self.translator, *transfer.error) if transfer.error else ""
            retry = (Span(tr("file_retry_upload"), LINK, "retry_upload")
                     if transfer.direction == "up"
                     else Span(tr("file_retry_download"), LINK, "download"))
            return [[Span(tr("file_failed", error=error), ERROR)], [retry]]
        if state == "cancelled":
            if transfer.direction == "up":       # it can be sent after all, on its card
                return [[Span(tr("file_cancelled"), MUTED),
                         Span(tr("file_send_again"), LINK, "retry_upload")]]
            return [[Span(tr("file_cancelled"), MUTED),
                     Span(tr("file_download"), LINK, "download")]]
        if shown:
            return []
        return [[Span(tr("file_download"), LINK, "download")]]

    def _status(self, item) -> list:
        """The line under a bubble: delivery, read mark, burn-after-reading marker."""
        tr = self.translator.tr
        spans = []
        if item.delivery is Delivery.PENDING and not item.file:   # a file card shows its own
            spans.append(Span(tr("msg_sending"), MUTED, icon="clock"))
        elif item.delivery is Delivery.FAILED:
            error = (describe_error(self.translator, item.error_code, item.error)
                     if item.error_code else item.error)
            spans.append(Span(tr("msg_not_sent", error=error) if error
                              else tr("msg_not_sent_plain"), ERROR))
            spans.append(Span(tr("msg_retry"), LINK, "retry"))
        if item.own and item.private and item.read_by_peer:
            spans.append(Span(tr("msg_read"), READ))
        if item.burn and not item.burned:
            if item.burn_at is not None:
                left = max(0, math.ceil(item.burn_at - self.view.clock()))
                spans.append(Span(tr("msg_burn_left", seconds=left), BURN, icon="flame",
                                  bold=True))
            else:
                spans.append(Span(tr("msg_burn", seconds=_seconds(item.burn)), BURN,
                                  icon="flame"))
        return spans

    def _place(self, spans, rect: QRect, right: bool) -> None:
        """Give each span its rect on one line in ``rect`` (from its right end if ``right``);
        plain text is shortened so that the links always fit."""
        _, _, small, small_bold = self.fonts()
        plain, strong = QFontMetrics(small), QFontMetrics(small_bold)
        spacing = 10

        def width(span):
            fm = strong if span.bold else plain
            return fm.horizontalAdvance(span.text) + (rect.height() + 3 if span.icon else 0)

        widths = [width(s) for s in spans]
        excess = sum(widths) + spacing * (len(spans) - 1) - rect.width()
        for i, span in enumerate(spans):
            if excess <= 0:
                break
            if not span.action and widths[i] > 40:
                fm = strong if span.bold else plain
                keep = max(40, widths[i] - excess)
                span.text = fm.elidedText(span.text, Qt.TextElideMode.ElideRight, keep)
                excess -= widths[i] - width(span)
                widths[i] = width(span)
        total = sum(widths) + spacing * (len(spans) - 1)
        x = rect.right() + 1 - total if right else rect.left()
        for span, w in zip(spans, widths):
            span.rect = QRect(x, rect.top(), w, rect.height())
            x += w + spacing

    @staticmethod
    def _shift(out: RowLayout, by: QPoint) -> None:
        """Move what _lay_file and the text laid out at (0, 0) into the bubble."""
        out.doc_at = QPoint(out.doc_at) + by
        for name in ("image", "placeholder", "icon", "title", "progress"):
            rect = getattr(out, name)
            if rect is not None:
                setattr(out, name, rect.translated(by))
        for line in out.lines:
            for span in line:
                span.rect = span.rect.translated(by)
