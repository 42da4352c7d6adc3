"""The input bar without a server: Enter and Shift+Enter, privacy mode, emoji, pasted
pictures and files, dropped files, the placeholder in both languages."""

import os

import pytest
from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QColor, QDropEvent, QImage
from PyQt6.QtTest import QTest

from chat.qtclient.i18n import Translator
from chat.qtclient.widgets.emoji import EmojiPicker, all_emoji
from chat.qtclient.widgets.input import InputBar, save_pasted_image

OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture
def translator():
    return Translator("en")


@pytest.fixture
def bar(qtbot, translator):
    widget = InputBar(translator)
    qtbot.addWidget(widget)
    widget.set_enabled_for("#lobby")
    return widget


def type_text(bar, text):
    QTest.keyClicks(bar.editor, text)


def test_enter_sends_and_shift_enter_adds_a_line(qtbot, bar):
    type_text(bar, "hello")
    QTest.keyClick(bar.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    type_text(bar, "world  ")
    assert bar.text() == "hello\nworld  "
    with qtbot.waitSignal(bar.sendText, timeout=1000) as blocker:
        QTest.keyClick(bar.editor, Qt.Key.Key_Return)
    assert blocker.args == ["hello\nworld", False]
    assert bar.text() == ""


def test_empty_text_sends_nothing_and_the_button_sends_too(qtbot, bar):
    sent = []
    bar.sendText.connect(lambda text, burn: sent.append(text))
    type_text(bar, "   ")
    QTest.keyClick(bar.editor, Qt.Key.Key_Enter)
    assert sent == []
    bar.editor.clear()
    type_text(bar, "via button")
    QTest.mouseClick(bar.send_button, Qt.MouseButton.LeftButton)
    assert sent == ["via button"]


def test_privacy_mode_sends_burn(qtbot, bar):
    QTest.mouseClick(bar.burn_button, Qt.MouseButton.LeftButton)
    assert bar.privacy_mode()
    type_text(bar, "secret")
    with qtbot.waitSignal(bar.sendText, timeout=1000) as blocker:
        QTest.keyClick(bar.editor, Qt.Key.Key_Return)
    assert blocker.args == ["secret", True]
    assert bar.privacy_mode()                  # a mode: it stays on for the next message


@OFFSCREEN
def test_emoji_picker_inserts_at_the_cursor(qtbot, bar, translator):
    type_text(bar, "ab")
    cursor = bar.editor.textCursor()
    cursor.setPosition(1)
    bar.editor.setTextCursor(cursor)
    bar.open_emoji()
    picker = bar.picker
    assert isinstance(picker, EmojiPicker) and picker.isVisible()
    assert len(all_emoji()) >= 100 and picker.tabs.count() >= 4
    QTest.mouseClick(picker.buttons["🎉"], Qt.MouseButton.LeftButton)
    assert bar.text() == "a🎉b"
    assert not picker.isVisible()
    translator.set_language("zh")
    assert picker.tabs.tabText(0) == "笑脸"


def test_pasting_a_picture_sends_a_png_file(qtbot, bar):
    image = QImage(30, 20, QImage.Format.Format_RGB32)
    image.fill(QColor("orange"))
    mime = QMimeData()
    mime.setImageData(image)
    with qtbot.waitSignal(bar.sendFiles, timeout=1000) as blocker:
        bar.editor.insertFromMimeData(mime)
    (path,) = blocker.args[0]
    try:
        assert os.path.isfile(path)
        assert os.path.basename(path).startswith("pasted-") and path.endswith(".png")
        assert QImage(path).size() == image.size()
    finally:
        os.remove(path)
    assert bar.text() == ""


def test_pasted_pictures_never_overwrite_each_other(tmp_dir):
    image = QImage(4, 4, QImage.Format.Format_RGB32)
    image.fill(QColor("blue"))
    first = save_pasted_image(image, tmp_dir)
    second = save_pasted_image(image, tmp_dir)
    assert first != second and os.path.isfile(first) and os.path.isfile(second)


def test_pasting_files_sends_them_and_text_stays_text(qtbot, bar, tmp_dir):
    path = os.path.join(tmp_dir, "report.pdf")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(path)])
    with qtbot.waitSignal(bar.sendFiles, timeout=1000) as blocker:
        bar.editor.insertFromMimeData(mime)
    assert blocker.args == [[path]]
    text = QMimeData()
    text.setText("just words 你好")
    text.setHtml("<b>just words</b>")
    bar.editor.insertFromMimeData(text)
    assert bar.text() == "just words 你好"


def test_dropping_files_on_the_bar(qtbot, bar, tmp_dir):
    paths = [os.path.join(tmp_dir, "a.png"), os.path.join(tmp_dir, "b.txt")]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(bar.sendFiles, timeout=1000) as blocker:
        bar.dropEvent(event)
    assert blocker.args == [paths]
    assert event.isAccepted()


def test_placeholder_names_the_conversation_in_both_languages(bar, translator):
    assert bar.editor.placeholder() == "Message #lobby"
    bar.set_enabled_for("@alice")
    assert bar.editor.placeholder() == "Message alice"
    translator.set_language("zh")
    assert bar.editor.placeholder() == "发消息给 alice"
    assert bar.send_button.text() == "发送"
    bar.set_enabled_for("")
    assert not bar.editor.isEnabled() and bar.editor.placeholder() == "请在左侧选择一个会话"


@OFFSCREEN
def test_the_field_grows_with_its_lines_up_to_a_limit(qtbot, bar):
    bar.resize(600, 80)
    bar.show()
    qtbot.waitExposed(bar)
    one = bar.editor.height()
    bar.editor.setPlainText("1\n2\n3")
    three = bar.editor.height()
    bar.editor.setPlainText("\n".join(str(i) for i in range(30)))
    many = bar.editor.height()
    assert one < three < many
    assert many < one * 8
