"""The terminal client's pure parts: input parsing, the two catalogues, the line formatter."""

import os
import string
from datetime import timedelta, timezone
from unittest import mock

from twisted.trial import unittest

from chat.cli import text
from chat.cli.format import Formatter
from chat.cli.parse import ADMIN_COMMANDS, Command, ParseError, parse_line
from chat.client.transfers import Transfer, TransferState
from chat.protocol.errors import ALL_CODES

TS = "2026-11-24T23:59:01.123Z"


class ParseTests(unittest.TestCase):
    def parses(self, line, *args, **fields):
        self.assertEqual(parse_line(line), Command(*args, **fields))

    def fails(self, line, key, **params):
        error = self.assertRaises(ParseError, parse_line, line)
        self.assertEqual((error.key, error.params), (key, params))

    def usage(self, line, usage):
        self.fails(line, "usage", usage=usage)

    def test_blank(self):
        self.assertIsNone(parse_line(""))
        self.assertIsNone(parse_line("  \t "))

    def test_say(self):
        self.parses("hello  world", "say", text="hello  world")
        self.parses("  padded  ", "say", text="padded")
        self.parses("你好 👋", "say", text="你好 👋")

    def test_double_slash_is_literal(self):
        self.parses("//me waves", "say", text="/me waves")
        self.parses("//", "say", text="/")

    def test_msg(self):
        self.parses("/msg @bob hello there", "msg", target="bob", text="hello there")
        self.parses("/msg bob hi", "msg", target="bob", text="hi")
        self.parses("/MSG @bob  spaced   out", "msg", target="bob", text="spaced   out")
        self.parses("/msg @bob", "msg", target="bob", text="")
        self.usage("/msg", "/msg @user text")
        self.usage("/msg @", "/msg @user text")

    def test_join(self):
        self.parses("/join dev", "join", target="dev")
        self.parses("/join #dev", "join", target="dev")
        self.parses("/Join #张伟", "join", target="张伟")
        self.usage("/join", "/join #room")
        self.usage("/join #", "/join #room")
        self.usage("/join dev ops", "/join #room")

    def test_leave(self):
        self.parses("/leave", "leave")
        self.parses("/leave dev", "leave", target="dev")
        self.parses("/leave #dev", "leave", target="dev")

    def test_bare_commands(self):
        for word in ("rooms", "users", "help", "list", "files"):
            self.parses(f"/{word}", word)
            self.parses(f"/{word.upper()}", word)

    def test_quit(self):
        for line in ("/quit", "/exit", "/QUIT", "exit", "quit", "  Exit ", "QUIT"):
            self.parses(line, "quit")
        self.parses("quit now", "say", text="quit now")

    def test_topic(self):
        self.parses("/topic release  friday", "topic", text="release  friday")
        self.parses("/topic", "topic", text="")

    def test_history(self):
        self.parses("/history", "history", number=20)
        self.parses("/history 50", "history", number=50)
        self.parses("/history 1", "history", number=1)
        self.parses("/history 200", "history", number=200)
        self.parses("/history ５０", "history", number=50)   # full-width digits of an IME
        for bad in ("0", "201", "-3", "ten", "5.5", "5 6"):
            self.fails(f"/history {bad}", "bad_number", min=1, max=200)

    def test_burn(self):
        self.parses("/burn secret  stuff", "burn", text="secret  stuff")
        self.usage("/burn", "/burn text")

    def test_notice(self):
        self.parses("/notice lunch at noon", "notice", text="lunch at noon")
        self.parses("/notice @bob see me", "notice", target="bob", text="see me")
        self.parses("/notice bob see me", "notice", text="bob see me")
        self.usage("/notice", "/notice [@user] text")
        self.usage("/notice @bob", "/notice [@user] text")

    def test_user_and_unban(self):
        self.parses("/user Bob", "user", target="Bob")
        self.parses("/user @bob", "user", target="bob")
        self.parses("/unban bob", "unban", target="bob")
        self.usage("/user", "/user NAME")
        self.usage("/unban", "/unban NAME")

    def test_kick_and_ban(self):
        self.parses("/kick bob", "kick", target="bob", text="")
        self.parses("/kick bob stop  spamming", "kick", target="bob", text="stop  spamming")
        self.parses("/ban @bob spam", "ban", target="bob", text="spam")
        self.usage("/kick", "/kick NAME [reason]")
        self.usage("/ban", "/ban NAME [reason]")

    def test_monitor(self):
        self.parses("/monitor on", "monitor", flag=True)
        self.parses("/monitor OFF", "monitor", flag=False)
        for bad in ("/monitor", "/monitor yes", "/monitor 开"):
            self.usage(bad, "/monitor on|off")

    def test_shutdown(self):
        self.parses("/shutdown", "shutdown", number=0, text="")
        self.parses("/shutdown 30 maintenance now", "shutdown", number=30,
                    text="maintenance now")
        self.parses("/shutdown 3600", "shutdown", number=3600, text="")
        self.parses("/shutdown maintenance", "shutdown", number=0, text="maintenance")
        self.fails("/shutdown 3601 late", "bad_number", min=0, max=3600)
        self.fails("/shutdown -5", "bad_number", min=0, max=3600)

    def test_send(self):
        self.parses("/send notes.txt", "send", text="notes.txt")
        self.parses("/send my notes.txt", "send", text="my notes.txt")
        self.parses("/send @bob a.png", "send", target="bob", text="a.png")
        self.parses("/send @all a.png", "send", target="all", text="a.png")
        self.usage("/send", "/send [@user|@all] path")
        self.usage("/send @bob", "/send [@user|@all] path")
        self.usage("/send @ a.png", "/send [@user|@all] path")

    def test_get(self):
        self.parses("/get 12", "get", number=12, text="")
        self.parses("/get 12 ~/Downloads", "get", number=12, text="~/Downloads")
        self.usage("/get", "/get ID [dir]")
        self.usage("/get abc", "/get ID [dir]")

    def test_unknown_command(self):
        self.fails("/frobnicate now", "unknown_command", command="/frobnicate")
        self.fails("/Me waves", "unknown_command", command="/Me")
        self.fails("/", "unknown_command", command="/")

    def test_admin_commands(self):
        self.assertEqual(ADMIN_COMMANDS, frozenset(
            {"notice", "list", "user", "kick", "ban", "unban", "monitor", "shutdown"}))

    def test_every_error_has_a_text(self):
        for line in ("/msg", "/history 0", "/nope"):
            error = self.assertRaises(ParseError, parse_line, line)
            for lang in text.LANGUAGES:
                self.assertTrue(text.tr(lang, error.key, **error.params))


