"""Draw the built-in sticker sets with QPainter: ``python tools/make_stickers.py``.

Writes ``chat/qtclient/sticker_sets/<set>/<name>.png`` (256x256, transparent) and
``chat/qtclient/sticker_sets/index.json`` (the sets in order, each file's SHA-256: a client
that receives one of these stickers shows its own copy instead of downloading it). Every
sticker has a white cut-out edge and a soft shadow, so that it stands out on the light and
the dark theme alike. The PNGs are committed; run this again only to change them.
"""

import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "chat", "qtclient", "sticker_sets")
SIZE = 256

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PyQt6.QtGui import (  # noqa: E402
    QBrush, QColor, QFont, QGuiApplication, QImage, QPainter, QPainterPath, QPainterPathStroker,
    QPen, QRadialGradient)


# ---------------------------------------------------------------------- the cut-out look
def cut_out(painter: QPainter, outline: QPainterPath) -> None:
    """The sticker's shadow and white edge around ``outline`` (drawn before its content)."""
    stroker = QPainterPathStroker()
    stroker.setWidth(18)
    stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    edge = stroker.createStroke(outline).united(outline)
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    for i, alpha in enumerate((28, 22, 16)):
        painter.setBrush(QColor(0, 0, 0, alpha))
        painter.drawPath(edge.translated(0, 3 + 2 * i))
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(edge)
    painter.restore()


def fill(painter, path, colour, edge=None, width=3.0):
    painter.setPen(QPen(QColor(edge), width) if edge else Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour) if isinstance(colour, str) else colour)
    painter.drawPath(path)


def ellipse(x, y, w, h) -> QPainterPath:
    path = QPainterPath()
    path.addEllipse(QRectF(x, y, w, h))
    return path


def ink(width=7.0, colour="#3b2a14") -> QPen:
    return QPen(QColor(colour), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin)


def heart(cx, cy, s) -> QPainterPath:
    path = QPainterPath(QPointF(cx, cy + s * 0.9))
    path.cubicTo(cx - s * 1.4, cy - s * 0.1, cx - s * 0.7, cy - s * 1.2, cx, cy - s * 0.35)
    path.cubicTo(cx + s * 0.7, cy - s * 1.2, cx + s * 1.4, cy - s * 0.1, cx, cy + s * 0.9)
    return path


# ---------------------------------------------------------------------- faces
FACE = QRectF(28, 28, 200, 200)


def face_base(p: QPainter, colour="#ffd43b", edge="#e0a800") -> None:
    head = ellipse(FACE.x(), FACE.y(), FACE.width(), FACE.height())
    cut_out(p, head)
    gradient = QRadialGradient(QPointF(105, 90), 170)
    gradient.setColorAt(0, QColor(colour).lighter(112))
    gradient.setColorAt(1, QColor(colour))
    fill(p, head, QBrush(gradient), edge, 4)


def eyes(p, y=108, kind="dot"):
    for x in (96, 160):
        if kind == "dot":
            fill(p, ellipse(x - 11, y - 15, 22, 30), "#3b2a14")
            fill(p, ellipse(x - 4, y - 10, 8, 9), "#ffffff")
        elif kind == "happy":
            p.setPen(ink(8))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawArc(QRectF(x - 16, y - 10, 32, 26), 20 * 16, 140 * 16)


def cheeks(p, y=150):
    for x in (70, 186):
        fill(p, ellipse(x - 16, y - 9, 32, 18), QColor(255, 120, 120, 110))


def smile(p, top=138, w=84, h=56, open_mouth=False):
    rect = QRectF(128 - w / 2, top - h / 2, w, h)
    if open_mouth:
        mouth = QPainterPath(QPointF(rect.left(), rect.center().y()))
        mouth.arcTo(rect, 180, 180)
        mouth.closeSubpath()
        fill(p, mouth, "#8a2b1a", "#3b2a14", 6)
        tongue = ellipse(rect.center().x() - w * 0.22, rect.bottom() - h * 0.34, w * 0.44,
                         h * 0.3)
        p.save()
        p.setClipPath(mouth)
        fill(p, tongue, "#ff7b7b")
        p.restore()
    else:
        p.setPen(ink(8))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(rect, 200 * 16, 140 * 16)


def face_happy(p):
    face_base(p)
    eyes(p)
    cheeks(p)
    smile(p)


