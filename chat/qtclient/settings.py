"""What the desktop client remembers between runs (``QSettings``: an INI file per user).

Server address and port, TLS on or off, the last user name, the language (unset until the
first start asked), desktop notifications on or off, the download folder, the admin panel's lock
delay, and per account and conversation the newest message "clear local history" removed.
Passwords are never stored.
"""

import os

from PyQt6.QtCore import QSettings, QStandardPaths

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_LOCK_MINUTES = 5


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

    # -- clear local history
    def cleared(self, account: str, conv: str) -> int:
        return self._get(f"cleared/{_slug(account)}/{_slug(conv)}", 0, int)

    def set_cleared(self, account: str, conv: str, up_to: int) -> None:
        self.q.setValue(f"cleared/{_slug(account)}/{_slug(conv)}", int(up_to))


def _slug(text: str) -> str:
    # QSettings keys treat / and \ as separators
    return "".join(c if c.isalnum() or c in "#@_-." else "_" for c in text.casefold())