class CatalogueTests(unittest.TestCase):
    @staticmethod
    def placeholders(template):
        return {field for _, field, _, _ in string.Formatter().parse(template) if field}

    def test_same_keys_and_placeholders(self):
        self.assertEqual(text.LANGUAGES, ("en", "zh"))
        self.assertEqual(set(text.EN), set(text.ZH))
        for key in text.EN:
            self.assertEqual(self.placeholders(text.EN[key]), self.placeholders(text.ZH[key]),
                             key)

    def test_required_keys(self):
        required = """welcome system_prefix notice_prefix private_marker you monitor_prefix
            cannot_connect bad_credentials name_taken registered banned kicked connection_lost
            reconnecting reconnected unknown_command usage bad_number joined left you_joined
            you_left now_in topic topic_show online offline users_header rooms_header
            history_header no_history burn_sent burned read monitoring_allowed monitor_on
            monitor_off shutdown_warning server_closed forbidden not_found error unsent_at_exit
            pending send_failed prompt_host prompt_port prompt_user prompt_password
            prompt_password_again passwords_differ help_user help_admin sessions_header"""
        self.assertEqual(set(required.split()) - set(text.EN), set())

    def test_every_error_code_is_named(self):
        # a code without a name shows raw ("no_space") in an otherwise translated line
        for lang in text.LANGUAGES:
            for code in ALL_CODES:
                self.assertTrue(text.tr(lang, "code_" + code), (lang, code))

    def test_tr(self):
        self.assertEqual(text.tr("en", "cannot_connect", host="h", port=5000, reason="refused"),
                         "cannot connect to h:5000: refused; is the server running?")
        self.assertEqual(text.tr("zh", "joined", user="bob", room="dev"), "bob 加入了 #dev。")
        self.assertEqual(text.tr("fr", "you"), "you")
        self.assertRaises(KeyError, text.tr, "en", "no_such_key")
        self.assertRaises(KeyError, text.tr, "zh", "joined", user="bob")

    def test_help_covers_every_command(self):
        commands = """msg join leave rooms users topic history burn send files get help quit
            exit""".split()
        for lang in text.LANGUAGES:
            help_user = text.tr(lang, "help_user")
            help_admin = text.tr(lang, "help_admin")
            for word in commands:
                self.assertIn("/" + word, help_user, (lang, word))
            for word in ADMIN_COMMANDS:
                self.assertIn("/" + word, help_admin, (lang, word))

    def test_help_columns_line_up_in_terminal_columns(self):
        for lang in text.LANGUAGES:
            for key in ("help_user", "help_admin"):
                rows = text.tr(lang, key).split("\n")[1:]
                # the description starts after the last run of two spaces
                starts = {text.display_width(row[:row.rindex("  ") + 2]) for row in rows}
                self.assertEqual(len(starts), 1, (lang, key, starts))

    def test_display_width(self):
        self.assertEqual(text.display_width("ab张伟"), 6)
        self.assertEqual(text.pad("张伟", 6) + "|", "张伟  |")


