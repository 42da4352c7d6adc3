"""The conversation view: message bubbles in a list, painted by a delegate.

:class:`MessageView` shows one :class:`~chat.qtclient.models.MessagesModel`.
:class:`MessageDelegate` computes a :class:`RowLayout` for a row (where its day separator,
avatar, bubble, text, thumbnail, progress bar, status line and links go) and paints it; the
view hit-tests clicks on the very same layout, so what is drawn and what is clicked never
disagree. Every action (retry, download, cancel, open, show in folder, view an image) leaves
the view as a signal: nothing here calls the session or touches the network.

:class:`ImageViewer` shows a picture at full size; :func:`show_image` opens one.
"""

import collections
import datetime
import math
import os
import time
from dataclasses import dataclass, field
from typing import Optional

from PyQt6.QtCore import QPoint, QRect, QRectF, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import (
    QAbstractTextDocumentLayout, QColor, QFont, QFontMetrics, QGuiApplication, QImageReader,
    QPainter, QPainterPath, QPalette, QPen, QPixmap, QTextDocument, QTextOption)
from PyQt6.QtWidgets import (
    QAbstractItemView, QDialog, QLabel, QListView, QMenu, QScrollArea, QStyle,
    QStyledItemDelegate, QVBoxLayout)

from chat.cli.format import human_size
from chat.qtclient.models import Delivery, ItemKind, ItemRole, local_time

# geometry, in pixels
MARGIN = 12          # left and right of the view
AVATAR = 36
GAP = 8              # avatar to bubble
PAD_X, PAD_Y = 10, 7  # inside a bubble
ROW_GAP = 8          # between two rows
DAY_H = 32           # a day separator
MAX_BUBBLE = 640
THUMB = 240          # the largest side of an inline image
CARD_W = 320         # a file card's content
FILE_ICON = QSize(34, 42)

# colours: own messages blue, other people's green, private ones red, notices amber
BUBBLE = {"own": ("#d3e5ff", "#a9cbf5"), "other": ("#d9f2d6", "#b0ddaa"),
          "private": ("#ffdcdc", "#f0aaaa")}
INK = QColor("#1c2024")          # text inside bubbles, whatever the palette
MUTED = QColor("#60646c")
LINK = QColor("#0b62c4")
ERROR = QColor("#d1242f")
READ = QColor("#1f8a4c")
BURN = QColor("#c2410c")
NOTICE_BG, NOTICE_EDGE, NOTICE_INK = QColor("#fff3c4"), QColor("#f08c00"), QColor("#7a4a00")
PROGRESS_BG, PROGRESS_FG = QColor("#d9dce3"), QColor("#3e63dd")
# the sidebar's avatar colours and rule, so that a person has one colour everywhere
AVATAR_COLOURS = ["#3e63dd", "#30a46c", "#e5484d", "#f76b15", "#8e4ec6", "#12a594", "#d6409f"]

RUNNING = {"hashing", "waiting", "offering", "sending", "receiving"}
DOC_CACHE = 4000     # laid-out texts kept (sizeHint and paint both ask for every row)
THUMB_CACHE = 100


def transfer_state(transfer) -> Optional[str]:
    """The transfer's state as its string value ("sending", "done", ...), None without one."""
    if transfer is None:
        return None
    return getattr(transfer.state, "value", transfer.state)


def local_image(item) -> Optional[str]:
    """Where an image message's picture is on this computer: the source of our upload, or a
    finished download; None while there is nothing to show."""
    t = item.transfer
    if t is None or not getattr(t, "path", None):
        return None
    if t.direction == "up" or transfer_state(t) == "done":
        return t.path if os.path.isfile(t.path) else None
    return None


def local_files(mime) -> list:
    """The local files among a drag's or a clipboard's URLs (web links are no files)."""
    if mime is None or not mime.hasUrls():
        return []
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]


def human_speed(bytes_per_second: float) -> str:
    return human_size(int(bytes_per_second))


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
    icon: Optional[QRect] = None             # a file card's icon
    title: Optional[QRect] = None            # a file card's name
    title_text: str = ""
    progress: Optional[QRect] = None
    fraction: float = 0.0
    lines: list = field(default_factory=list)    # lists of Spans, each laid out already
    actions: dict = field(default_factory=dict)  # action name -> QRect

    def action_at(self, pos: QPoint) -> str:
        for name, rect in self.actions.items():
            if rect.contains(pos):
                return name
        return ""


