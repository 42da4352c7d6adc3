"""The client's link to its server as a state machine: where it is, and what may come next.

::

    offline --connect--> connecting --connected--> logging_in --logged_in--> online
       ^                   |   ^                      |                      |
       |<----give_up-------+   +------retry-------- reconnecting <--wait-----+
       |<----give_up-------------------------------- (any state) ------------+

``wait(reason, delay)`` is a lost link (or a failed reconnect) that will be tried again after
``delay`` seconds; ``give_up(reason)`` ends it (closed, logged out, kicked, a refused login,
a first connect that failed). Every transition tells the client's listener
(``on_state(LinkState, reason, retry_in)``), so a user interface follows one source.

A transition that is not in the picture (a second ``connect`` while online) raises
``automat.NoTransition``: it is a bug in the caller, not a state to be in.
"""

import enum

from automat import MethodicalMachine


class LinkState(enum.Enum):
    OFFLINE = "offline"
    CONNECTING = "connecting"
    LOGGING_IN = "logging_in"
    ONLINE = "online"
    RECONNECTING = "reconnecting"


class Link:
    """The state of one client's link; ``announce(state, reason, retry_in)`` hears every
    transition. ``state`` is the current :class:`LinkState`."""

    _machine = MethodicalMachine()

    def __init__(self, announce):
        self._announce = announce
        self.state = LinkState.OFFLINE

    # -- states
    @_machine.state(initial=True)
    def _offline(self):
        "Not connected, and not trying."

    @_machine.state()
    def _connecting(self):
        "Opening a connection (first time or again)."

    @_machine.state()
    def _logging_in(self):
        "Connected: hello, register, login, catching up."

    @_machine.state()
    def _online(self):
        "Logged in: requests may go."

    @_machine.state()
    def _reconnecting(self):
        "The link was lost: waiting for the next try."

    # -- inputs
    @_machine.input()
    def connect(self):
        "A connection attempt starts."

    @_machine.input()
    def connected(self):
        "The connection is up; the login starts."

    @_machine.input()
    def logged_in(self):
        "The server accepted the login."

    @_machine.input()
    def wait(self, reason, delay):
        "The link is down and will be tried again in ``delay`` seconds."

    @_machine.input()
    def give_up(self, reason):
        "The link is down for good (or a first attempt failed)."

    # -- outputs
    @_machine.output()
    def _now_connecting(self):
        self._enter(LinkState.CONNECTING)

    @_machine.output()
    def _now_logging_in(self):
        self._enter(LinkState.LOGGING_IN)

    @_machine.output()
    def _now_online(self):
        self._enter(LinkState.ONLINE)

    @_machine.output()
    def _now_reconnecting(self, reason, delay):
        self._enter(LinkState.RECONNECTING, reason, delay)

    @_machine.output()
    def _now_offline(self, reason):
        self._enter(LinkState.OFFLINE, reason)

    def _enter(self, state: LinkState, reason=None, retry_in=None) -> None:
        self.state = state
        self._announce(state, reason, retry_in)

    # -- transitions
    _offline.upon(connect, enter=_connecting, outputs=[_now_connecting])
    _reconnecting.upon(connect, enter=_connecting, outputs=[_now_connecting])
    _connecting.upon(connected, enter=_logging_in, outputs=[_now_logging_in])
    _logging_in.upon(logged_in, enter=_online, outputs=[_now_online])
    for _state in (_connecting, _logging_in, _online):
        _state.upon(wait, enter=_reconnecting, outputs=[_now_reconnecting])
    for _state in (_offline, _connecting, _logging_in, _online, _reconnecting):
        # offline again too: close() after a failed first try still says "closed"
        _state.upon(give_up, enter=_offline, outputs=[_now_offline])
    del _state