class DefaultLanguageTests(unittest.TestCase):
    def language(self, **environ):
        with mock.patch.dict(os.environ, environ, clear=True):
            return text.default_language()

    def test_locale_variables(self):
        self.assertEqual(self.language(), "en")
        self.assertEqual(self.language(LANG="zh_CN.UTF-8"), "zh")
        self.assertEqual(self.language(LANG="zh_TW.UTF-8"), "zh")
        self.assertEqual(self.language(LANG="en_US.UTF-8"), "en")
        self.assertEqual(self.language(LANG="de_DE.UTF-8"), "en")
        self.assertEqual(self.language(LC_MESSAGES="zh_CN.UTF-8", LANG="en_US.UTF-8"), "zh")
        self.assertEqual(self.language(LC_ALL="C", LC_MESSAGES="zh_CN", LANG="zh_CN"), "en")
        self.assertEqual(self.language(LC_ALL="", LANG="zh_CN"), "zh")


def msg(**fields):
    base = {"id": 7, "conv": "#lobby", "from": "alice", "to": "#lobby", "ts": TS,
            "cid": "c1", "text": "hi"}
    return {**base, **fields}


class FormatterTestCase(unittest.TestCase):
    def setUp(self):
        self.en = Formatter("en", "alice", tz=timezone.utc)
        self.zh = Formatter("zh", "alice", tz=timezone.utc)

    def both(self, method, *args, en, zh, **kwargs):
        self.assertEqual(getattr(self.en, method)(*args, **kwargs), en)
        self.assertEqual(getattr(self.zh, method)(*args, **kwargs), zh)


