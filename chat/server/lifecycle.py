"""The state machine of one peer's session, the same for every transport (automat).

::

    NEW --hello--> READY --authenticate--> AUTHENTICATED --logout--> READY
    any --close--> CLOSED

The login deadline is an output of these transitions, not something handlers or transports
call: ``open`` (the peer was admitted) starts it, ``authenticate`` stops it, ``logout``
starts it again (log in again in time, or go), ``closing`` (a goodbye was said) and ``close``
stop it. When it runs out the lifecycle closes the peer itself, unless a login is being
checked (a password hash is running: the client did its part), in which case it looks again a
second later.

Leaving AUTHENTICATED (``logout``, or ``close`` of a logged-in peer) ends the session exactly
once: ``ended(peer, session)`` is called, which is how the server forgets a login (presence,
monitoring, the last-seen time) whichever way it ends.
"""

from automat import MethodicalMachine
from twisted.logger import Logger

from chat.protocol.errors import BYE_LOGIN_TIMEOUT
from chat.server.session import State

RECHECK_AFTER = 1.0
"""Seconds after which an overdue login that is being checked is looked at again."""

log = Logger(namespace="chat.server.lifecycle")


class _Gone:
    """Stands for the peer once CLOSED (nothing is told to it any more)."""

    address = "?"

    def close(self, code, reason):
        pass

    def state_changed(self, state):
        pass


_GONE = _Gone()


class SessionLifecycle:
    """One peer's session: its state, who it is logged in as, and its login deadline.

    ``peer`` provides :class:`~chat.server.session.IPeer` (the lifecycle calls its ``close``
    when the deadline passes and its ``state_changed`` after each transition); ``clock`` is the
    reactor; ``login_timeout`` seconds (0: no deadline); ``ended(peer, session)`` is called
    when a login ends. Build it with ``ChatServer.open_session(peer)``.

    ``state`` mirrors the machine's state as a plain attribute: transports read it on every
    frame they write, and a plain attribute costs nothing there.
    """

    _machine = MethodicalMachine()

    def __init__(self, peer, clock, login_timeout: float, ended):
        self.peer = peer
        self.clock = clock
        self.login_timeout = login_timeout
        self._ended = ended
        self.state = State.NEW
        self.session = None           # chat.server.session.Session while AUTHENTICATED
        self.client_name = None       # what the peer's hello said its client is
        self.logins_running = 0       # login/register requests whose password is checked
        self.prelogin_requests = 0    # requests since the start or the last logout
        self._timer = None

    # -- states
    @_machine.state(initial=True)
    def _new(self):
        """Connected; no hello yet."""

    @_machine.state()
    def _ready(self):
        """Greeted; not logged in."""

    @_machine.state()
    def _authenticated(self):
        """Logged in as ``session``."""

    @_machine.state()
    def _closed(self):
        """Gone, or nothing more is read or written."""

    # -- inputs
    @_machine.input()
    def open(self):
        """The transport admitted the peer: the login deadline starts."""

    @_machine.input()
    def hello(self, client=None):
        """The peer said hello, naming its ``client`` (a repeated hello only renames it)."""

    @_machine.input()
    def authenticate(self, session):
        """A login went through as ``session`` (only from READY: callers check the state
        first, as a login's password check may outlast the peer)."""

    @_machine.input()
    def logout(self):
        """End the login and keep the link (logout, an admin's kick, the server stopping);
        nothing when not logged in."""

    @_machine.input()
    def closing(self):
        """The transport said goodbye and is closing the link."""

    @_machine.input()
    def close(self):
        """The link is gone, or the transport reads and writes nothing more."""

    @_machine.input()
    def _deadline(self):
        """The login timer ran out."""

    # -- outputs
    @_machine.output()
    def _start_timer(self):
        self._stop()
        self.prelogin_requests = 0
        if self.login_timeout:
            self._timer = self.clock.callLater(self.login_timeout, self._deadline)

    @_machine.output()
    def _stop_timer(self):
        self._stop()

    @_machine.output()
    def _check_deadline(self):
        self._timer = None
        if self.logins_running:
            self._timer = self.clock.callLater(RECHECK_AFTER, self._deadline)
            return
        timeout = self.login_timeout
        log.info("closing {address}: no login within {s:g} s", address=self.peer.address,
                 s=timeout)
        self.peer.close(BYE_LOGIN_TIMEOUT, f"no login within {timeout:g} s")

    @_machine.output()
    def _greet(self, client=None):
        self.client_name = client

    @_machine.output()
    def _begin_session(self, session):
        self.session = session

    @_machine.output()
    def _end_session(self):
        session, self.session = self.session, None
        self._ended(self.peer, session)

    @_machine.output()
    def _let_go(self):
        # the peer holds its lifecycle: without this the two would be a reference cycle that
        # only a full garbage collection frees (rare once the start-up heap is frozen)
        self.peer = _GONE

    def _entering(state):  # noqa: N805 (a helper for the class body, not a method)
        def enter(self):
            self.state = state
            self.peer.state_changed(state)
        enter.__name__ = f"_enter_{state.value}"
        return enter

    _enter_ready = _machine.output()(_entering(State.READY))
    _enter_authenticated = _machine.output()(_entering(State.AUTHENTICATED))
    _enter_closed = _machine.output()(_entering(State.CLOSED))
    del _entering

    # -- transitions
    _new.upon(open, enter=_new, outputs=[_start_timer])
    _new.upon(hello, enter=_ready, outputs=[_greet, _enter_ready])
    _new.upon(logout, enter=_new, outputs=[])
    _new.upon(closing, enter=_new, outputs=[_stop_timer])
    _new.upon(close, enter=_closed, outputs=[_stop_timer, _enter_closed, _let_go])
    _new.upon(_deadline, enter=_new, outputs=[_check_deadline])

    _ready.upon(hello, enter=_ready, outputs=[_greet])
    _ready.upon(authenticate, enter=_authenticated,
                outputs=[_stop_timer, _begin_session, _enter_authenticated])
    _ready.upon(logout, enter=_ready, outputs=[])
    _ready.upon(closing, enter=_ready, outputs=[_stop_timer])
    _ready.upon(close, enter=_closed, outputs=[_stop_timer, _enter_closed, _let_go])
    _ready.upon(_deadline, enter=_ready, outputs=[_check_deadline])

    _authenticated.upon(hello, enter=_authenticated, outputs=[_greet])
    _authenticated.upon(logout, enter=_ready, outputs=[_end_session, _enter_ready, _start_timer])
    _authenticated.upon(closing, enter=_authenticated, outputs=[])
    _authenticated.upon(close, enter=_closed, outputs=[_stop_timer, _enter_closed, _end_session, _let_go])
    _authenticated.upon(_deadline, enter=_authenticated, outputs=[])

    _closed.upon(hello, enter=_closed, outputs=[])
    _closed.upon(logout, enter=_closed, outputs=[])
    _closed.upon(closing, enter=_closed, outputs=[])
    _closed.upon(close, enter=_closed, outputs=[])
    _closed.upon(_deadline, enter=_closed, outputs=[])

    # -- not states: counters the transports and the login handler keep
    def _stop(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    @property
    def login_timer_running(self) -> bool:
        return self._timer is not None and self._timer.active()

    def login_started(self) -> None:
        """A login's (or registration's) password is being checked: the deadline waits."""
        self.logins_running += 1

    def login_ended(self) -> None:
        self.logins_running -= 1
