"""The session state machine alone (sans-IO): a recording peer and a MemoryReactorClock."""

from automat import NoTransition
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface import implementer

from chat.server.lifecycle import RECHECK_AFTER, SessionLifecycle
from chat.server.session import IPeer, Session, State

TIMEOUT = 30.0


@implementer(IPeer)
class RecordingPeer:
    """Records what the lifecycle tells it."""

    kind = "test"
    host, port, address = "192.0.2.1", 4000, "192.0.2.1:4000"
    client_name = last_request = lifecycle = session = None

    def __init__(self):
        self.closed = []
        self.states = []

    def close(self, code, reason):
        self.closed.append(code)

    def state_changed(self, state):
        self.states.append(state)

    def deliver(self, event):
        pass

    def keep_alive(self):
        pass

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def cancel(self, request_id):
        return False


class LifecycleTests(unittest.TestCase):
    def setUp(self):
        self.clock = MemoryReactorClock()
        self.peer = RecordingPeer()
        self.ended = []
        self.life = SessionLifecycle(self.peer, self.clock, TIMEOUT,
                                     lambda peer, session: self.ended.append((peer, session)))
        self.alice = Session(7, "Alice", "alice", False, 0.0)

    def opened(self):
        self.life.open()
        return self.life

    def logged_in(self):
        self.opened().hello("test")
        self.life.authenticate(self.alice)
        return self.life

    # -- the login deadline
    def test_open_starts_the_login_timer(self):
        self.opened()
        self.assertTrue(self.life.login_timer_running)
        self.clock.advance(TIMEOUT - 0.1)
        self.assertEqual(self.peer.closed, [])
        self.clock.advance(0.1)
        self.assertEqual(self.peer.closed, ["login_timeout"])

    def test_hello_moves_to_ready_and_keeps_the_deadline(self):
        self.opened().hello("test client")
        self.assertIs(self.life.state, State.READY)
        self.assertEqual(self.life.client_name, "test client")
        self.assertEqual(self.peer.states, [State.READY])
        self.clock.advance(TIMEOUT)
        self.assertEqual(self.peer.closed, ["login_timeout"])

    def test_login_stops_the_login_timer(self):
        self.logged_in()
        self.assertIs(self.life.state, State.AUTHENTICATED)
        self.assertIs(self.life.session, self.alice)
        self.assertFalse(self.life.login_timer_running)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.clock.advance(TIMEOUT * 10)
        self.assertEqual(self.peer.closed, [])
        self.assertEqual(self.peer.states, [State.READY, State.AUTHENTICATED])

    def test_logout_restarts_the_login_timer_and_ends_the_session_once(self):
        self.logged_in()
        self.clock.advance(100)
        self.life.prelogin_requests = 5
        self.life.logout()
        self.assertIs(self.life.state, State.READY)
        self.assertIsNone(self.life.session)
        self.assertEqual(self.ended, [(self.peer, self.alice)])
        self.assertTrue(self.life.login_timer_running)
        self.assertEqual(self.life.prelogin_requests, 0)   # a fresh budget for the next login
        self.life.logout()                                  # not logged in: nothing
        self.assertEqual(len(self.ended), 1)
        self.clock.advance(TIMEOUT)
        self.assertEqual(self.peer.closed, ["login_timeout"])

    def test_a_login_being_checked_holds_the_deadline(self):
        self.opened().hello()
        self.life.login_started()
        self.clock.advance(TIMEOUT + 5 * RECHECK_AFTER)
        self.assertEqual(self.peer.closed, [])
        self.life.login_ended()
        self.clock.advance(RECHECK_AFTER)
        self.assertEqual(self.peer.closed, ["login_timeout"])

    def test_no_timeout_no_timer(self):
        life = SessionLifecycle(self.peer, self.clock, 0, lambda *a: None)
        life.open()
        self.assertFalse(life.login_timer_running)
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_closing_stops_the_timer_and_keeps_the_state(self):
        self.opened().hello()
        self.life.closing()
        self.assertIs(self.life.state, State.READY)
        self.assertFalse(self.life.login_timer_running)
        self.clock.advance(TIMEOUT * 2)
        self.assertEqual(self.peer.closed, [])

    # -- closing from each state
    def test_close_from_new(self):
        self.opened().close()
        self.assert_closed(ended=[])

    def test_close_from_ready(self):
        self.opened().hello()
        self.life.close()
        self.assert_closed(ended=[])

    def test_close_from_authenticated_ends_the_session(self):
        self.logged_in().close()
        self.assert_closed(ended=[(self.peer, self.alice)])

    def test_close_before_open(self):
        self.life.close()        # refused at connection time: the deadline never started
        self.assert_closed(ended=[])

    def assert_closed(self, ended):
        self.assertIs(self.life.state, State.CLOSED)
        self.assertIsNone(self.life.session)
        self.assertFalse(self.life.login_timer_running)
        self.assertEqual(self.clock.getDelayedCalls(), [])
        self.assertEqual(self.ended, ended)
        self.assertEqual(self.peer.states[-1], State.CLOSED)
        # and nothing moves it any more, nor reaches the peer
        told = list(self.peer.states)
        for again in (self.life.close, self.life.logout, self.life.closing, self.life.hello):
            again()
        self.assertIs(self.life.state, State.CLOSED)
        self.assertEqual(self.ended, ended)
        self.assertEqual(self.peer.states, told)
        self.assertNotIsInstance(self.life.peer, RecordingPeer)   # no cycle left
        self.clock.advance(TIMEOUT * 2)
        self.assertEqual(self.peer.closed, [])

    # -- what is not a transition
    def test_login_needs_hello_first(self):
        self.opened()
        self.assertRaises(NoTransition, self.life.authenticate, self.alice)
        self.assertIs(self.life.state, State.NEW)

    def test_a_second_login_is_not_a_transition(self):
        self.logged_in()
        self.assertRaises(NoTransition, self.life.authenticate, self.alice)
        self.assertIs(self.life.session, self.alice)

    def test_no_login_once_closed(self):
        self.opened().hello()
        self.life.close()
        self.assertRaises(NoTransition, self.life.authenticate, self.alice)
        self.assertIsNone(self.life.session)
