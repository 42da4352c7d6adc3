"""What the desktop client remembers between runs (``QSettings``: an INI file per user).

Server address and port (and other nodes of the same chat), TLS on or off, the last user name, the language (unset until the
first start asked), desktop notifications on or off, the download folder, the admin panel's lock
delay, the theme (system, light or dark), saving incoming files on arrival (off, the folder, the
size limit, and per account the files saved already), and per account and conversation the
newest message "clear local history" removed. Passwords are never stored.
"""

import os

from PyQt6.QtCore import QSettings, QStandardPaths

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_LOCK_MINUTES = 5
DEFAULT_AUTO_SAVE_MB = 20
AUTO_SAVED_KEPT = 500
"""File ids remembered per account as saved on arrival (a login's catch-up may bring a
message again: its file is not saved twice)."""


class Settings:
    """Typed access to the client's ``QSettings``; ``path`` picks a file (tests use one)."""

    def __init__(self, path: str = None):
        if path is None:
            self.q = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                               "chat", "chat-qt")
        else:
            self.q = QSettings(path, QSettings.Format.IniFormat)

    def _get(self, key: str, default, kind):
        value = self.q.value(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    def sync(self) -> None:
        self.q.sync()

    # -- language: None until chosen
    @property
    def language(self):
        value = self.q.value("language")
        return value if value in ("en", "zh") else None

    @language.setter
    def language(self, lang: str) -> None:
        self.q.setValue("language", lang)

    # -- where to connect
    @property
    def host(self) -> str:
        return self._get("server/host", DEFAULT_HOST, str) or DEFAULT_HOST

    @host.setter
    def host(self, value: str) -> None:
        self.q.setValue("server/host", value)

    @property
    def other_servers(self) -> str:
        """Other nodes of the same chat, tried in turn after the server above: the login
        window's list as typed (``host[:port], ...``; chat.client.servers reads it)."""
        return self._get("server/others", "", str)

    @other_servers.setter
    def other_servers(self, value: str) -> None:
        self.q.setValue("server/others", value)

    @property
    def port(self) -> int:
        return self._get("server/port", DEFAULT_PORT, int)

    @port.setter
    def port(self, value: int) -> None:
        self.q.setValue("server/port", int(value))

    @property
    def tls(self) -> bool:
        """Connect with TLS (the server's certificate pinned on first use)."""
        return self._get("server/tls", "false", str).lower() in ("true", "1", "yes")

    @tls.setter
    def tls(self, on: bool) -> None:
        self.q.setValue("server/tls", "true" if on else "false")

    @property
    def ca_file(self) -> str:
        """A CA certificate (PEM) to check the TLS server against; empty: pin on first use."""
        return self._get("server/ca_file", "", str)

    @ca_file.setter
    def ca_file(self, path: str) -> None:
        self.q.setValue("server/ca_file", path)

    @property
    def system_ca(self) -> bool:
        """Check the TLS server against the system's certificate authorities."""
        return self._get("server/system_ca", "false", str).lower() in ("true", "1", "yes")

    @system_ca.setter
    def system_ca(self, on: bool) -> None:
        self.q.setValue("server/system_ca", "true" if on else "false")

    @property
    def user(self) -> str:
        return self._get("server/user", "", str)

    @user.setter
    def user(self, value: str) -> None:
        self.q.setValue("server/user", value)

    # -- behaviour
    @property
    def notifications(self) -> bool:
        return self._get("notifications", "true", str).lower() in ("true", "1", "yes")

    @notifications.setter
    def notifications(self, on: bool) -> None:
        self.q.setValue("notifications", "true" if on else "false")

    @property
    def download_dir(self) -> str:
        default = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DownloadLocation) or os.path.expanduser("~")
        return self._get("download_dir", default, str) or default

    @download_dir.setter
    def download_dir(self, path: str) -> None:
        self.q.setValue("download_dir", path)

    @property
    def lock_minutes(self) -> int:
        return max(1, self._get("admin/lock_minutes", DEFAULT_LOCK_MINUTES, int))

    @lock_minutes.setter
    def lock_minutes(self, minutes: int) -> None:
        self.q.setValue("admin/lock_minutes", int(minutes))

    @property
    def theme(self) -> str:
        """"system" (follow the desktop), "light" or "dark"."""
        value = self._get("theme", "system", str)
        return value if value in ("system", "light", "dark") else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.q.setValue("theme", value)

    # -- files saved on arrival
    @property
    def auto_save(self) -> bool:
        return self._get("auto_save/on", "false", str).lower() in ("true", "1", "yes")

    @auto_save.setter
    def auto_save(self, on: bool) -> None:
        self.q.setValue("auto_save/on", "true" if on else "false")

    @property
    def auto_save_dir(self) -> str:
        """Where incoming files are saved on arrival (the download folder until chosen)."""
        return self._get("auto_save/dir", "", str) or self.download_dir

    @auto_save_dir.setter
    def auto_save_dir(self, path: str) -> None:
        self.q.setValue("auto_save/dir", path)

    @property
    def auto_save_mb(self) -> int:
        """Files up to this many MiB are saved on arrival; bigger ones wait for a click."""
        return max(1, self._get("auto_save/max_mb", DEFAULT_AUTO_SAVE_MB, int))

    @auto_save_mb.setter
    def auto_save_mb(self, mb: int) -> None:
        self.q.setValue("auto_save/max_mb", int(mb))

    def auto_saved(self, account: str) -> list:
        value = self.q.value(f"auto_saved/{_slug(account)}", "")
        if isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        return [int(v) for v in str(value or "").split(",") if v.strip().isdigit()]

    def add_auto_saved(self, account: str, file_id: int) -> None:
        ids = [i for i in self.auto_saved(account) if i != file_id] + [int(file_id)]
        self.q.setValue(f"auto_saved/{_slug(account)}",
                        ",".join(map(str, ids[-AUTO_SAVED_KEPT:])))

    # -- clear local history
    def cleared(self, account: str, conv: str) -> int:
        return self._get(f"cleared/{_slug(account)}/{_slug(conv)}", 0, int)

    def set_cleared(self, account: str, conv: str, up_to: int) -> None:
        self.q.setValue(f"cleared/{_slug(account)}/{_slug(conv)}", int(up_to))


def _slug(text: str) -> str:
    # QSettings keys treat / and \ as separators
    return "".join(c if c.isalnum() or c in "#@_-." else "_" for c in text.casefold())
