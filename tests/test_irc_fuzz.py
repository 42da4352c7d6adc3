"""Whatever an IRC client sends, the gateway answers with valid lines and never fails: random
commands, parameters and bytes (hypothesis) at a registered connection."""

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.trial import unittest

from chat.server.irc.commands import COMMANDS
from tests.irc_harness import IRCClient, make_gateway, registered

WORDS = st.sampled_from(["#lobby", "#new", "#", "alice", "bob", "nobody", "*", "0", "+o",
                         "-o", "+i", "+t", "+v", "b", "msgid=1", "timestamp=2026-01-01T00:00:"
                         "00.000Z", "LATEST", "BEFORE", "TARGETS", ":", "::", "张伟", "\x01"])
PARAM = st.one_of(WORDS, st.text(min_size=0, max_size=12).filter(
    lambda t: not any(c in t for c in " \r\n\0")))


class FuzzTests(unittest.TestCase):
    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(sorted(COMMANDS) + ["FOO", "privmsg"]),
                              st.lists(PARAM, max_size=4),
                              st.booleans()), min_size=1, max_size=8))
    def test_random_commands_never_fail(self, commands):
        gateway = make_gateway()
        client = registered(gateway, "alice", caps=["labeled-response", "batch",
                                                    "message-tags", "echo-message"])
        other = registered(gateway, "bob")
        client.lines()
        for name, params, label in commands:
            if client.closed:
                break
            line = ("@label=x " if label else "") + name
            if params:
                line += " " + " ".join(params[:-1] + [":" + params[-1]])
            client.send(line)
            for message in client.lines():       # each line parses and fits 512 bytes
                self.assertNotEqual(message.command, "400", line)   # no internal error
        other.lines()

    @settings(max_examples=60, deadline=None)
    @given(st.binary(max_size=2000))
    def test_random_bytes_before_registration(self, data):
        client = IRCClient(make_gateway())
        client.raw(data + b"\r\n")
        for message in client.lines():
            self.assertNotEqual(message.command, "400")
