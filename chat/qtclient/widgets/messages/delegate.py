"""The painting half of the view's delegate: a row drawn from its :class:`~.layout.RowLayout`
(bubbles, avatars, day separators, file cards, progress bars, links, the text the user
selected), and the burn flame."""

import os

from PyQt6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from PyQt6.QtGui import (
    QAbstractTextDocumentLayout, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPalette,
    QPen, QTextCharFormat, QTextCursor)

from chat.qtclient import theme
from chat.qtclient.models import ItemKind, ItemRole

from .layout import RowLayouter
from .style import (
    AVATAR_COLOURS, BUBBLE, INK, MARGIN, MUTED, NOTICE_BG, NOTICE_EDGE, PROGRESS_BG,
    PROGRESS_FG)


class MessageDelegate(RowLayouter):
    """Lays out (see :class:`~.layout.RowLayouter`) and paints a
    :class:`~chat.qtclient.models.ChatItem`."""

    def __init__(self, view, translator, avatar_for):
        super().__init__(view, translator)
        self.avatar_for = avatar_for

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
        if item.msg_id is not None and item.msg_id == getattr(self.view, "highlighted", None):
            # a history search result opened here: the whole row, for a few seconds
            top = lay.day.bottom() + 1 if lay.day is not None else option.rect.top()
            painter.fillRect(QRect(option.rect.left(), top, option.rect.width(),
                                   option.rect.bottom() - top + 1),
                             theme.colour("highlight_row"))
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
            if lay.avatar is not None:
                self._paint_avatar(painter, lay.avatar, item.sender)
            elif lay.side_time is not None and getattr(self.view, "hovered_row", -1) \
                    == index.row():
                painter.setFont(small)
                painter.setPen(MUTED)
                painter.drawText(lay.side_time, Qt.AlignmentFlag.AlignCenter,
                                 lay.side_time_text)
            self._paint_spans(painter, lay.header_spans, small, small_bold)
            # only a message that burns is marked (red); private ones look like any other
            kind = "private" if item.burn else ("own" if item.own else "other")
            fill, edge = BUBBLE[kind]
            if not lay.sticker and not lay.big_emoji:   # these stand on their own
                painter.setPen(QPen(QColor(edge), 1))
                painter.setBrush(QColor(fill))
                painter.drawRoundedRect(QRectF(lay.bubble).adjusted(0.5, 0.5, -0.5, -0.5),
                                        10, 10)
            self._paint_file(painter, lay, item, bold, small)
        if lay.doc is not None:
            selected = getattr(self.view, "selection_in", None)
            self._paint_doc(painter, lay, selected(index.row(), lay.doc) if selected else None)
        for line in lay.lines:
            self._paint_spans(painter, line, small, small_bold)
        painter.restore()

    def _paint_day(self, painter, lay, font) -> None:
        fm = QFontMetrics(font)
        text_w = fm.horizontalAdvance(lay.day_text) + 24
        mid = lay.day.center().y()
        pill = QRect(lay.day.center().x() - text_w // 2, mid - fm.height() // 2 - 3,
                     text_w, fm.height() + 6)
        line_colour = theme.colour("day_line")
        painter.setPen(QPen(line_colour, 1))
        painter.drawLine(lay.day.left() + MARGIN, mid, pill.left() - 8, mid)
        painter.drawLine(pill.right() + 8, mid, lay.day.right() - MARGIN, mid)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.colour("day_pill"))
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

    def _paint_doc(self, painter, lay, selected=None) -> None:
        painter.save()
        painter.translate(lay.doc_at)
        context = QAbstractTextDocumentLayout.PaintContext()
        # bubbles have fixed light colours: the text must not follow a dark palette
        context.palette.setColor(QPalette.ColorRole.Text, lay.doc_colour)
        if selected is not None:
            # the part the user selected, in the theme's selection colours
            cursor = QTextCursor(lay.doc)
            cursor.setPosition(selected[0])
            cursor.setPosition(selected[1], QTextCursor.MoveMode.KeepAnchor)
            mark = QAbstractTextDocumentLayout.Selection()
            mark.cursor = cursor
            fmt = QTextCharFormat()
            fmt.setBackground(theme.colour("highlight"))
            fmt.setForeground(theme.colour("highlight_text"))
            mark.format = fmt
            context.selections = [mark]
        lay.doc.documentLayout().draw(painter, context)
        painter.restore()

    def _paint_file(self, painter, lay, item, bold, small) -> None:
        if lay.image is not None and lay.sticker:
            painter.drawPixmap(lay.image, lay.pixmap)
        elif lay.image is not None:
            painter.save()
            clip = QPainterPath()
            clip.addRoundedRect(QRectF(lay.image), 6, 6)
            painter.setClipPath(clip)
            painter.drawPixmap(lay.image, lay.pixmap)
            painter.restore()
        if lay.placeholder is not None:
            painter.setPen(QPen(theme.colour("placeholder_edge"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(theme.colour("placeholder_fill"))
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
        painter.setBrush(theme.colour("file_icon"))
        painter.drawPath(page)
        painter.setBrush(theme.colour("file_fold"))
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
            painter.setFont(chosen)
            painter.setPen(span.colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             span.text)
            if span.action:
                # drawn by hand: the font's underline is not drawn under glyphs taken from a
                # fallback font (Chinese links showed none)
                fm = QFontMetrics(chosen)
                baseline = rect.top() + (rect.height() - fm.height()) / 2 + fm.ascent()
                y = baseline + max(1, fm.underlinePos()) + 0.5
                width = min(fm.horizontalAdvance(span.text), rect.width())
                painter.save()
                painter.setPen(QPen(span.colour, max(1.0, fm.lineWidth())))
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.left() + width, y))
                painter.restore()

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
