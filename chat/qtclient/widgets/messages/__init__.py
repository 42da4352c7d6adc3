"""The conversation view: message bubbles in a list, painted by a delegate.

:class:`MessageView` (:mod:`.view`) shows one :class:`~chat.qtclient.models.MessagesModel`.
Its :class:`MessageDelegate` (:mod:`.delegate`) paints each row from a :class:`RowLayout`
computed by :class:`RowLayouter` (:mod:`.layout`: where its day separator, avatar, bubble,
text, thumbnail, progress bar, status line and links go); the view hit-tests clicks on the
very same layout, so what is drawn and what is clicked never disagree. Every action (retry,
download, cancel, open, show in folder, view an image) leaves the view as a signal: nothing
here calls the session or touches the network.

:class:`ImageViewer` (:mod:`.image_viewer`) shows a picture at full size; :func:`show_image`
opens one. :mod:`.style` holds the geometry and colours, :mod:`.files` the small helpers
about files (transfer states, local pictures, dropped files).
"""

from .delegate import MessageDelegate, paint_flame
from .files import RUNNING, human_speed, local_files, local_image, transfer_state
from .image_viewer import ImageViewer, show_image
from .layout import DOC_CACHE, THUMB_CACHE, RowLayout, RowLayouter, Span
from .style import (
    AVATAR, AVATAR_COLOURS, BUBBLE, BURN, CARD_W, DAY_H, ERROR, FILE_ICON, GAP, INK, LINK,
    MARGIN, MAX_BUBBLE, MUTED, NOTICE_BG, NOTICE_EDGE, NOTICE_INK, PAD_X, PAD_Y, PROGRESS_BG,
    PROGRESS_FG, READ, ROW_GAP, THUMB)
from .view import MessageView

__all__ = [
    "AVATAR", "AVATAR_COLOURS", "BUBBLE", "BURN", "CARD_W", "DAY_H", "DOC_CACHE", "ERROR",
    "FILE_ICON", "GAP", "INK", "LINK", "MARGIN", "MAX_BUBBLE", "MUTED", "NOTICE_BG",
    "NOTICE_EDGE", "NOTICE_INK", "PAD_X", "PAD_Y", "PROGRESS_BG", "PROGRESS_FG", "READ",
    "ROW_GAP", "RUNNING", "THUMB", "THUMB_CACHE", "ImageViewer", "MessageDelegate",
    "MessageView", "RowLayout", "RowLayouter", "Span", "human_speed", "local_files",
    "local_image", "paint_flame", "show_image", "transfer_state",
]