def face_laugh(p):
    face_base(p)
    eyes(p, kind="happy")
    smile(p, top=150, w=110, h=80, open_mouth=True)
    for x, flip in ((52, -1), (204, 1)):
        drop = QPainterPath(QPointF(x, 96))
        drop.cubicTo(x + 14 * flip, 118, x + 12 * flip, 134, x, 134)
        drop.cubicTo(x - 12 * flip, 134, x - 10 * flip, 118, x, 96)
        fill(p, drop, "#74c0fc", "#339af0", 3)


def face_love(p):
    face_base(p)
    for x in (94, 162):
        fill(p, heart(x, 106, 22), "#f03e3e", "#c92a2a", 3)
    cheeks(p, 156)
    smile(p, top=148, w=70, h=44)


def face_wink(p):
    face_base(p)
    fill(p, ellipse(85, 93, 22, 30), "#3b2a14")
    fill(p, ellipse(92, 98, 8, 9), "#ffffff")
    p.setPen(ink(8))
    p.drawLine(QPointF(146, 110), QPointF(176, 104))
    cheeks(p)
    smile(p)
    tongue = QPainterPath(QPointF(138, 160))
    tongue.cubicTo(140, 186, 168, 186, 166, 158)
    fill(p, tongue, "#ff7b7b", "#c92a2a", 3)


def face_cool(p):
    face_base(p)
    glasses = QPainterPath()
    glasses.addRoundedRect(QRectF(62, 88, 58, 40), 14, 14)
    glasses.addRoundedRect(QRectF(136, 88, 58, 40), 14, 14)
    fill(p, glasses, "#212529", "#000000", 3)
    p.setPen(ink(7, "#212529"))
    p.drawLine(QPointF(118, 100), QPointF(138, 100))
    p.drawLine(QPointF(62, 98), QPointF(40, 92))
    p.drawLine(QPointF(194, 98), QPointF(216, 92))
    shine = QPainterPath(QPointF(72, 96))
    shine.lineTo(86, 96)
    shine.lineTo(74, 118)
    fill(p, shine, QColor(255, 255, 255, 120))
    p.setPen(ink(8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(100, 130, 70, 44), 200 * 16, 120 * 16)


def face_surprised(p):
    face_base(p)
    for x in (96, 160):
        fill(p, ellipse(x - 15, 88, 30, 36), "#ffffff", "#3b2a14", 5)
        fill(p, ellipse(x - 7, 98, 14, 16), "#3b2a14")
    p.setPen(ink(6))
    p.drawArc(QRectF(76, 62, 40, 20), 30 * 16, 120 * 16)
    p.drawArc(QRectF(140, 62, 40, 20), 30 * 16, 120 * 16)
    fill(p, ellipse(110, 146, 36, 44), "#8a2b1a", "#3b2a14", 6)


def face_sad(p):
    face_base(p, "#ffe066", "#e0a800")
    eyes(p, y=112)
    p.setPen(ink(6))
    p.drawLine(QPointF(78, 84), QPointF(108, 76))
    p.drawLine(QPointF(148, 76), QPointF(178, 84))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(94, 160, 68, 44), 30 * 16, 120 * 16)
    drop = QPainterPath(QPointF(168, 126))
    drop.cubicTo(184, 152, 180, 170, 168, 170)
    drop.cubicTo(156, 170, 152, 152, 168, 126)
    fill(p, drop, "#74c0fc", "#339af0", 3)


def face_angry(p):
    face_base(p, "#ff8787", "#e03131")
    p.setPen(ink(9))
    p.drawLine(QPointF(72, 80), QPointF(112, 98))
    p.drawLine(QPointF(184, 80), QPointF(144, 98))
    for x in (98, 158):
        fill(p, ellipse(x - 10, 104, 20, 24), "#3b2a14")
    p.setPen(ink(8))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(92, 160, 72, 40), 30 * 16, 120 * 16)
    # steam
    for x in (40, 196):
        puff = ellipse(x, 36, 28, 22)
        fill(p, puff, QColor(255, 255, 255, 220), "#adb5bd", 3)


