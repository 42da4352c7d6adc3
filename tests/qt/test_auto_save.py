"""Files saved on arrival: off by default; when on, a file that arrives is saved into the
chosen folder if it is within the size limit (bigger ones wait for a click); pictures are
shown inline either way (a saved one from the folder); a file is saved once, even if its
message comes again; the settings dialog sets all of it."""

import os

import pytest
from PyQt6.QtGui import QColor, QImage

from chat.qtclient.i18n import Translator
from chat.qtclient.settings import Settings
from chat.qtclient.widgets.settings_dialog import SettingsDialog
from tests.qt.support import log_in


def write(path, size) -> str:
    with open(path, "wb") as f:
        f.write(os.urandom(size))
    return path


def picture(path) -> str:
    image = QImage(200, 120, QImage.Format.Format_RGB32)
    image.fill(QColor("#30a46c"))
    assert image.save(path)
    return path


def files_of(state, conv="#lobby"):
    return [i for i in state.log(conv).items if i.file]


def done(item) -> bool:
    return item.transfer is not None and item.transfer.state.value == "done"


@pytest.fixture
def pair(qtbot, server, tmp_dir):
    settings = Settings(os.path.join(tmp_dir, "alice.ini"))
    alice, a = log_in(qtbot, server, "alice", settings=settings,
                      image_dir=os.path.join(tmp_dir, "images"))
    bob, b = log_in(qtbot, server, "bob")
    yield settings, alice, a, bob
    alice.close()
    bob.close()


def test_off_by_default_nothing_is_saved(qtbot, pair, tmp_dir):
    settings, alice, a, bob = pair
    assert settings.auto_save is False
    bob.send_file("#lobby", write(os.path.join(tmp_dir, "notes.bin"), 5000))
    qtbot.waitUntil(lambda: len(files_of(a)) == 1, timeout=10000)
    assert files_of(a)[0].transfer is None               # a card with "Download", no more


def test_files_within_the_limit_are_saved_into_the_folder(qtbot, pair, tmp_dir):
    settings, alice, a, bob = pair
    folder = os.path.join(tmp_dir, "incoming")
    settings.auto_save, settings.auto_save_dir, settings.auto_save_mb = True, folder, 1
    small = write(os.path.join(tmp_dir, "small.bin"), 300 * 1024)
    big = write(os.path.join(tmp_dir, "big.bin"), 1024 * 1024 + 1)     # over 1 MB
    photo = picture(os.path.join(tmp_dir, "photo.png"))
    bob.send_file("#lobby", small)
    qtbot.waitUntil(lambda: len(files_of(a)) == 1 and done(files_of(a)[0]), timeout=10000)
    bob.send_file("#lobby", big)
    qtbot.waitUntil(lambda: len(files_of(a)) == 2, timeout=10000)
    bob.send_file("#lobby", photo)
    qtbot.waitUntil(lambda: len(files_of(a)) == 3 and done(files_of(a)[2]), timeout=15000)
    saved = sorted(os.listdir(folder))
    assert saved == ["photo.png", "small.bin"]            # the big one waits for a click
    with open(os.path.join(folder, "small.bin"), "rb") as f, open(small, "rb") as g:
        assert f.read() == g.read()
    assert files_of(a)[1].transfer is None
    image = files_of(a)[2]
    assert image.is_image and image.transfer.path == os.path.join(folder, "photo.png")
    assert not os.path.exists(os.path.join(tmp_dir, "images", "photo.png"))   # one copy
    # the same message again (a catch-up after a reconnect): not saved a second time
    first = files_of(a)[0]
    a._message({"id": first.msg_id + 1000, "conv": "#lobby", "from": "bob",
                "ts": first.ts, "file": dict(first.file)}, False)
    downloads = [t for t in a.transfers.rows
                 if t.file_id == first.file["id"] and t.direction == "down"]
    assert len(downloads) == 1 and sorted(os.listdir(folder)) == saved


def test_the_settings_dialog_sets_folder_and_limit(qtbot, tmp_dir):
    settings = Settings(os.path.join(tmp_dir, "s.ini"))
    dialog = SettingsDialog(Translator("en"), settings)
    qtbot.addWidget(dialog)
    assert not dialog.auto_save.isChecked() and not dialog.auto_save_mb.isEnabled()
    assert dialog.auto_save_dir.text() == settings.download_dir   # until one is chosen
    dialog.auto_save.setChecked(True)
    assert settings.auto_save and dialog.auto_save_mb.isEnabled()
    dialog.auto_save_mb.setValue(50)
    dialog.auto_save_dir.setText(os.path.join(tmp_dir, "in"))
    dialog.auto_save_dir.editingFinished.emit()
    again = Settings(os.path.join(tmp_dir, "s.ini"))
    assert again.auto_save and again.auto_save_mb == 50
    assert again.auto_save_dir == os.path.join(tmp_dir, "in")
    dialog.translator.set_language("zh")
    assert dialog.auto_save.text() == "自动保存收到的文件"
