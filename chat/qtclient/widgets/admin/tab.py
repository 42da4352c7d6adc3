"""What every page of the admin panel starts from: the panel's session and translator."""

from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QWidget

if TYPE_CHECKING:
    from .panel import AdminPanel


class Tab(QWidget):
    """One page of the panel: the panel gives it the session, the words and the status line."""

    def __init__(self, panel: "AdminPanel"):
        super().__init__()
        self.panel = panel
        self.session = panel.session
        self.translator = panel.translator
