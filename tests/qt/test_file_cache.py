"""Each content once, found by its SHA-256 (issue 14, defect 11): a picture shown inline is not
fetched again at the next login (it was: ``diagram (1).png``, ``diagram (2).png``), nor when
the same picture is sent again; a file saved before is recognised by its hash, not saved a
second time; a copy changed on the disk since is not taken for it."""

import hashlib
import json
import os

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage

from chat.client.transfers import TransferState, sha256_of
from chat.qtclient.cache import INDEX, FileCache
from tests.qt.test_app import close, log_in, make_app
from twisted.internet import defer


def sync(f, *args):
    """The cache's ``run`` in unit tests: the call itself, now."""
    try:
        return defer.succeed(f(*args))
    except Exception:
        return defer.fail()


def result(d):
    out = []
    d.addBoth(out.append)
    assert out, "the Deferred did not fire"
    if hasattr(out[0], "raiseException"):
        out[0].raiseException()
    return out[0]


def write(path, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------- the cache alone
def test_a_picture_in_its_content_folder_is_found_and_checked(tmp_path):
    hashed = []

    def counting_hash(path):
        hashed.append(path)
        return sha256_of(path)
    cache = FileCache(str(tmp_path / "images"), run=sync, hash=counting_hash)
    data = b"\x89PNG picture bytes"
    digest = sha(data)
    assert result(cache.find(digest, len(data))) is None          # nothing here yet
    folder = cache.folder_for(digest)
    write(os.path.join(folder, ".chat-7.part"), data)            # a partial is no copy
    assert result(cache.find(digest, len(data))) is None
    path = write(os.path.join(folder, "diagram.png"), data)
    assert result(cache.find(digest, len(data))) == path
    assert path in hashed                                          # checked, not trusted
    # changed on the disk (same size, other bytes): not this content any more
    write(path, b"\x89PNG pictures bytes"[:len(data)])
    assert result(cache.find(digest, len(data))) is None
    assert result(cache.find("not a hash", 3)) is None


def test_a_saved_file_is_recognised_by_its_hash(tmp_path):
    cache = FileCache(str(tmp_path / "images"), run=sync)
    downloads = str(tmp_path / "Downloads")
    data = os.urandom(5000)
    digest = sha(data)
    # saved earlier under its name or a numbered one, never remembered: found by name and hash
    write(os.path.join(downloads, "report.pdf"), os.urandom(5000))     # another file
    second = write(os.path.join(downloads, "report (1).pdf"), data)
    assert result(cache.known(digest, len(data), downloads, "report.pdf")) == second
    # ... and remembered from then on, also under another name
    index = json.load(open(os.path.join(cache.folder, INDEX)))
    assert index == {digest: second}
    fresh = FileCache(cache.folder, run=sync)                      # the next start
    assert result(fresh.known(digest, len(data), downloads, "other.pdf")) == second
    assert result(fresh.find(digest, len(data))) == second         # inline pictures too
    # moved away: not known any more
    os.rename(second, os.path.join(downloads, "kept.pdf"))
    assert result(FileCache(cache.folder, run=sync).known(
        digest, len(data), downloads, "other.pdf")) is None


def test_a_damaged_index_or_a_hostile_name_is_no_copy(tmp_path):
    folder = str(tmp_path / "images")
    write(os.path.join(folder, INDEX), b"{not json")
    cache = FileCache(folder, run=sync)
    data = b"abc"
    assert result(cache.known(sha(data), 3, str(tmp_path), "../../etc/passwd")) is None
    path = write(str(tmp_path / "a.txt"), data)
    result(cache.remember(sha(data), path))
    assert result(FileCache(folder, run=sync).known(sha(data), 3, None, None)) == path


# ---------------------------------------------------------------------- the client
def picture(tmp_dir, name="diagram.png", colour="#3e63dd") -> str:
    path = os.path.join(tmp_dir, name)
    image = QImage(160, 100, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(path)
    return path


def copies(folder) -> list:
    """Every file under ``folder`` (the index and partial files left out)."""
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, n) for n in names
                  if n != INDEX and not n.startswith(".")]
    return sorted(found)


def pictures(state, conv="#lobby"):
    return [i for i in state.log(conv).items if i.is_image]


def shown(item) -> bool:
    from chat.qtclient.widgets.messages.files import local_image
    return local_image(item) is not None


def downloads_of(state) -> list:
    return [t for t in state.transfers.rows if t.direction == "down"]