# ---------------------------------------------------------------------- animals
def animal(p, head, ears, ear_inner=None, muzzle=None, nose="#3b2a14", patches=None,
           ear_kind="round", whiskers=False, blush=True, edge=None):
    edge = edge or QColor(head).darker(130).name()
    outline = QPainterPath()
    ear_paths = []
    if ear_kind == "round":
        for x in (44, 156):
            ear_paths.append(ellipse(x, 30, 58, 58))
    elif ear_kind == "pointed":
        for left, flip in ((50, 1), (206, -1)):
            ear = QPainterPath(QPointF(left, 120))
            ear.lineTo(left + 6 * flip, 26)
            ear.lineTo(left + 82 * flip, 76)
            ear.closeSubpath()
            ear_paths.append(ear)
    elif ear_kind == "long":
        for x in (78, 140):
            ear = QPainterPath()
            ear.addRoundedRect(QRectF(x, 8, 38, 110), 19, 19)
            ear_paths.append(ear)
    elif ear_kind == "floppy":
        for x in (34, 176):
            ear = QPainterPath()
            ear.addEllipse(QRectF(x, 70, 48, 100))
            ear_paths.append(ear)
    head_path = ellipse(34, 52, 188, 176)
    for ear in ear_paths:
        outline = outline.united(ear)
    outline = outline.united(head_path)
    cut_out(p, outline)
    for ear in ear_paths:
        fill(p, ear, ears, QColor(ears).darker(130).name(), 3)
        if ear_inner:
            inner = ear.boundingRect().adjusted(12, 12, -12, -12)
            if ear_kind != "floppy":
                fill(p, ellipse(inner.x(), inner.y(), inner.width(), inner.height()), ear_inner)
    fill(p, head_path, head, edge, 4)
    for patch in patches or ():
        fill(p, patch[0], patch[1])
    if muzzle:
        fill(p, ellipse(88, 140, 80, 62), muzzle)
    for x in (98, 158):
        fill(p, ellipse(x - 10, 118, 20, 24), "#2b2118")
        fill(p, ellipse(x - 4, 122, 7, 8), "#ffffff")
    fill(p, ellipse(116, 150, 24, 16), nose)
    p.setPen(ink(5, "#2b2118"))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(108, 158, 20, 18), 200 * 16, 140 * 16)
    p.drawArc(QRectF(128, 158, 20, 18), 200 * 16, 140 * 16)
    if blush:
        for x in (66, 190):
            fill(p, ellipse(x - 14, 158, 28, 16), QColor(255, 120, 140, 100))
    if whiskers:
        p.setPen(ink(3, "#6b5a4a"))
        for dy in (-6, 6):
            p.drawLine(QPointF(96, 166 + dy), QPointF(54, 160 + 2 * dy))
            p.drawLine(QPointF(160, 166 + dy), QPointF(202, 160 + 2 * dy))


def animal_cat(p):
    animal(p, "#ffa94d", "#ffa94d", "#ffd8a8", "#fff4e6", "#e8590c", ear_kind="pointed",
           whiskers=True)


def animal_dog(p):
    animal(p, "#e9c79c", "#a0703c", None, "#fff8ee", "#3b2a14", ear_kind="floppy")


def animal_bear(p):
    animal(p, "#b07a4f", "#b07a4f", "#e0b48a", "#e8c9a5", "#3b2a14", ear_kind="round")


def animal_panda(p):
    patches = [(ellipse(80, 106, 40, 46), "#212529"), (ellipse(136, 106, 40, 46), "#212529")]
    animal(p, "#f8f9fa", "#212529", None, None, "#212529", patches=patches, ear_kind="round",
           edge="#adb5bd")


def animal_rabbit(p):
    animal(p, "#f1f3f5", "#f1f3f5", "#ffc9c9", "#ffffff", "#f783ac", ear_kind="long",
           edge="#ced4da")


def animal_fox(p):
    patches = [(ellipse(60, 130, 136, 98), "#fff4e6")]
    animal(p, "#fd7e14", "#fd7e14", "#fff4e6", None, "#3b2a14", patches=patches,
           ear_kind="pointed", blush=False)


def animal_frog(p):
    outline = ellipse(30, 70, 196, 150)
    eyes_out = [ellipse(46, 36, 70, 70), ellipse(140, 36, 70, 70)]
    for e in eyes_out:
        outline = outline.united(e)
    cut_out(p, outline)
    fill(p, ellipse(30, 70, 196, 150), "#69db7c", "#2f9e44", 4)
    for e in eyes_out:
        fill(p, e, "#69db7c", "#2f9e44", 4)
    for x in (81, 175):
        fill(p, ellipse(x - 22, 50, 44, 44), "#ffffff")
        fill(p, ellipse(x - 11, 60, 22, 26), "#212529")
    p.setPen(ink(7, "#2b8a3e"))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(66, 110, 124, 70), 200 * 16, 140 * 16)
    for x in (70, 186):
        fill(p, ellipse(x - 16, 150, 32, 18), QColor(255, 120, 140, 110))