class MessageDelegate(QStyledItemDelegate):
    """Lays out and paints a :class:`~chat.qtclient.models.ChatItem` (see the module)."""

    def __init__(self, view: "MessageView", translator, avatar_for):
        super().__init__(view)
        self.view = view
        self.translator = translator
        self.avatar_for = avatar_for
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

    def _doc(self, text: str, width: int, font: QFont, centred: bool = False):
        """A laid-out text: (document, widest line, height). Cached: every row is measured
        on each layout of the list and painted on each scroll."""
        key = (text, width, font.key(), centred)
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
        out.avatar = (QRect(right_edge - AVATAR, top, AVATAR, AVATAR) if own
                      else QRect(left + MARGIN, top, AVATAR, AVATAR))
        # the header (name and time) sits above the bubble, on its side
        when = local_time(item.ts)
        out.header_spans = [Span(item.sender, INK, bold=True),
                            Span(f"{when:%H:%M:%S}" if when else "", MUTED)]
        header_h = QFontMetrics(small_bold).height()
        bubble_x = left + MARGIN + AVATAR + GAP
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
        else:
            out.doc, content_w, content_h = self._doc(item.text, max_w - 2 * PAD_X, base)
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
        return max(bottom, out.avatar.bottom() + 1)

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
        if pixmap is not None:
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
            out.fraction = max(0.0, min(1.0, (transfer.percent or 0) / 100.0))
            y += 10
        rows = self._file_links(item, state, pixmap is not None)
        for row in rows:
            line_rect = QRect(0, y + 4, width, fm_small.height())
            self._place(row, line_rect, right=False)
            out.lines.append(row)
            y = line_rect.bottom() + 1
        return width, y

    def _file_links(self, item, state, shown: bool) -> list:
        """The rows of text and links under a file: progress, errors and what can be done."""
        tr = self.translator.tr
        transfer = item.transfer
        if state in RUNNING:
            if state == "hashing":
                text = tr("file_hashing")
            elif state in ("waiting", "offering"):
                text = tr("file_waiting")
            else:
                text = tr("file_progress", percent=int(transfer.percent or 0),
                          speed=human_speed(transfer.speed or 0))
            return [[Span(text, MUTED), Span(tr("file_cancel"), LINK, "cancel")]]
        if state == "done":
            if shown:
                return [] if transfer.direction == "up" else [
                    [Span(tr("file_show_in_folder"), LINK, "show")]]
            return [[Span(tr("file_open"), LINK, "open"),
                     Span(tr("file_show_in_folder"), LINK, "show")]]
        if state == "failed":
            error = transfer.error[1] if transfer.error else ""
            retry = (Span(tr("file_retry_upload"), LINK, "retry_upload")
                     if transfer.direction == "up"
                     else Span(tr("file_retry_download"), LINK, "download"))
            return [[Span(tr("file_failed", error=error), ERROR)], [retry]]
        if state == "cancelled":
            if transfer.direction == "up":
                return [[Span(tr("file_cancelled"), MUTED)]]
            return [[Span(tr("file_cancelled"), MUTED),
                     Span(tr("file_download"), LINK, "download")]]
        if shown:
            return []
        return [[Span(tr("file_download"), LINK, "download")]]

    def _status(self, item) -> list:
        """The line under a bubble: delivery, read mark, burn-after-reading marker."""
        tr = self.translator.tr
        spans = []
        if item.delivery is Delivery.PENDING:
            spans.append(Span(tr("msg_sending"), MUTED, icon="clock"))
        elif item.delivery is Delivery.FAILED:
            spans.append(Span(tr("msg_not_sent", error=item.error) if item.error
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

    # ------------------------------------------------------------------ Qt
    def sizeHint(self, option, index):
        rect = QRect(0, 0, self.view.viewport().width(), 0)
        return QSize(rect.width(), self.layout(rect, index).height)

    def paint(self, painter: QPainter, option, index):
        item = index.data(ItemRole)
        if item is None:
            return
        lay = self.layout(option.rect, index)
        _, bold, small, small_bold = self.fonts()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if lay.day is not None:
            self._paint_day(painter, lay, small_bold)
        if item.kind is ItemKind.NOTICE:
            painter.setPen(QPen(NOTICE_EDGE, 1))
            painter.setBrush(NOTICE_BG)
            painter.drawRoundedRect(QRectF(lay.bubble).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
            painter.fillRect(QRect(lay.bubble.left() + 1, lay.bubble.top() + 4, 4,
                                   lay.bubble.height() - 8), NOTICE_EDGE)
            self._paint_spans(painter, lay.header_spans, small, small_bold)
        elif item.kind is ItemKind.MESSAGE:
            self._paint_avatar(painter, lay.avatar, item.sender)
            self._paint_spans(painter, lay.header_spans, small, small_bold)
            kind = "private" if item.private else ("own" if item.own else "other")
            fill, edge = BUBBLE[kind]
            painter.setPen(QPen(QColor(edge), 1))
            painter.setBrush(QColor(fill))
            painter.drawRoundedRect(QRectF(lay.bubble).adjusted(0.5, 0.5, -0.5, -0.5), 10, 10)
            self._paint_file(painter, lay, item, bold, small)
        if lay.doc is not None:
            self._paint_doc(painter, lay)
        for line in lay.lines:
            self._paint_spans(painter, line, small, small_bold)
        painter.restore()

    def _paint_day(self, painter, lay, font) -> None:
        fm = QFontMetrics(font)
        text_w = fm.horizontalAdvance(lay.day_text) + 24
        mid = lay.day.center().y()
        pill = QRect(lay.day.center().x() - text_w // 2, mid - fm.height() // 2 - 3,
                     text_w, fm.height() + 6)
        line_colour = self.view.palette().color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(line_colour, 1))
        painter.drawLine(lay.day.left() + MARGIN, mid, pill.left() - 8, mid)
        painter.drawLine(pill.right() + 8, mid, lay.day.right() - MARGIN, mid)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#e8eaef"))
        painter.drawRoundedRect(QRectF(pill), pill.height() / 2, pill.height() / 2)
        painter.setFont(font)
        painter.setPen(MUTED)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, lay.day_text)

    def _paint_avatar(self, painter, rect: QRect, name: str) -> None:
        pixmap = self.avatar_for(name) if self.avatar_for else None
        path = QPainterPath()
        path.addEllipse(QRectF(rect))
        if pixmap is not None and not pixmap.isNull():
            painter.save()
            painter.setClipPath(path)
            painter.drawPixmap(rect, pixmap.scaled(
                rect.size(), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                Qt.TransformationMode.SmoothTransformation))
            painter.restore()
            return
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(AVATAR_COLOURS[sum(map(ord, name)) % len(AVATAR_COLOURS)]))
        painter.drawPath(path)
        font = QFont(self.view.font())
        font.setBold(True)
        font.setPixelSize(int(rect.height() * 0.45))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, (name[:1] or "?").upper())

    def _paint_doc(self, painter, lay) -> None:
        painter.save()
        painter.translate(lay.doc_at)
        context = QAbstractTextDocumentLayout.PaintContext()
        # bubbles have fixed light colours: the text must not follow a dark palette
        context.palette.setColor(QPalette.ColorRole.Text, lay.doc_colour)
        lay.doc.documentLayout().draw(painter, context)
        painter.restore()

    def _paint_file(self, painter, lay, item, bold, small) -> None:
        if lay.image is not None:
            painter.save()
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(lay.image), 6, 6)
            painter.setClipPath(clip)
            painter.drawPixmap(lay.image, lay.pixmap)
            painter.restore()
        if lay.placeholder is not None:
            painter.setPen(QPen(QColor("#c8ccd4"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QColor(255, 255, 255, 140))
            painter.drawRoundedRect(QRectF(lay.placeholder), 6, 6)
            painter.setFont(small)
            painter.setPen(MUTED)
            painter.drawText(lay.placeholder.adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             lay.title_text)
        if lay.icon is not None:
            self._paint_file_icon(painter, lay.icon, item.file.get("name", ""), small)
            painter.setFont(bold)
            painter.setPen(INK)
            painter.drawText(lay.title, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             lay.title_text)
        if lay.progress is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(PROGRESS_BG)
            painter.drawRoundedRect(QRectF(lay.progress), 3, 3)
            done = QRectF(lay.progress)
            done.setWidth(max(6.0, done.width() * lay.fraction))
            painter.setBrush(PROGRESS_FG)
            painter.drawRoundedRect(done, 3, 3)

    @staticmethod
    def _paint_file_icon(painter, rect: QRect, name: str, font: QFont) -> None:
        """A page with a folded corner and the file's extension on it."""
        fold = 10
        page = QPainterPath()
        page.moveTo(rect.left(), rect.top())
        page.lineTo(rect.right() - fold, rect.top())
        page.lineTo(rect.right(), rect.top() + fold)
        page.lineTo(rect.right(), rect.bottom())
        page.lineTo(rect.left(), rect.bottom())
        page.closeSubpath()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#5b6b8c"))
        painter.drawPath(page)
        painter.setBrush(QColor("#a9b4cc"))
        corner = QPainterPath()
        corner.moveTo(rect.right() - fold, rect.top())
        corner.lineTo(rect.right() - fold, rect.top() + fold)
        corner.lineTo(rect.right(), rect.top() + fold)
        corner.closeSubpath()
        painter.drawPath(corner)
        ext = os.path.splitext(name)[1][1:5].upper()
        if ext:
            tiny = QFont(font)
            tiny.setBold(True)
            tiny.setPixelSize(9)
            painter.setFont(tiny)
            painter.setPen(QColor("white"))
            painter.drawText(rect.adjusted(0, fold, 0, 0), Qt.AlignmentFlag.AlignCenter, ext)

    def _paint_spans(self, painter, spans, font, bold_font) -> None:
        for span in spans:
            if not span.text:
                continue
            rect = QRect(span.rect)
            if span.icon:
                if span.icon == "clock":
                    side = rect.height() - 4
                    self._paint_clock(painter, QRect(rect.left(), rect.top() + 2, side, side))
                else:
                    side = rect.height() - 1
                    paint_flame(painter, QRectF(rect.left() + side * 0.1, rect.top(),
                                                side * 0.8, side))
                rect.setLeft(rect.left() + rect.height() + 3)
            chosen = QFont(bold_font if span.bold else font)
            if span.action:
                chosen.setUnderline(True)
            painter.setFont(chosen)
            painter.setPen(span.colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             span.text)

    @staticmethod
    def _paint_clock(painter, rect: QRect) -> None:
        painter.save()
        painter.setPen(QPen(MUTED, 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(QRectF(rect).adjusted(0.5, 0.5, -0.5, -0.5))
        c = QRectF(rect).center()
        painter.drawLine(c, c + QPoint(0, -rect.height() // 2 + 3).toPointF())
        painter.drawLine(c, c + QPoint(rect.width() // 2 - 3, 0).toPointF())
        painter.restore()


def paint_flame(painter: QPainter, rect: QRectF) -> None:
    """A small flame, the mark of burn-after-reading. Drawn rather than written as 🔥
    because many systems have no colour emoji font and would show a box."""
    def drop(r: QRectF) -> QPainterPath:
        x, y, w, h = r.x(), r.y(), r.width(), r.height()
        path = QPainterPath()
        path.moveTo(x + 0.5 * w, y)
        path.cubicTo(x + 0.6 * w, y + 0.3 * h, x + 1.0 * w, y + 0.45 * h, x + 0.92 * w, y + 0.72 * h)
        path.cubicTo(x + 0.85 * w, y + 1.0 * h, x + 0.15 * w, y + 1.0 * h, x + 0.08 * w, y + 0.72 * h)
        path.cubicTo(x + 0.0 * w, y + 0.45 * h, x + 0.4 * w, y + 0.3 * h, x + 0.5 * w, y)
        return path
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#f76b15"))
    painter.drawPath(drop(rect))
    inner = QRectF(rect.x() + rect.width() * 0.28, rect.y() + rect.height() * 0.42,
                   rect.width() * 0.44, rect.height() * 0.5)
    painter.setBrush(QColor("#ffc53d"))
    painter.drawPath(drop(inner))
    painter.restore()


def _seconds(value) -> str:
    """Burn times are floats on the wire; ``5.0`` reads better as ``5``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


class MessageView(QListView):
    """The messages of one conversation (see the module docstring).

    It follows new rows only when the user is at the bottom already, keeps what the user
    looks at in place when older rows arrive at the top, and says ``nearTop`` when the user
    scrolls within a screen of the top (time to load older messages)."""

    retryRequested = pyqtSignal(object)          # ChatItem: a failed message or upload
    downloadRequested = pyqtSignal(object)       # ChatItem with a file
    cancelRequested = pyqtSignal(object)         # ChatItem whose transfer runs
    openRequested = pyqtSignal(str)              # path of a received or sent file
    showInFolderRequested = pyqtSignal(str)      # path of a received or sent file
    imageClicked = pyqtSignal(str)               # path of the picture
    nearTop = pyqtSignal()
    filesDropped = pyqtSignal(list)              # local paths dropped onto the view

    FOLLOW_SLACK = 4
    """Pixels from the bottom that still count as "at the bottom"."""

    def __init__(self, translator, avatar_for=lambda name: None, parent=None, clock=None):
        """``clock`` is the burn countdowns' clock (``time.monotonic`` unless a test says)."""
        super().__init__(parent)
        # set first: the setters below already lay the (empty) view out
        self._follow = True          # at the bottom: new rows scroll into view
        self._keep_from_bottom = None  # older rows arrived: keep this distance to the bottom
        self._restoring = False
        self._pressed = ("", None)
        self._top_checked_rows = -1
        self.translator = translator
        self.clock = clock or time.monotonic
        self.delegate = MessageDelegate(self, translator, avatar_for)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.verticalScrollBar().setSingleStep(24)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        # nearTop from inside a layout pass goes out a moment later, from the event loop
        self._ask_older = QTimer(self, singleShot=True, interval=0)
        self._ask_older.timeout.connect(self.nearTop)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        translator.languageChanged.connect(self.retranslate)

    # ------------------------------------------------------------------ model
    def setModel(self, model) -> None:
        old = self.model()
        if old is not None:
            for signal, slot in self._model_slots(old):
                try:
                    signal.disconnect(slot)
                except TypeError:
                    pass
        super().setModel(model)
        self._follow, self._keep_from_bottom, self._top_checked_rows = True, None, -1
        if model is not None:
            for signal, slot in self._model_slots(model):
                signal.connect(slot)
        self.scrollToBottom()

    def _model_slots(self, model):
        return [(model.rowsAboutToBeInserted, self._rows_coming),
                (model.dataChanged, self._rows_changed)]

    def _rows_coming(self, parent, first, last) -> None:
        if first == 0 and self.model().rowCount() > 0:
            bar = self.verticalScrollBar()
            # applied once the list is laid out with the new rows (the maximum moves then)
            self._keep_from_bottom = (bar.maximum() - bar.value(), bar.maximum())

    def _rows_changed(self, top, bottom, roles=()) -> None:
        """A row's content changed: if its height did too, the list must be laid out anew
        (QListView keeps row heights until told)."""
        for row in range(top.row(), bottom.row() + 1):
            index = self.model().index(row, 0)
            height = self.delegate.sizeHint(None, index).height()
            if height != self.visualRect(index).height():
                self.delegate.sizeHintChanged.emit(index)

    # ------------------------------------------------------------------ scrolling
    def updateGeometries(self) -> None:
        super().updateGeometries()
        bar = self.verticalScrollBar()
        restored = False
        self._restoring = True
        try:
            if self._keep_from_bottom is not None:
                distance, old_maximum = self._keep_from_bottom
                if bar.maximum() != old_maximum:
                    bar.setValue(bar.maximum() - distance)
                    self._keep_from_bottom, restored = None, True
            elif self._follow:
                bar.setValue(bar.maximum())
        finally:
            self._restoring = False
        self._follow = bar.value() >= bar.maximum() - self.FOLLOW_SLACK
        rows = self.model().rowCount() if self.model() is not None else 0
        if bar.maximum() == 0 and rows and rows != self._top_checked_rows:
            # everything fits: no scrolling will ever ask for more, so ask now (once per
            # number of rows, so that an exhausted history does not ask forever)
            self._top_checked_rows = rows
            self._ask_older.start()
        elif restored and bar.value() <= self.viewport().height():
            # the older page was short: the user is still near the top, so go on
            self._ask_older.start()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            # row heights depend on the width (text wraps): QListView would keep the old ones
            self.scheduleDelayedItemsLayout()

    def _scrolled(self, value: int) -> None:
        if self._restoring:
            return
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - self.FOLLOW_SLACK
        if value <= self.viewport().height() and self.model() is not None \
                and self.model().rowCount():
            self.nearTop.emit()

    def at_bottom(self) -> bool:
        return self._follow

    def scrollToBottom(self) -> None:
        self._follow = True
        super().scrollToBottom()

    # ------------------------------------------------------------------ clicks
    def row_layout(self, row: int) -> RowLayout:
        """The layout of ``row`` where it is now (viewport coordinates): tests click on it."""
        index = self.model().index(row, 0)
        return self.delegate.layout(self.visualRect(index), index)

    def action_rect(self, row: int, action: str) -> Optional[QRect]:
        """Where the link ``action`` ("retry", "download", "cancel", "open", "show",
        "image", "retry_upload") of ``row`` is, or None."""
        return self.row_layout(row).actions.get(action)

    def _action_at(self, pos: QPoint):
        index = self.indexAt(pos)
        if not index.isValid():
            return "", None
        lay = self.delegate.layout(self.visualRect(index), index)
        return lay.action_at(pos), index.data(ItemRole)

    def mousePressEvent(self, event):
        self._pressed = self._action_at(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        action, item = self._action_at(event.position().toPoint())
        pressed, self._pressed = self._pressed, ("", None)
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and action and \
                pressed == (action, item):
            self._trigger(action, item)

    def mouseMoveEvent(self, event):
        action, _ = self._action_at(event.position().toPoint())
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if action
                                  else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def _trigger(self, action: str, item) -> None:
        path = getattr(item.transfer, "path", None) or ""
        if action in ("retry", "retry_upload"):
            self.retryRequested.emit(item)
        elif action == "download":
            self.downloadRequested.emit(item)
        elif action == "cancel":
            self.cancelRequested.emit(item)
        elif action == "open":
            self.openRequested.emit(path)
        elif action == "show":
            self.showInFolderRequested.emit(path)
        elif action == "image":
            self.imageClicked.emit(local_image(item) or path)

    def contextMenuEvent(self, event):
        index = self.indexAt(event.pos())
        item = index.data(ItemRole) if index.isValid() else None
        if item is None or not item.text or item.burned:
            return
        menu = QMenu(self)
        menu.addAction(self.translator.tr("msg_copy"),
                       lambda: QGuiApplication.clipboard().setText(item.text))
        menu.exec(event.globalPos())

    # ------------------------------------------------------------------ files dropped
    def dragEnterEvent(self, event):
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        paths = local_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        """Texts change length with the language: lay the rows out again."""
        self.doItemsLayout()
        self.viewport().update()


class ImageViewer(QDialog):
    """A picture at its full size, scrollable when larger than the screen."""

    def __init__(self, path: str, parent=None):
        super().__init__(parent)
        self.path = path
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        image = reader.read()
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        name = os.path.basename(path)
        if image.isNull():
            # the file went away or is no picture after all: say which one, without words
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.label.setPixmap(icon.pixmap(48, 48))
            self.setWindowTitle(name)
        else:
            self.label.setPixmap(QPixmap.fromImage(image))
            self.setWindowTitle(f"{name} ({image.width()}×{image.height()})")
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        wanted = self.label.sizeHint() + QSize(4, 4)
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen())
        room = screen.availableSize() * 0.9 if screen is not None else QSize(1200, 900)
        self.resize(max(240, min(wanted.width(), room.width())),
                    max(160, min(wanted.height(), room.height())))


def show_image(parent, path: str) -> ImageViewer:
    """Open a (non-modal) viewer of the picture at ``path``; it deletes itself when closed."""
    viewer = ImageViewer(path, parent)
    viewer.show()
    viewer.raise_()
    return viewer
