"""The conversation view's geometry (pixels) and colours, shared by layout and painting."""

from PyQt6.QtCore import QSize

from chat.qtclient import theme

# geometry, in pixels
MARGIN = 12          # left and right of the view
AVATAR = 36
GAP = 8              # avatar to bubble
PAD_X, PAD_Y = 10, 7  # inside a bubble
ROW_GAP = 8          # between two rows
DAY_H = 32           # a day separator
MAX_BUBBLE = 640
THUMB = 240          # the largest side of an inline image
STICKER = 160        # the largest side of a sticker
CARD_W = 320         # a file card's content
FILE_ICON = QSize(34, 42)

# colours: own messages blue, other people's green, burning ones red, notices amber; all from
# the theme (chat.qtclient.theme), which changes these very objects when it switches
BUBBLE = theme.BUBBLES
INK = theme.colour("ink")        # text inside bubbles and beside them
MUTED = theme.colour("muted")
LINK = theme.colour("link")
ERROR = theme.colour("error")
READ = theme.colour("read")
BURN = theme.colour("burn")
NOTICE_BG, NOTICE_EDGE, NOTICE_INK = (theme.colour("notice_bg"), theme.colour("notice_edge"),
                                      theme.colour("notice_ink"))
PROGRESS_BG, PROGRESS_FG = theme.colour("progress_bg"), theme.colour("progress_fg")
# the sidebar's avatar colours and rule, so that a person has one colour everywhere
AVATAR_COLOURS = ["#3e63dd", "#30a46c", "#e5484d", "#f76b15", "#8e4ec6", "#12a594", "#d6409f"]
