"""CHATHISTORY (draft/chathistory) over the server's stored history, without sockets."""

from twisted.trial import unittest

from chat.protocol.timestamps import format_ts
from tests.harness import user
from tests.irc_harness import make_gateway, registered


class ChatHistoryTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway()
        self.server = self.gateway.server
        self.native = user(self.server, "bob")
        self.ids, self.times = [], []
        for i in range(10):
            self.server.clock.advance(1)
            ok = self.native.ok("send", to="#lobby", text=f"m{i}", cid=f"c{i}")
            self.ids.append(ok["msg_id"])
            self.times.append(ok["ts"])
        self.native.ok("send", to="@bob", text="to myself", cid="self")
        self.irc = registered(self.gateway, "alice", caps=["batch", "server-time",
                                                          "message-tags", "draft/chathistory"])
        self.irc.lines()

    def history(self, line):
        self.irc.send(line)
        lines = self.irc.lines()
        self.assertEqual(lines[0].command, "BATCH", lines)
        self.assertEqual(lines[0].params[1:], ["chathistory", "#lobby"])
        ref = lines[0].params[0][1:]
        self.assertEqual(lines[-1].params, ["-" + ref])
        body = lines[1:-1]
        for line in body:
            self.assertEqual(line.tags["batch"], ref)
            self.assertEqual(line.command, "PRIVMSG")
        return [line.params[1] for line in body], body

    def test_latest(self):
        texts, body = self.history("CHATHISTORY LATEST #lobby * 3")
        self.assertEqual(texts, ["m7", "m8", "m9"])
        self.assertEqual(body[0].tags["msgid"], str(self.ids[7]))
        self.assertEqual(body[0].tags["time"], self.times[7])
        self.assertEqual(body[0].source, "bob!bob@irc.test")
        texts, _ = self.history(f"CHATHISTORY LATEST #lobby msgid={self.ids[6]} 10")
        self.assertEqual(texts, ["m7", "m8", "m9"])

    def test_before_after_around_between_by_id(self):
        self.assertEqual(self.history(f"CHATHISTORY BEFORE #lobby msgid={self.ids[5]} 2")[0],
                         ["m3", "m4"])
        self.assertEqual(self.history(f"CHATHISTORY AFTER #lobby msgid={self.ids[5]} 2")[0],
                         ["m6", "m7"])
        self.assertEqual(self.history(f"CHATHISTORY AROUND #lobby msgid={self.ids[5]} 4")[0],
                         ["m3", "m4", "m5", "m6"])
        self.assertEqual(self.history(
            f"CHATHISTORY BETWEEN #lobby msgid={self.ids[1]} msgid={self.ids[5]} 10")[0],
            ["m2", "m3", "m4"])
        self.assertEqual(self.history(
            f"CHATHISTORY BETWEEN #lobby msgid={self.ids[5]} msgid={self.ids[1]} 2")[0],
            ["m3", "m4"])

    def test_by_timestamp(self):
        self.assertEqual(self.history(
            f"CHATHISTORY BEFORE #lobby timestamp={self.times[5]} 2")[0], ["m3", "m4"])
        self.assertEqual(self.history(
            f"CHATHISTORY AFTER #lobby timestamp={self.times[5]} 2")[0], ["m6", "m7"])
        self.assertEqual(self.history(
            f"CHATHISTORY BETWEEN #lobby timestamp={self.times[1]} timestamp={self.times[4]} 10"
        )[0], ["m2", "m3"])

    def test_private_history_and_targets(self):
        self.native.ok("send", to="@alice", text="hi alice", cid="p1")
        self.irc.lines()
        self.irc.send("PRIVMSG bob :hi bob")
        self.irc.send("CHATHISTORY LATEST bob * 10")
        lines = self.irc.lines()
        body = [(m.source.split("!")[0], m.params) for m in lines if m.command == "PRIVMSG"]
        self.assertEqual(body, [("bob", ["alice", "hi alice"]), ("alice", ["bob", "hi bob"])])
        start = format_ts(0)
        end = format_ts(int(self.server.clock.seconds() * 1000) + 1000)
        self.irc.send(f"CHATHISTORY TARGETS timestamp={start} timestamp={end} 10")
        targets = [m.params[1] for m in self.irc.lines() if m.command == "CHATHISTORY"]
        self.assertEqual(sorted(targets), ["#lobby", "bob"])

    def test_errors(self):
        self.native.ok("create_room", room="secret")
        for line, code in (("CHATHISTORY FOO #lobby * 1", "INVALID_PARAMS"),
                           ("CHATHISTORY LATEST #lobby *", "NEED_MORE_PARAMS"),
                           ("CHATHISTORY LATEST #lobby * x", "INVALID_PARAMS"),
                           ("CHATHISTORY LATEST #secret * 5", "INVALID_TARGET"),
                           ("CHATHISTORY LATEST #nope * 5", "INVALID_TARGET"),
                           ("CHATHISTORY LATEST nobody * 5", "INVALID_TARGET"),
                           ("CHATHISTORY BEFORE #lobby id=5 5", "INVALID_MSGREFTYPE"),
                           ("CHATHISTORY BEFORE #lobby * 5", "INVALID_MSGREFTYPE"),
                           ("CHATHISTORY BEFORE #lobby msgid=x 5", "INVALID_PARAMS")):
            self.irc.send(line)
            fail = self.irc.lines()[0]
            self.assertEqual((fail.command, fail.params[:2]), ("FAIL", ["CHATHISTORY", code]),
                             line)

    def test_burn_messages_are_left_out(self):
        self.native.ok("send", to="@alice", text="secret", cid="b", burn=60)
        self.irc.lines()
        self.irc.send("CHATHISTORY LATEST bob * 10")
        texts = [m.params[1] for m in self.irc.lines() if m.command == "PRIVMSG"]
        self.assertNotIn("secret", texts)
