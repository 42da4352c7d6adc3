"""Connection registration (``CAP``, ``NICK``/``USER``, ``PASS``) as a state machine.

States (automat): ``waiting`` for NICK and USER -> (both given, no CAP negotiation holding)
``checking`` the login -> ``registered``; ``CAP LS``/``REQ`` before that moves to
``negotiating``, which only ``CAP END`` leaves. A refused login (a nick in use, a wrong
password when the connection may try again) goes back to ``waiting``; any state -> ``closed``.

The machine decides *when*; the driver (the IRC connection) does the work:
``driver.check_login(registration)`` starts the login (SASL's account, ``PASS``, or a guest)
and calls :meth:`Registration.accepted` or :meth:`Registration.refused` when it is decided;
``driver.welcome(registration)`` sends 001-005 and the MOTD.
"""

from automat import MethodicalMachine


class Registration:
    """What a connection said about itself before it is registered, and where it is."""

    _machine = MethodicalMachine()

    def __init__(self, driver):
        self.driver = driver
        self.nick = None          # the nick asked for (display form)
        self.user = None          # USER's user name (shown as ident, ~ prefixed)
        self.realname = None
        self.password = None      # PASS (the account's password)
        self.state_name = "waiting"

    # -- what the connection tells it
    def identified(self) -> bool:
        return self.nick is not None and self.user is not None

    def set_nick(self, nick: str) -> None:
        self.nick = nick
        self._poke()

    def set_user(self, user: str, realname: str) -> None:
        self.user = user
        self.realname = realname
        self._poke()

    def cap_begin(self) -> None:
        """CAP LS or REQ before registration: hold it until CAP END."""
        self._cap_begun()

    def cap_end(self) -> None:
        self._cap_ended()
        self._poke()

    def _poke(self) -> None:
        if self.identified():
            self._complete()

    @property
    def is_registered(self) -> bool:
        return self.state_name == "registered"

    @property
    def is_closed(self) -> bool:
        return self.state_name == "closed"

    # -- states
    @_machine.state(initial=True)
    def waiting(self):
        "NICK and USER are not both in yet."

    @_machine.state()
    def negotiating(self):
        "CAP LS or REQ came first: registration waits for CAP END."

    @_machine.state()
    def checking(self):
        "The login (account, password or guest name) is being decided."

    @_machine.state()
    def registered(self):
        "Welcomed: a user on the network."

    @_machine.state()
    def closed(self):
        "The connection is gone or going."

    # -- inputs
    @_machine.input()
    def _cap_begun(self):
        "CAP LS or CAP REQ."

    @_machine.input()
    def _cap_ended(self):
        "CAP END."

    @_machine.input()
    def _complete(self):
        "NICK and USER are both in (checked after each of them)."

    @_machine.input()
    def accepted(self):
        "The login went through: the connection is this user now."

    @_machine.input()
    def refused(self):
        "The login was refused; the client may try another nick or password."

    @_machine.input()
    def lost(self):
        "The connection closed."

    # -- outputs
    @_machine.output()
    def _start_check(self):
        self.state_name = "checking"
        self.driver.check_login(self)

    @_machine.output()
    def _welcome(self):
        self.state_name = "registered"
        self.driver.welcome(self)

    def _named(name):
        def set_state(self):
            self.state_name = name
        set_state.__name__ = f"_enter_{name}"
        return set_state

    _enter_waiting = _machine.output()(_named("waiting"))
    _enter_negotiating = _machine.output()(_named("negotiating"))
    _enter_closed = _machine.output()(_named("closed"))

    # -- transitions
    waiting.upon(_cap_begun, enter=negotiating, outputs=[_enter_negotiating])
    waiting.upon(_cap_ended, enter=waiting, outputs=[])
    waiting.upon(_complete, enter=checking, outputs=[_start_check])
    waiting.upon(lost, enter=closed, outputs=[_enter_closed])

    negotiating.upon(_cap_begun, enter=negotiating, outputs=[])
    negotiating.upon(_cap_ended, enter=waiting, outputs=[_enter_waiting])
    negotiating.upon(_complete, enter=negotiating, outputs=[])
    negotiating.upon(lost, enter=closed, outputs=[_enter_closed])

    checking.upon(_cap_begun, enter=checking, outputs=[])
    checking.upon(_cap_ended, enter=checking, outputs=[])
    checking.upon(_complete, enter=checking, outputs=[])
    checking.upon(accepted, enter=registered, outputs=[_welcome])
    checking.upon(refused, enter=waiting, outputs=[_enter_waiting])
    checking.upon(lost, enter=closed, outputs=[_enter_closed])

    registered.upon(_cap_begun, enter=registered, outputs=[])
    registered.upon(_cap_ended, enter=registered, outputs=[])
    registered.upon(_complete, enter=registered, outputs=[])
    registered.upon(lost, enter=closed, outputs=[_enter_closed])

    closed.upon(_cap_begun, enter=closed, outputs=[])
    closed.upon(_cap_ended, enter=closed, outputs=[])
    closed.upon(_complete, enter=closed, outputs=[])
    closed.upon(accepted, enter=closed, outputs=[])
    closed.upon(refused, enter=closed, outputs=[])
    closed.upon(lost, enter=closed, outputs=[])
    del _named