class FormatMessageTests(FormatterTestCase):
    def test_clock(self):
        self.both("clock", TS, en="23:59:01", zh="23:59:01")
        east = Formatter("en", "alice", tz=timezone(timedelta(hours=8)))
        self.assertEqual(east.clock(TS), "07:59:01")
        self.assertEqual(self.en.clock("2026-11-24T10:00:00.999Z"), "10:00:00")
        self.assertRegex(Formatter("en", "alice").clock(TS), r"^\d\d:\d\d:01$")

    def test_room_message(self):
        self.both("message", msg(), "#lobby",
                  en="[23:59:01] alice: hi", zh="[23:59:01] alice: hi")
        self.both("message", msg(**{"from": "bob"}), "#LOBBY",
                  en="[23:59:01] bob: hi", zh="[23:59:01] bob: hi")

    def test_room_message_elsewhere(self):
        self.both("message", msg(conv="#dev", to="#dev"), "#lobby",
                  en="[23:59:01] [#dev] alice: hi", zh="[23:59:01] [#dev] alice: hi")
        self.both("message", msg(), "@bob",
                  en="[23:59:01] [#lobby] alice: hi", zh="[23:59:01] [#lobby] alice: hi")

    def test_private_received(self):
        received = msg(conv="@bob", to="@alice", **{"from": "bob"})
        self.both("message", received, "#lobby",
                  en="[23:59:01] [private] bob -> you: hi",
                  zh="[23:59:01] [私聊] bob -> 你: hi")

    def test_private_sent(self):
        sent = msg(conv="@bob", to="@bob", **{"from": "Alice"})
        self.both("message", sent, "@bob",
                  en="[23:59:01] [private] you -> bob: hi",
                  zh="[23:59:01] [私聊] 你 -> bob: hi")

    def test_burn(self):
        self.both("message", msg(burn=5), "#lobby",
                  en="[23:59:01] alice: hi  (burns 5 s after reading)",
                  zh="[23:59:01] alice: hi  （阅后 5 秒焚毁）")
        burned = msg(burn=5, burned=True)
        del burned["text"]
        self.both("message", burned, "#lobby",
                  en="[23:59:01] alice: (burned)", zh="[23:59:01] alice: （已焚毁）")

    def test_no_escape_sequences_and_no_fake_lines(self):
        evil = msg(text="\x1b[2Jwiped\r\n[23:59:02] admin: trust me\n")
        self.assertEqual(self.en.message(evil, "#lobby"),
                         "[23:59:01] alice: \ufffd[2Jwiped\n    [23:59:02] admin: trust me")
        self.assertEqual(self.en.message(msg(text="a\tb\n\nc"), "#lobby"),
                         "[23:59:01] alice: a\tb\n\n    c")

    def test_history(self):
        messages = [msg(), msg(id=8, text="again", **{"from": "bob"})]
        self.both("history", "#lobby", messages,
                  en=["Last 2 messages in #lobby:", "[23:59:01] alice: hi",
                      "[23:59:01] bob: again"],
                  zh=["#lobby 最近 2 条消息：", "[23:59:01] alice: hi", "[23:59:01] bob: again"])
        self.both("history", "#dev", [msg()],
                  en=["Last 1 messages in #dev:", "[23:59:01] [#lobby] alice: hi"],
                  zh=["#dev 最近 1 条消息：", "[23:59:01] [#lobby] alice: hi"])
        self.both("history", "@bob", [], en=["No messages yet."], zh=["还没有消息。"])