def test_inline_pictures_are_fetched_once_across_logins(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        a_main.input.sendFiles.emit([picture(tmp_dir)])
        qtbot.waitUntil(lambda: len(pictures(bob.state)) == 1 and shown(pictures(bob.state)[0]),
                        timeout=10000)
        assert len(downloads_of(bob.state)) == 1
        cached = copies(bob.image_dir)
        assert len(cached) == 1 and cached[0].endswith("diagram.png")
        # logged out and in again: the history shows it, nothing is fetched or written
        bob.logout()
        log_in(qtbot, bob, "bob", register=False)
        qtbot.waitUntil(lambda: len(pictures(bob.state)) == 1
                        and shown(pictures(bob.state)[0]), timeout=10000)
        assert downloads_of(bob.state) == []
        assert copies(bob.image_dir) == cached                     # no "diagram (1).png"
        # the same picture again (a new file on the server): shown from the copy here
        a_main.input.sendFiles.emit([picture(tmp_dir)])
        qtbot.waitUntil(lambda: len(pictures(bob.state)) == 2
                        and all(shown(i) for i in pictures(bob.state)), timeout=10000)
        assert downloads_of(bob.state) == [] and copies(bob.image_dir) == cached
        # alice's second card became its message, though the server published it at the offer
        # (it held that content): two pictures on her side too, no twin, none pending
        qtbot.waitUntil(lambda: all(i.msg_id is not None for i in pictures(alice.state)),
                        timeout=10000)
        assert len(pictures(alice.state)) == 2
        # the sender's own pictures: her original is the copy, at her next login too
        alice.logout()
        log_in(qtbot, alice, "alice", register=False)
        qtbot.waitUntil(lambda: len(pictures(alice.state)) == 2
                        and all(shown(i) for i in pictures(alice.state)), timeout=10000)
        assert downloads_of(alice.state) == [] and copies(alice.image_dir) == []
    finally:
        close(alice, bob)


def click(qtbot, main, row, action):
    main.view.scrollToBottom()
    rect = main.view.action_rect(row, action)
    assert rect is not None, action
    qtbot.mouseClick(main.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_file_saved_before_is_not_saved_again(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        path = write(os.path.join(tmp_dir, "notes.bin"), os.urandom(300 * 1024))
        a_main.input.sendFiles.emit([path])
        files = lambda: [i for i in bob.state.log("#lobby").items if i.file]  # noqa: E731
        qtbot.waitUntil(lambda: len(files()) == 1, timeout=10000)
        model = bob.state.log("#lobby")
        click(qtbot, b_main, model.items.index(files()[0]), "download")
        qtbot.waitUntil(lambda: files()[0].transfer.state is TransferState.DONE, timeout=10000)
        saved = copies(bob.settings.download_dir)
        assert [os.path.basename(p) for p in saved] == ["notes.bin"]
        # the next login: Download again shows the copy saved before, says so, writes nothing
        bob.logout()
        b_main = log_in(qtbot, bob, "bob", register=False)
        qtbot.waitUntil(lambda: len(files()) == 1, timeout=10000)
        model = bob.state.log("#lobby")
        with qtbot.waitSignal(bob.state.alreadySaved, timeout=10000) as told:
            click(qtbot, b_main, model.items.index(files()[0]), "download")
        assert told.args == [saved[0]]
        assert "notes.bin" in b_main.statusBar().currentMessage()
        item = files()[0]
        assert item.transfer.state is TransferState.DONE and item.transfer.path == saved[0]
        assert b_main.view.action_rect(model.items.index(item), "open") is not None
        assert copies(bob.settings.download_dir) == saved and downloads_of(bob.state) == []
        # changed on the disk since: that is not the file any more, it is fetched again
        write(saved[0], os.urandom(300 * 1024))
        bob.logout()
        b_main = log_in(qtbot, bob, "bob", register=False)
        qtbot.waitUntil(lambda: len(files()) == 1, timeout=10000)
        click(qtbot, b_main, bob.state.log("#lobby").items.index(files()[0]), "download")
        qtbot.waitUntil(lambda: getattr(files()[0].transfer, "state", None)
                        is TransferState.DONE and not getattr(files()[0].transfer, "cached",
                                                              False), timeout=10000)
        assert [os.path.basename(p) for p in copies(bob.settings.download_dir)] == [
            "notes (1).bin", "notes.bin"]
    finally:
        close(alice, bob)


def test_saving_on_arrival_keeps_one_copy_of_a_content(qtbot, server, tmp_dir):
    """The same file sent twice (two files on the server, one content) is saved once; both
    messages show that copy."""
    from chat.qtclient.settings import Settings
    from tests.qt.support import log_in as session_for
    settings = Settings(os.path.join(tmp_dir, "alice.ini"))
    folder = os.path.join(tmp_dir, "incoming")
    settings.auto_save, settings.auto_save_dir, settings.auto_save_mb = True, folder, 5
    alice, a = session_for(qtbot, server, "alice", settings=settings,
                           image_dir=os.path.join(tmp_dir, "images"))
    bob, b = session_for(qtbot, server, "bob")
    try:
        path = write(os.path.join(tmp_dir, "slides.pdf"), os.urandom(200 * 1024))
        files = lambda: [i for i in a.log("#lobby").items if i.file]  # noqa: E731
        done = lambda item: getattr(item.transfer, "state", None) is TransferState.DONE  # noqa
        bob.send_file("#lobby", path)
        qtbot.waitUntil(lambda: len(files()) == 1 and done(files()[0]), timeout=10000)
        bob.send_file("#lobby", path)
        qtbot.waitUntil(lambda: len(files()) == 2 and done(files()[1]), timeout=10000)
        assert files()[0].file["id"] != files()[1].file["id"]
        assert os.listdir(folder) == ["slides.pdf"]                  # not "slides (1).pdf"
        assert files()[1].transfer.path == files()[0].transfer.path
    finally:
        alice.close()
        bob.close()
