"""The login window: server, user name and password, or a new account with a picture.

Below the server, "Other servers" lists more nodes of the same chat (``host[:port], ...``, an
entry without a port takes the port above): the client tries them in turn when one does not
answer, on the login and on every reconnect (chat.client.servers). The list is saved in the
settings with the server.

The window only collects and checks what the user typed; it never connects. A valid form
emits ``submitted``; the app logs in through the session, then calls ``set_busy(False)`` and,
on failure, ``show_error(describe_login_error(...))``. The rules checked here are the
server's own (chat.protocol.names), so that the user hears of a short password before a
round trip, in their language.
"""

import math
import os
import re

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont, QPainter, QPainterPath, QPixmap
from PyQt6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QVBoxLayout, QWidget)

from chat.cli.format import human_size
from chat.protocol.errors import ProtocolError
from chat.protocol.limits import AVATAR_MAX
from chat.protocol.names import NAME_MAX, PASSWORD_MAX, PASSWORD_MIN, normalise_name
from chat.qtclient.errors import describe_error, describe_reason
from chat.qtclient.i18n import LANGUAGE_NAMES, LANGUAGES

AVATAR_SIZE = 64
"""Side of the avatar preview, in pixels."""

ERROR_STYLE = "color: #b3261e;"
"""A dark red that stays readable on the light and the grey window backgrounds."""