class FormatEventTests(FormatterTestCase):
    def test_system(self):
        self.both("system", "welcome", user="alice", online=3, room="lobby",
                  en="[system] Welcome, alice! Online now: 3. You are in #lobby. "
                     "Type /help for commands.",
                  zh="【系统】欢迎，alice！当前在线 3 人。你在 #lobby。输入 /help 查看命令。")
        self.both("system", "you_joined", room="dev", topic="",
                  en="[system] You joined #dev.", zh="【系统】你已加入 #dev。")
        self.both("system", "unsent_at_exit", n=2, list="one\ntwo",
                  en="[system] Not confirmed by the server, may be lost (2):\n    one\n    two",
                  zh="【系统】以下 2 条消息未获服务器确认，可能丢失：\n    one\n    two")

    def test_notice(self):
        event = {"type": "notice", "from": "root", "text": "lunch", "ts": TS}
        self.both("notice", event,
                  en="[23:59:01] [notice] root: lunch", zh="[23:59:01] 【公告】root：lunch")
        self.both("notice", {**event, "kind": "notice", "to": "alice"},
                  en="[23:59:01] [notice] root -> you: lunch",
                  zh="[23:59:01] 【公告】root -> 你：lunch")
        self.both("notice", {**event, "to": "bob"},
                  en="[23:59:01] [notice] root -> bob: lunch",
                  zh="[23:59:01] 【公告】root -> bob：lunch")

    def test_shutdown_notice(self):
        event = {"type": "notice", "from": "root", "text": "maintenance", "ts": TS,
                 "kind": "shutdown", "seconds": 30}
        self.both("notice", event,
                  en="[23:59:01] [notice] root: The server will shut down in 30 s. maintenance",
                  zh="[23:59:01] 【公告】root：服务器将在 30 秒后关闭。maintenance")
        self.both("notice", {**event, "seconds": 0, "text": ""},
                  en="[23:59:01] [notice] root: The server is shutting down now.",
                  zh="[23:59:01] 【公告】root：服务器正在关闭。")

    def test_monitor(self):
        self.both("monitor", msg(**{"from": "carol"}),
                  en="[monitor] [23:59:01] #lobby carol: hi",
                  zh="【监控】[23:59:01] #lobby carol: hi")
        self.both("monitor", msg(conv="@bob", to="@bob", burn=5, **{"from": "carol"}),
                  en="[monitor] [23:59:01] carol -> @bob: hi  (burns 5 s after reading)",
                  zh="【监控】[23:59:01] carol -> @bob: hi  （阅后 5 秒焚毁）")

    def test_error(self):
        self.both("error", "forbidden", "cannot leave lobby",
                  en="[system] Error (not allowed): cannot leave lobby",
                  zh="【系统】出错（无权操作）：cannot leave lobby")
        self.both("error", "teapot", "short and stout",
                  en="[system] Error (teapot): short and stout",
                  zh="【系统】出错（teapot）：short and stout")


    def test_transfer_outcomes(self):
        transfer = Transfer("down", "report.pdf", 2048, state=TransferState.CANCELLED)
        self.both("transfer", transfer, en="[system] Transfer of report.pdf cancelled.",
                  zh="【系统】report.pdf 的传输已取消。")
        transfer.state, transfer.error = TransferState.FAILED, ("not_found", "no such file")
        self.both("transfer", transfer, en="[system] Transfer of report.pdf failed: no such file",
                  zh="【系统】report.pdf 传输失败：no such file")
        self.both("error", "cancelled", "request 4 was cancelled",
                  en="[system] Error (cancelled): request 4 was cancelled",
                  zh="【系统】出错（已取消）：request 4 was cancelled")


