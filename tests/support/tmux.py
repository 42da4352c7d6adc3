"""Run a program in a tmux pane and read its screen, as a person at a terminal sees it.

Each :class:`TmuxPane` has a tmux server of its own (``-L`` socket name), so tests never touch
a user's tmux; ``close()`` ends that server and the program in it. ``wait_for`` polls the
screen from the reactor, so a server process driven by the same test keeps running.
"""

import itertools
import os
import re
import shlex
import subprocess
import sys

from twisted.internet import reactor, task

from tests.support.cli_process import PASSWORD, CliFailed
from tests.support.server_process import child_env

_panes = itertools.count(1)


class TmuxPane:
    """One program in one tmux window of ``width`` x ``height`` cells."""

    def __init__(self, command: str, width: int = 80, height: int = 24, env=None):
        self.socket = f"chat-test-{os.getpid()}-{next(_panes)}"
        self.env = env
        self._tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                   "-c", os.getcwd(), command)

    @classmethod
    def chat_cli(cls, port: int, user: str, *args, err_path: str, password: str = PASSWORD,
                 lang: str = "en", env_extra: dict = None, **kw):
        """``chat-cli`` full screen; after it ends the pane shows ``EXIT=<status>``."""
        # a config folder of its own: an interactive chat-cli remembers its last server there
        config = os.path.join(os.path.dirname(os.path.abspath(err_path)), "config")
        env = {"CHAT_PASSWORD": password, "PYTHONPATH": child_env()["PYTHONPATH"],
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "XDG_CONFIG_HOME": config,
               **(env_extra or {})}
        argv = [sys.executable, "-m", "chat.cli", "--host", "127.0.0.1", "--port", str(port),
                "--user", user, "--lang", lang, *args]
        settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = (f"env {settings} {shlex.join(argv)} 2>{shlex.quote(err_path)}; "
                   "echo EXIT=$?; sleep 600")
        pane = cls(command, **kw)
        pane.err_path = err_path
        return pane

    def _tmux(self, *args) -> str:
        env = dict(os.environ)
        env.pop("TMUX", None)
        env["TERM"] = "xterm-256color"
        result = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                                capture_output=True, text=True, env=env, timeout=10)
        if result.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {result.stderr.strip()}")
        return result.stdout

    # -- driving
    def keys(self, *keys: str) -> None:
        """tmux key names: ``Enter``, ``Tab``, ``Up``, ``Left``, ``BSpace``, ``C-d``, ``M-2``."""
        self._tmux("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        """``text`` as typed (literally, any characters)."""
        self._tmux("send-keys", "-t", "t", "-l", text)

    # -- reading
    def screen(self, colours: bool = False) -> str:
        return self._tmux("capture-pane", "-p", *(["-e"] if colours else []), "-t", "t")

    def rows(self) -> list[str]:
        return [row.rstrip() for row in self.screen().split("\n")]

    def cursor(self) -> tuple[int, int]:
        x, y = self._tmux("display-message", "-p", "-t", "t", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    def errors(self) -> str:
        with open(self.err_path, encoding="utf-8") as f:
            return f.read()

    async def wait_for(self, pattern: str, timeout: float = 20, colours: bool = False) -> str:
        """Wait until the screen matches ``pattern`` (re.M); returns the screen."""
        regex = re.compile(pattern, re.MULTILINE)
        waited = 0.0
        while True:
            screen = self.screen(colours)
            if regex.search(screen):
                return screen
            if waited >= timeout:
                raise CliFailed(f"no {pattern!r} on the screen within {timeout} s:\n{screen}"
                                f"\n--- stderr ---\n{self.errors()}")
            await task.deferLater(reactor, 0.05, lambda: None)
            waited += 0.05

    def close(self) -> None:
        try:
            self._tmux("kill-server")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
