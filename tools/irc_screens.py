"""irssi against the IRC gateway, driven in tmux: ``python tools/irc_screens.py``.

Starts a real ``twistd chatserver --irc-port`` on 127.0.0.1 with a fresh data directory,
adds three accounts with ``chatctl adduser``, starts irssi (Debian package ``irssi``) in a
tmux session of its own as ``bob`` (SASL PLAIN, the README's commands), lets two native
users (``alice`` and ``张伟``, on the native protocol) talk with him in ``#lobby`` and
privately, and writes what the terminal shows to ``docs/screenshots/irc-irssi-lobby.txt``
and ``docs/screenshots/irc-irssi-private.txt``. Everything it starts is stopped at the end.
"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from chat.protocol.codec import control_frame  # noqa: E402

BIN = os.path.dirname(sys.executable)
OUT = os.path.join(ROOT, "docs", "screenshots")
USERS = {"alice": "alice-password", "bob": "bob-password", "张伟": "zhang-password"}
TMUX = ["tmux", "-L", "chat-irc-screens"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"the server did not listen on {port}")


class Native:
    """A native client: logs in, sends requests, reads nothing back (it only talks)."""

    def __init__(self, port: int, name: str):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.ids = 0
        self.request("hello", version=1, client="irc_screens")
        self.request("login", username=name, password=USERS[name])

    def request(self, kind: str, **fields) -> dict:
        self.ids += 1
        self.sock.sendall(control_frame({"type": kind, "id": self.ids, **fields}))
        while True:
            size = struct.unpack(">I", self.sock.recv(4, socket.MSG_WAITALL))[0]
            frame = json.loads(self.sock.recv(size, socket.MSG_WAITALL))
            if frame.get("id") == self.ids:
                return frame

    def close(self) -> None:
        self.sock.close()


def keys(*lines: str, pause: float = 0.6) -> None:
    for line in lines:
        subprocess.run(TMUX + ["send-keys", "-t", "irc", line, "Enter"], check=True)
        time.sleep(pause)


def screen() -> str:
    text = subprocess.run(TMUX + ["capture-pane", "-p", "-t", "irc"], check=True,
                          capture_output=True, text=True).stdout
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip() + "\n"


def wait_screen(text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen()
        if text in shown:
            return shown
        time.sleep(0.2)
    raise SystemExit(f"irssi never showed {text!r}:\n{screen()}")


def main() -> None:
    if shutil.which("irssi") is None or shutil.which("tmux") is None:
        raise SystemExit("needs irssi and tmux (apt-get install irssi tmux)")
    base = tempfile.mkdtemp(prefix="chat-irc-screens-")
    data, home = os.path.join(base, "data"), os.path.join(base, "home")
    os.makedirs(home)
    port, irc_port = free_port(), free_port()
    log = open(os.path.join(base, "server.log"), "wb")
    server = subprocess.Popen(
        [os.path.join(BIN, "twistd"), "-n", "--pidfile=", "--logfile=-", "chatserver",
         "--data-dir", data, "--port", f"tcp:{port}:interface=127.0.0.1",
         "--irc-port", f"tcp:{irc_port}:interface=127.0.0.1", "--name", "School Chat",
         "--irc-server-name", "irc.school.test"], stdout=log, stderr=subprocess.STDOUT)
    natives = []
    try:
        wait_port(port)
        for name, password in USERS.items():
            subprocess.run([os.path.join(BIN, "chatctl"), "--data-dir", data, "adduser", name],
                           input=password + "\n", text=True, check=True, capture_output=True)
        env = f"env HOME={home} TERM=tmux-256color LANG=C.UTF-8"
        subprocess.run(TMUX + ["new-session", "-d", "-s", "irc", "-x", "96", "-y", "24",
                               f"{env} irssi -n bob"], check=True)
        time.sleep(1.5)
        keys("/set timestamp_format %H:%M",
             "/network add -sasl_username bob -sasl_password bob-password "
             "-sasl_mechanism PLAIN school",
             f"/server add -network school 127.0.0.1 {irc_port}",
             "/connect school")
        wait_screen("End of /MOTD")
        keys("/window 2")
        wait_screen("synced")
        keys("/clear")
        alice = Native(port, "alice")
        zhang = Native(port, "张伟")
        natives += [alice, zhang]
        time.sleep(0.8)
        alice.request("send", to="#lobby", text="Hi bob, welcome! Are you on IRC?", cid="a1")
        time.sleep(0.3)
        zhang.request("send", to="#lobby", text="大家好！我用的是桌面客户端。", cid="z1")
        time.sleep(0.3)
        alice.request("set_topic", room="lobby", topic="Homework questions / 作业问题")
        time.sleep(0.3)
        keys("Yes, I am in irssi. 你好 张伟!", "/me waves")
        zhang.request("send", to="#lobby", text="你好 bob 👋", cid="z2")
        wait_screen("你好 bob")
        keys("/names")
        with open(os.path.join(OUT, "irc-irssi-lobby.txt"), "w", encoding="utf-8") as out:
            out.write(wait_screen("Total of 3 nicks"))
        alice.request("send", to="@bob", text="Did you get the worksheet?", cid="a2")
        time.sleep(0.5)
        keys("/window 3", "Yes, thanks alice!")
        wait_screen("thanks alice")
        with open(os.path.join(OUT, "irc-irssi-private.txt"), "w", encoding="utf-8") as out:
            out.write(screen())
        keys("/quit")
    finally:
        for native in natives:
            native.close()
        subprocess.run(TMUX + ["kill-server"], capture_output=True)
        server.terminate()
        server.wait(20)
        log.close()
        shutil.rmtree(base, ignore_errors=True)
    print("wrote docs/screenshots/irc-irssi-lobby.txt and irc-irssi-private.txt")


if __name__ == "__main__":
    main()