class FormatListTests(FormatterTestCase):
    def test_users(self):
        data = {"online": 1, "more": False, "users": [
            {"name": "alice", "online": True, "admin": True, "last_seen": None},
            {"name": "张伟", "online": False, "admin": False,
             "last_seen": "2026-11-24T20:01:00.000Z"},
            {"name": "carol", "online": False, "admin": False, "last_seen": None}]}
        self.both("users", data,
                  en=["Users: 1 online, 3 listed",
                      "  alice [admin]  online",
                      "  张伟           last seen 2026-11-24 20:01",
                      "  carol          never seen"],
                  zh=["用户：在线 1 人，列出 3 人",
                      "  alice [管理员]  在线",
                      "  张伟            最近在线 2026-11-24 20:01",
                      "  carol           从未上线"])

    def test_users_with_a_guest(self):
        data = {"online": 2, "more": False, "users": [
            {"name": "alice", "online": True, "admin": False, "last_seen": None},
            {"name": "visitor", "online": True, "admin": False, "last_seen": None,
             "guest": True}]}
        self.both("users", data,
                  en=["Users: 2 online, 2 listed",
                      "  alice            online",
                      "  visitor [guest]  online"],
                  zh=["用户：在线 2 人，列出 2 人",
                      "  alice           在线",
                      "  visitor [访客]  在线"])

    def test_users_more(self):
        data = {"online": 0, "more": True, "users": []}
        self.both("users", data, en=["Users: 0 online, 0 listed", "  (more not shown)"],
                  zh=["用户：在线 0 人，列出 0 人", "  （还有更多未显示）"])

    def test_rooms(self):
        rooms = [{"name": "lobby", "topic": "", "members": 3, "member": True},
                 {"name": "dev", "topic": "builds", "members": 12, "member": False}]
        self.both("rooms", rooms,
                  en=["Rooms (* = joined):", "  * #lobby  (3)", "    #dev    (12)  builds"],
                  zh=["聊天室（* 表示已加入）：", "  * #lobby  (3)", "    #dev    (12)  builds"])

    def test_rooms_admin_view(self):
        rooms = [{"name": "dev", "topic": "builds", "members": 2, "member": True,
                  "member_names": ["bob", "carol"]}]
        self.both("rooms", rooms,
                  en=["Rooms (* = joined):", "  * #dev  (2)  builds",
                      "      members: bob, carol"],
                  zh=["聊天室（* 表示已加入）：", "  * #dev  (2)  builds",
                      "      成员：bob, carol"])

    def test_sessions(self):
        data = {"online": 2, "more": False, "sessions": [
            {"user": "alice", "address": "127.0.0.1", "port": 50312, "client": "chat-cli/0.1",
             "since": "2026-11-24T23:00:00.000Z", "admin": True, "idle": 0},
            {"user": "bob", "address": "::1", "port": 6, "client": "chat-gui/0.1",
             "since": "2026-11-24T22:05:00.000Z", "admin": False, "idle": 3725},
            {"user": "carol", "address": "10.0.0.9", "port": 7, "client": "chat-cli/0.1",
             "since": "2026-11-24T22:10:00.000Z", "admin": False, "idle": 312}]}
        self.both("sessions", data,
                  en=["Connections (2 users online):",
                      "  alice [admin]  127.0.0.1:50312  chat-cli/0.1  since 2026-11-24 23:00"
                      "  idle 0 s",
                      "  bob            [::1]:6          chat-gui/0.1  since 2026-11-24 22:05"
                      "  idle 1 h 2 min",
                      "  carol          10.0.0.9:7       chat-cli/0.1  since 2026-11-24 22:10"
                      "  idle 5 min"],
                  zh=["当前连接（在线 2 人）：",
                      "  alice [管理员]  127.0.0.1:50312  chat-cli/0.1  2026-11-24 23:00 起"
                      "  空闲 0 秒",
                      "  bob             [::1]:6          chat-gui/0.1  2026-11-24 22:05 起"
                      "  空闲 1 小时 2 分钟",
                      "  carol           10.0.0.9:7       chat-cli/0.1  2026-11-24 22:10 起"
                      "  空闲 5 分钟"])

    def test_sessions_from_a_server_without_idle_times(self):
        data = {"online": 1, "more": False, "sessions": [
            {"user": "bob", "address": "::1", "port": 6, "client": "chat-gui/0.1",
             "since": "2026-11-24T22:05:00.000Z", "admin": False}]}
        self.both("sessions", data,
                  en=["Connections (1 users online):",
                      "  bob  [::1]:6  chat-gui/0.1  since 2026-11-24 22:05"],
                  zh=["当前连接（在线 1 人）：",
                      "  bob  [::1]:6  chat-gui/0.1  2026-11-24 22:05 起"])

    def test_user_info_online(self):
        user = {"name": "alice", "admin": True, "avatar": False, "online": True,
                "created": "2026-11-20T10:00:00.000Z", "last_seen": None, "banned": False,
                "ban_reason": "", "rooms": ["lobby", "dev"],
                "sessions": [{"address": "10.0.0.2", "port": 4000, "client": "chat-cli/0.1",
                              "since": "2026-11-24T23:00:00.000Z"}]}
        self.both("user_info", user,
                  en=["alice [admin]  online", "  created 2026-11-20 10:00",
                      "  rooms: #lobby, #dev",
                      "  connected from 10.0.0.2:4000 (chat-cli/0.1) since 2026-11-24 23:00"],
                  zh=["alice [管理员]  在线", "  注册于 2026-11-20 10:00",
                      "  聊天室：#lobby, #dev",
                      "  2026-11-24 23:00 起从 10.0.0.2:4000 连接（chat-cli/0.1）"])

    def test_user_info_banned(self):
        user = {"name": "bob", "admin": False, "avatar": False, "online": False,
                "created": "2026-11-20T10:00:00.000Z", "last_seen": "2026-11-24T20:01:00.000Z",
                "banned": True, "ban_reason": "spam", "rooms": ["lobby"], "sessions": []}
        self.both("user_info", user,
                  en=["bob [banned]  last seen 2026-11-24 20:01", "  created 2026-11-20 10:00",
                      "  ban reason: spam", "  rooms: #lobby"],
                  zh=["bob [已封禁]  最近在线 2026-11-24 20:01", "  注册于 2026-11-20 10:00",
                      "  封禁原因：spam", "  聊天室：#lobby"])