def animal_chick(p):
    body = ellipse(40, 46, 176, 180)
    tuft = QPainterPath(QPointF(118, 52))
    tuft.cubicTo(110, 20, 130, 18, 128, 50)
    tuft.cubicTo(140, 22, 156, 30, 138, 54)
    cut_out(p, body.united(tuft))
    fill(p, tuft, "#ffd43b", "#f59f00", 3)
    fill(p, body, "#ffe066", "#f59f00", 4)
    for x in (98, 158):
        fill(p, ellipse(x - 10, 104, 20, 24), "#2b2118")
        fill(p, ellipse(x - 4, 108, 7, 8), "#ffffff")
    beak = QPainterPath(QPointF(110, 138))
    beak.lineTo(146, 138)
    beak.lineTo(128, 164)
    beak.closeSubpath()
    fill(p, beak, "#fd7e14", "#e8590c", 3)
    for x in (72, 184):
        fill(p, ellipse(x - 16, 146, 32, 18), QColor(255, 120, 140, 110))
    wing = QPainterPath(QPointF(44, 150))
    wing.cubicTo(20, 170, 40, 200, 70, 190)
    fill(p, wing, "#fcc419", "#f59f00", 3)


# ---------------------------------------------------------------------- words
def words(text, colour, tilt=-6):
    def draw(p):
        bubble = QPainterPath()
        bubble.addRoundedRect(QRectF(18, 50, 220, 130), 46, 46)
        tail = QPainterPath(QPointF(70, 170))
        tail.lineTo(54, 222)
        tail.lineTo(112, 176)
        tail.closeSubpath()
        shape = bubble.united(tail)
        p.save()
        p.translate(128, 128)
        p.rotate(tilt)
        p.translate(-128, -128)
        cut_out(p, shape)
        fill(p, shape, colour, QColor(colour).darker(135).name(), 4)
        font = QFont("Noto Sans CJK SC")
        font.setBold(True)
        font.setPixelSize(64 if len(text) <= 3 else (52 if len(text) <= 5 else 40))
        p.setFont(font)
        p.setPen(QColor(0, 0, 0, 60))
        p.drawText(QRectF(18, 54, 220, 130), Qt.AlignmentFlag.AlignCenter, text)
        p.setPen(QColor("#ffffff"))
        p.drawText(QRectF(18, 50, 220, 130), Qt.AlignmentFlag.AlignCenter, text)
        p.restore()
    return draw


SETS = [
    ("faces", "sticker_set_faces", [
        ("happy", face_happy), ("laugh", face_laugh), ("love", face_love), ("wink", face_wink),
        ("cool", face_cool), ("surprised", face_surprised), ("sad", face_sad),
        ("angry", face_angry)]),
    ("animals", "sticker_set_animals", [
        ("cat", animal_cat), ("dog", animal_dog), ("bear", animal_bear),
        ("panda", animal_panda), ("rabbit", animal_rabbit), ("fox", animal_fox),
        ("frog", animal_frog), ("chick", animal_chick)]),
    ("words", "sticker_set_words", [
        ("ok", words("OK!", "#40c057")), ("thanks", words("Thanks!", "#4c6ef5", 5)),
        ("xiexie", words("谢谢!", "#f76707")), ("haode", words("好的", "#12b886", 4)),
        ("jiayou", words("加油!", "#f03e3e")), ("wow", words("Wow!", "#be4bdb", 6)),
        ("goodnight", words("Good night", "#364fc7")), ("wanan", words("晚安", "#5f3dc4", 5))]),
]


def render(paint) -> QImage:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    paint(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (fonts need an application)
    index = {"sets": []}
    for key, title, stickers in SETS:
        folder = os.path.join(OUT, key)
        os.makedirs(folder, exist_ok=True)
        entries = []
        for name, paint in stickers:
            path = os.path.join(folder, f"{name}.png")
            if not render(paint).save(path, "PNG", 0):   # 0: smallest file
                raise SystemExit(f"cannot write {path}")
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            entries.append({"name": name, "file": f"{key}/{name}.png", "sha256": digest})
            print("drew", os.path.relpath(path, ROOT))
        index["sets"].append({"key": key, "title": title, "stickers": entries})
    with open(os.path.join(OUT, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
