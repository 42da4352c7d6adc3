"""The conversation view's geometry (pixels) and colours, shared by layout and painting."""

from PyQt6.QtCore import QSize
from PyQt6.QtGui import QColor

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

# colours: own messages blue, other people's green, burning ones red, notices amber
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