# the server checks the first bytes against the announced type (handlers/accounts.py), so
# the type is taken from the bytes, never from the file name
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes):
    """The MIME type of a PNG, JPEG, GIF or WebP picture from its first bytes, else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    return None


def describe_login_error(translator, failure_value, host: str, port: int,
                         user: str = None) -> str:
    """What went wrong with a login, in the user's language.

    ``failure_value`` is the exception (or the Failure) the session's ``login`` failed with;
    ``user`` names the account for ``name_taken`` (else it is read from the server's message).
    """
    # the client core (and Twisted's TLS under it) is loaded once the login window shows,
    # not before: the first window comes up sooner (bench/qt_startup.py)
    from chat.client.connection import RequestFailed
    from chat.client.core import CannotConnect
    from chat.client.tls import CertificateChanged, TLSFailed
    exc = getattr(failure_value, "value", failure_value)
    tr = translator.tr
    if isinstance(exc, CannotConnect) and isinstance(exc.error, CertificateChanged):
        cause = exc.error
        return tr("login_cert_changed", server=cause.server, path=cause.known_servers,
                  pinned=_two_lines(cause.pinned), presented=_two_lines(cause.presented))
    if isinstance(exc, CannotConnect) and isinstance(exc.error, TLSFailed):
        return tr("tls_failed", host=host, port=port, reason=describe_reason(tr, exc.reason))
    from chat.client.servers import NoServerAnswered
    if isinstance(exc, CannotConnect) and isinstance(exc.error, NoServerAnswered):
        # several servers, none answered: each with its own reason
        from chat.client.core import describe_connect_error
        separator = "; " if tr("reason_lost") == "connection lost" else "；"
        return tr("servers_unreachable", reasons=separator.join(
            tr("server_reason", server=str(server),
               reason=describe_reason(tr, describe_connect_error(error)))
            for server, error in exc.error.failures))
    if isinstance(exc, CannotConnect):
        return tr("server_unreachable", host=host, port=port,
                  reason=describe_reason(tr, exc.reason))
    if not isinstance(exc, RequestFailed):
        return tr("login_failed", message=describe_reason(tr, str(exc) or type(exc).__name__))
    code, message = exc.code, exc.message or ""
    if code == "bad_credentials":
        return tr("bad_credentials")
    if code == "rate_limited":
        # too many failed logins (or registrations) from here: the server says how long to wait
        return tr("login_rate_limited", seconds=math.ceil(exc.retry_after or 1))
    if code == "name_taken":
        account = re.match(r"(.+) is the name of an account", message)
        if account:          # a guest login under an account's name
            return tr("err_account_name", name=account.group(1))
        if user is None:
            found = re.search(r"the name (.+) is taken", message)
            user = found.group(1) if found else ""
        return tr("name_taken", user=user)
    if code == "banned":
        # the server says "this account is banned: spam"; the shared text says the first half
        reason = message.partition(":")[2].strip()
        return tr("banned", reason=tr("login_ban_reason", reason=reason) if reason else "").strip()
    if code == "bad_request":
        # register's rules (chat.protocol.names): "password must be 8 to 1024 characters",
        # "field 'username' must be 1 to 32 characters" / "... may hold only letters, ..."
        if message.startswith("password"):
            return tr("login_password_rule", min=PASSWORD_MIN, max=PASSWORD_MAX)
        if "'username'" in message:
            return tr("login_bad_name", max=NAME_MAX)
    return tr("login_failed", message=describe_error(translator, code, message))


def _two_lines(fingerprint: str) -> str:
    """A SHA-256 fingerprint (95 characters, no space) in two halves, to fit the window."""
    parts = fingerprint.split(":")
    half = (len(parts) + 1) // 2
    return ":".join(parts[:half]) + ":\n" + ":".join(parts[half:]) if half else fingerprint


def round_avatar(data: bytes, size: int = AVATAR_SIZE):
    """``data`` decoded, cut to its centre square and drawn in a circle; None if not a picture."""
    source = QPixmap()
    if not source.loadFromData(data):
        return None
    scaled = source.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                           Qt.TransformationMode.SmoothTransformation)
    result = QPixmap(size, size)
    result.fill(Qt.GlobalColor.transparent)
    painter = QPainter(result)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addEllipse(0, 0, size, size)
    painter.setClipPath(path)
    painter.drawPixmap((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return result


class LoginWindow(QWidget):
    """Log in or register; see the module docstring.

    ``submitted(host, port, user, password, register, avatar)``: ``avatar`` is None or
    ``(mime type, bytes)`` (only when registering).
    """

    submitted = pyqtSignal(str, int, str, str, bool, object)

    def __init__(self, translator, settings, parent=None):
        super().__init__(parent)
        self.translator = translator
        self.settings = settings
        self._avatar = None          # (mime, bytes) of the picked picture
        self._avatar_name = ""
        self._busy = False
        self._error = None           # (key, params) to re-word on a language switch, or text
        # the height the window had before an error (or the new account's rows) grew it, and
        # the height it grew to: shrunk back when they go, unless the user resized meanwhile
        self._natural_height = None
        self._grown_height = None
        self._growing = False
        self._servers = []           # every server to try, in turn, as the last submit had
        self._build()
        self.set_register(False)
        self.form.setRowVisible(self.ca_box, self.tls.isChecked())
        self._system_ca_toggled(self.system_ca.isChecked())
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.heading = QLabel()
        heading_font = QFont(self.font())
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.4)
        heading_font.setBold(True)
        self.heading.setFont(heading_font)
        self.language_label = QLabel()
        self.language = QComboBox()
        for lang in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES[lang], lang)
        self.language.currentIndexChanged.connect(self._language_picked)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.language_label)
        top.addWidget(self.language)

        self.host = QLineEdit(self.settings.host)
        self.port = QLineEdit(str(self.settings.port))
        self.port.setMaxLength(5)
        self.port.setFixedWidth(self.port.fontMetrics().horizontalAdvance("0") * 8 + 16)
        self.port_label = QLabel()
        server_row = QHBoxLayout()
        server_row.addWidget(self.host, 1)
        server_row.addWidget(self.port_label)
        server_row.addWidget(self.port)
        self.tls = QCheckBox()
        self.tls.setChecked(self.settings.tls)
        self.tls.toggled.connect(self._tls_toggled)
        server_row.addWidget(self.tls)
        self.other_servers = QLineEdit(self.settings.other_servers)
        self.other_servers_label = QLabel()
        self.ca_file = QLineEdit(self.settings.ca_file)
        self.ca_browse = QPushButton()
        self.ca_browse.setAutoDefault(False)
        self.ca_browse.clicked.connect(self.choose_ca_file)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        self.system_ca = QCheckBox()
        self.system_ca.setChecked(self.settings.system_ca)
        self.system_ca.toggled.connect(self._system_ca_toggled)
        ca_row.addWidget(self.system_ca)
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.ca_browse)
        self.ca_box = QWidget()
        self.ca_box.setLayout(ca_row)
        self.user = QLineEdit(self.settings.user)
        self.user.setMaxLength(NAME_MAX * 2)   # room for decomposed characters before NFKC
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.register = QCheckBox()
        self.register.toggled.connect(self.set_register)
        self.guest = QCheckBox()             # a server started with --allow-guests
        self.guest.toggled.connect(self.set_guest)
        self.password2 = QLineEdit()
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)

        self.avatar_preview = QLabel()
        self.avatar_preview.setFixedSize(AVATAR_SIZE, AVATAR_SIZE)
        self.avatar_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.avatar_choose = QPushButton()
        self.avatar_choose.setAutoDefault(True)      # Enter on it opens the file dialog
        self.avatar_choose.clicked.connect(self.choose_avatar)
        self.avatar_remove = QPushButton()
        self.avatar_remove.setAutoDefault(True)
        self.avatar_remove.clicked.connect(self.remove_avatar)
        self.avatar_hint = QLabel()
        self.avatar_hint.setWordWrap(True)
        buttons = QVBoxLayout()
        buttons.addWidget(self.avatar_choose)
        buttons.addWidget(self.avatar_remove)
        buttons.addStretch(1)
        avatar_row = QHBoxLayout()
        avatar_row.addWidget(self.avatar_preview)
        avatar_row.addLayout(buttons)
        avatar_row.addWidget(self.avatar_hint, 1)
        self.avatar_box = QWidget()
        self.avatar_box.setLayout(avatar_row)
        avatar_row.setContentsMargins(0, 0, 0, 0)

        self.form_box = QWidget()
        form = self.form = QFormLayout(self.form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.host_label, self.user_label, self.password_label = QLabel(), QLabel(), QLabel()
        self.password2_label, self.avatar_label = QLabel(), QLabel()
        form.addRow(self.host_label, server_row)
        form.addRow(self.other_servers_label, self.other_servers)
        self.ca_label = QLabel()
        form.addRow(self.ca_label, self.ca_box)
        form.addRow(self.user_label, self.user)
        form.addRow(self.password_label, self.password)
        form.addRow("", self.register)
        form.addRow("", self.guest)
        form.addRow(self.password2_label, self.password2)
        form.addRow(self.avatar_label, self.avatar_box)
        for label, field in ((self.host_label, self.host),
                             (self.other_servers_label, self.other_servers),
                             (self.user_label, self.user),
                             (self.password_label, self.password),
                             (self.password2_label, self.password2)):
            label.setBuddy(field)

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        self.busy_label = QLabel()
        self.busy_label.hide()
        self.submit_button = QPushButton()
        self.submit_button.setAutoDefault(True)
        self.submit_button.clicked.connect(self.submit)
        self.submit_button.setMinimumWidth(140)
        bottom = QHBoxLayout()
        bottom.addWidget(self.busy_label)
        bottom.addStretch(1)
        bottom.addWidget(self.submit_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addLayout(top)
        layout.addWidget(self.form_box)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addLayout(bottom)
        self.setMinimumWidth(460)
        (self.user if self.settings.user == "" else self.password).setFocus()

    # ------------------------------------------------------------------ state
    @property
    def avatar(self):
        """The picture picked for the new account: ``(mime type, bytes)`` or None."""
        return self._avatar

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def guest_mode(self) -> bool:
        """Join as a guest: a name, no account and no password."""
        return self.guest.isChecked()

    def set_guest(self, on: bool) -> None:
        """Hide (or show again) what a guest does not need: the password, registering."""
        if self.guest.isChecked() != on:
            self.guest.setChecked(on)            # calls back here through toggled
            return
        if on and self.register.isChecked():
            self.set_register(False)
        self.form.setRowVisible(self.password, not on)
        self.form.setRowVisible(self.register, not on)
        self.submit_button.setText(self.translator.tr(self._submit_key()))
        self._fit_height()

    def _submit_key(self) -> str:
        if self.guest.isChecked():
            return "login_submit_guest"
        return "login_submit_register" if self.register.isChecked() else "login_submit"

    def set_register(self, on: bool) -> None:
        """Show (or hide) what only a new account needs: the second password, the picture."""
        if self.register.isChecked() != on:
            self.register.setChecked(on)        # calls back here through toggled
            return
        if on:
            self._before_growing()
        self.form.setRowVisible(self.password2, on)
        self.form.setRowVisible(self.avatar_box, on)
        self.submit_button.setText(self.translator.tr(self._submit_key()))
        self._fit_height()

    def reset_after_logout(self, error: str = None) -> None:
        """Ready for the next login: no password kept in the form, "Register" unticked, no
        picture; the user name stays. ``error`` (in the user's language) says why the last
        session ended, when it was not the user's choice (kicked, banned)."""
        self.set_busy(False)
        self.password.clear()
        self.password2.clear()
        self.remove_avatar()
        self.set_register(False)
        if error:
            self.show_error(error)
        else:
            self._clear_error()
        (self.user if not self.user.text() else self.password).setFocus()

    def set_busy(self, busy: bool) -> None:
        """While logging in: the form is disabled and "Connecting..." shows."""
        self._busy = busy
        self.form_box.setEnabled(not busy)
        self.submit_button.setEnabled(not busy)
        self.busy_label.setVisible(busy)
        if busy:
            self._clear_error()

    def show_error(self, text: str) -> None:
        """Show ``text`` (already in the user's language) in red under the form."""
        self._error = text
        self._render_error()

    def _show_problem(self, key: str, focus=None, **params) -> None:
        self._error = (key, params)
        self._render_error()
        if focus is not None:
            focus.setFocus()
            focus.selectAll()

    def _clear_error(self) -> None:
        self._error = None
        self._render_error()

    def _render_error(self) -> None:
        if self._error is None:
            self.error.hide()
            self.error.clear()
            self._fit_height()
            return
        if isinstance(self._error, tuple):
            key, params = self._error
            self.error.setText(self.translator.tr(key, **params))
        else:
            self.error.setText(self._error)
        if self.error.isHidden():
            self._before_growing()
        self.error.show()
        self._fit_height()

    def _before_growing(self) -> None:
        """Something is about to make the window taller (Qt may grow it to the new minimum
        at once): remember the height to go back to."""
        if not self.isWindow():
            return
        if self._natural_height is None or self.height() != self._grown_height:
            self._natural_height = self._grown_height = self.height()
        self._growing = True

    def _fit_height(self) -> None:
        # a window's minimum size ignores how tall wrapped text gets at its width, so a long
        # error would squeeze the form: grow the window to what the layout needs; once the
        # error (or the new account's rows) goes, shrink back to the height it had before
        layout = self.layout()
        if not self.isWindow() or layout is None:
            return
        self.form.activate()            # the form's rows first: shown or hidden just now
        layout.invalidate()
        layout.activate()
        need = (layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth()
                else layout.totalSizeHint().height())
        need = max(need, layout.totalMinimumSize().height())
        growing, self._growing = self._growing, False
        if need > self.height() or growing:
            if self._natural_height is None:
                self._natural_height = self.height()
            if need > self.height():
                self.resize(self.width(), need)
            self._grown_height = self.height()
        elif self._natural_height is not None and self.height() > self._natural_height:
            if self.height() != self._grown_height:      # the user resized it: theirs now
                self._natural_height = self._grown_height = None
                return
            target = max(need, self._natural_height)
            self.resize(self.width(), target)
            if target == self._natural_height:
                self._natural_height = self._grown_height = None
            else:
                self._grown_height = self.height()

    # ------------------------------------------------------------------ submitting
    def keyPressEvent(self, event) -> None:
        # line edits and the check box pass Enter on to their parent: one place submits
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submit()
            event.accept()
            return
        super().keyPressEvent(event)

    def submit(self) -> bool:
        """Check the form; if it is right, remember the server and emit ``submitted``."""
        if self._busy:
            return False
        checked = self._check()
        if checked is None:
            return False
        host, port, user, password, register = checked
        self._clear_error()
        self.settings.host = host
        self.settings.port = port
        self.settings.other_servers = self.other_servers.text().strip()
        self.settings.user = user
        self.settings.tls = self.tls.isChecked()
        self.settings.ca_file = self.ca_file.text().strip()
        self.settings.system_ca = self.system_ca.isChecked()
        self.submitted.emit(host, port, user, password, register,
                            self._avatar if register else None)
        return True

    def _tls_toggled(self, on: bool) -> None:
        # the usual ports follow the box: 5000 plain, 5443 TLS (another port stays)
        usual = {True: ("5000", "5443"), False: ("5443", "5000")}[on]
        if self.port.text().strip() == usual[0]:
            self.port.setText(usual[1])
        self.form.setRowVisible(self.ca_box, on)

    def servers(self) -> list:
        """Every server of the last submit, in the order they are tried: the one above
        first, then the other servers (:class:`chat.client.servers.Server` entries)."""
        return list(self._servers)

    def tls_options(self):
        """What the TLS box and the CA file say: None for plain TCP, else TLSOptions (a CA
        file to check against, or the certificate pinned on first use)."""
        if not self.tls.isChecked():
            return None
        from chat.client.tls import TLSOptions
        if self.system_ca.isChecked():
            return TLSOptions(system_ca=True)
        return TLSOptions(ca_file=self.ca_file.text().strip() or None)

    def _system_ca_toggled(self, on: bool) -> None:
        # the system's CAs or a file of one's own: one of them decides
        self.ca_file.setEnabled(not on)
        self.ca_browse.setEnabled(not on)

    def choose_ca_file(self) -> bool:
        """Pick the CA certificate (PEM) to check the server against."""
        path, _ = QFileDialog.getOpenFileName(self, self.translator.tr("login_ca_choose"),
                                              os.path.dirname(self.ca_file.text()) or "",
                                              self.translator.tr("login_ca_filter"))
        if not path:
            return False
        self.ca_file.setText(path)
        return True

    def _check(self):
        """The form's values, or None after showing what is wrong with them."""
        host = self.host.text().strip()
        if not host:
            return self._show_problem("login_empty_host", self.host)
        port_text = self.port.text().strip()
        if not (port_text.isascii() and port_text.isdigit() and 1 <= int(port_text) <= 65535):
            return self._show_problem("login_bad_port", self.port)
        from chat.client.servers import BadServerList, Server, parse_servers
        try:
            # the server above with the port above, whatever it holds (an IPv6 address too)
            first = Server(host.removeprefix("[").removesuffix("]"), int(port_text))
            others = self.other_servers.text().strip()
            self._servers = [first] + [
                server for server in (parse_servers(others, first.port) if others else [])
                if server != first]
        except BadServerList as error:
            return self._show_problem("login_bad_servers", self.other_servers,
                                      entry=error.entry or self.other_servers.text().strip())
        user = self.user.text().strip()
        if not user:
            return self._show_problem("login_empty_user", self.user)
        try:
            normalise_name(user)
        except ProtocolError:
            return self._show_problem("login_bad_name", self.user, max=NAME_MAX)
        if self.guest.isChecked():
            return host, int(port_text), user, "", False
        password = self.password.text()
        if len(password) < PASSWORD_MIN:
            return self._show_problem("password_too_short", self.password, n=PASSWORD_MIN)
        if len(password) > PASSWORD_MAX:
            return self._show_problem("login_password_rule", self.password,
                                      min=PASSWORD_MIN, max=PASSWORD_MAX)
        register = self.register.isChecked()
        if register and self.password2.text() != password:
            return self._show_problem("passwords_differ", self.password2)
        return host, int(port_text), user, password, register

    # ------------------------------------------------------------------ the picture
    def choose_avatar(self) -> bool:
        """Ask for a picture file and load it (see ``load_avatar``)."""
        path, _ = QFileDialog.getOpenFileName(self, self.translator.tr("login_avatar_dialog"),
                                              os.path.expanduser("~"),
                                              self.translator.tr("login_avatar_filter"))
        if not path:
            return False
        return self.load_avatar(path)

    def load_avatar(self, path: str) -> bool:
        """Take ``path`` as the new account's picture; False (and a message) if it cannot be."""
        name = os.path.basename(path)
        try:
            size = os.path.getsize(path)
            # checked before reading: a huge file picked by mistake is never loaded
            if size > AVATAR_MAX:
                self._show_problem("login_avatar_too_big", name=name, size=human_size(size),
                                   max=human_size(AVATAR_MAX))
                return False
            with open(path, "rb") as f:
                data = f.read(AVATAR_MAX + 1)
        except OSError as exc:
            self._show_problem("login_avatar_unreadable", name=name,
                               reason=exc.strerror or str(exc))
            return False
        mime = image_type(data)
        preview = round_avatar(data) if mime else None
        if preview is None:
            self._show_problem("login_avatar_not_image", name=name)
            return False
        self._avatar = (mime, data)
        self._avatar_name = name
        self.avatar_preview.setPixmap(preview)
        self.avatar_preview.setToolTip(name)
        self.avatar_preview.setStyleSheet("")
        self.avatar_remove.setEnabled(True)
        self._clear_error()
        return True

    def remove_avatar(self) -> None:
        """Register without a picture after all."""
        self._avatar = None
        self._avatar_name = ""
        self.avatar_preview.clear()
        self.avatar_preview.setToolTip("")
        self.avatar_remove.setEnabled(False)
        self._render_empty_avatar()

    def _render_empty_avatar(self) -> None:
        if self._avatar is None:
            self.avatar_preview.setText(self.translator.tr("login_avatar_none"))
            # a grey circle where the picture will be
            self.avatar_preview.setStyleSheet(
                f"background: #d9d9d9; color: #555; border-radius: {AVATAR_SIZE // 2}px;")

    # ------------------------------------------------------------------ language
    def _language_picked(self, index: int) -> None:
        lang = self.language.itemData(index)
        if lang and lang != self.translator.lang:
            self.settings.language = lang
            self.translator.set_language(lang)

    def retranslate(self, *_) -> None:
        """Re-read every text in the translator's language (on ``languageChanged``)."""
        tr = self.translator.tr
        self.setWindowTitle(tr("login_title"))
        self.heading.setText(tr("login_heading"))
        self.language_label.setText(tr("login_language"))
        index = self.language.findData(self.translator.lang)
        if index != self.language.currentIndex():
            self.language.blockSignals(True)
            self.language.setCurrentIndex(index)
            self.language.blockSignals(False)
        self.host_label.setText(tr("prompt_host"))
        self.other_servers_label.setText(tr("login_other_servers"))
        self.other_servers.setPlaceholderText(tr("login_other_servers_placeholder"))
        self.other_servers.setToolTip(tr("login_other_servers_tip"))
        self.port_label.setText(tr("prompt_port"))
        self.user_label.setText(tr("prompt_user"))
        self.password_label.setText(tr("prompt_password"))
        self.password2_label.setText(tr("prompt_password_again"))
        self.register.setText(tr("login_register"))
        self.guest.setText(tr("login_guest"))
        self.guest.setToolTip(tr("login_guest_tip"))
        self.tls.setText(tr("login_tls"))
        self.ca_label.setText(tr("login_ca_file"))
        self.system_ca.setText(tr("login_system_ca"))
        self.system_ca.setToolTip(tr("login_system_ca_tip"))
        self.ca_file.setPlaceholderText(tr("login_ca_placeholder"))
        self.ca_file.setToolTip(tr("login_ca_tip"))
        self.ca_browse.setText(tr("login_ca_browse"))
        self.tls.setToolTip(tr("login_tls_tip"))
        self.avatar_label.setText(tr("login_avatar"))
        self.avatar_choose.setText(tr("login_avatar_choose"))
        self.avatar_remove.setText(tr("login_avatar_remove"))
        self.avatar_remove.setEnabled(self._avatar is not None)
        # a no-break space keeps "256 KiB" on one line
        self.avatar_hint.setText(tr("login_avatar_hint",
                                    max=human_size(AVATAR_MAX).replace(" ", "\u00a0")))
        self._render_empty_avatar()
        self.busy_label.setText(tr("link_connecting"))
        self.submit_button.setText(tr(self._submit_key()))
        self._render_error()
