"""The IRC line codec: tags with escaping, source, parameters, limits, the bounded reader."""

from twisted.trial import unittest

from chat.server.irc.casemap import (
    BadName, channel_key, channel_room, irc_fold, nick_key, nick_name, room_channel)
from chat.server.irc.lines import (
    MAX_LINE, TOO_LONG, LineReader, Message, ParseError, escape_tag_value, parse_line,
    parse_tags, split_text, unescape_tag_value)


class ParseTests(unittest.TestCase):
    def test_command_params_trailing(self):
        m = parse_line("privmsg #lobby :hello there")
        self.assertEqual((m.command, m.params, m.source, m.tags),
                         ("PRIVMSG", ["#lobby", "hello there"], None, {}))

    def test_source_and_tags(self):
        m = parse_line("@time=2026-01-01T00:00:00.000Z;+draft/x=a\\sb :nick!u@h NOTICE me :hi")
        self.assertEqual(m.tags, {"time": "2026-01-01T00:00:00.000Z", "+draft/x": "a b"})
        self.assertEqual(m.source, "nick!u@h")
        self.assertEqual(m.params, ["me", "hi"])

    def test_empty_trailing_is_a_parameter(self):
        self.assertEqual(parse_line("USER u * * :").params, ["u", "*", "*", ""])

    def test_extra_spaces(self):
        self.assertEqual(parse_line("NICK   alice  ").params, ["alice"])

    def test_trailing_keeps_colons_and_spaces(self):
        self.assertEqual(parse_line("PRIVMSG a ::) x  y").params, ["a", ":) x  y"])

    def test_fifteen_parameters_at_most(self):
        m = parse_line("CMD " + " ".join(str(i) for i in range(20)))
        self.assertEqual(len(m.params), 15)
        self.assertEqual(m.params[-1], "14 15 16 17 18 19")

    def test_no_command(self):
        for line in ("", "   ", ":source", "@a=b", "@a=b :src", ":src :trailing"):
            with self.assertRaises(ParseError, msg=line):
                parse_line(line)

    def test_tag_escapes(self):
        self.assertEqual(unescape_tag_value("a\\:b\\sc\\\\d\\re\\nf"), "a;b c\\d\re\nf")
        self.assertEqual(unescape_tag_value("\\x"), "x")      # unknown escape: the character
        self.assertEqual(unescape_tag_value("abc\\"), "abc")  # a lone backslash at the end
        for value in ("a;b c\\d\r\ne", "", "plain", "中文 ok"):
            self.assertEqual(unescape_tag_value(escape_tag_value(value)), value)

    def test_tags_without_value_and_repeated(self):
        self.assertEqual(parse_tags("a;b=;c=1;c=2;;=x"), {"a": "", "b": "", "c": "2"})


class FormatTests(unittest.TestCase):
    def test_trailing_colon_when_needed(self):
        self.assertEqual(Message("PRIVMSG", ["#a", "hi there"]).to_line(), "PRIVMSG #a :hi there")
        self.assertEqual(Message("PRIVMSG", ["#a", "hi"]).to_line(), "PRIVMSG #a hi")
        self.assertEqual(Message("PRIVMSG", ["#a", ""]).to_line(), "PRIVMSG #a :")
        self.assertEqual(Message("PRIVMSG", ["#a", ":)"]).to_line(), "PRIVMSG #a ::)")

    def test_source_tags_bytes(self):
        m = Message("PRIVMSG", ["#大厅", "你好"], "张伟!u@h", {"time": "t", "+x": "a b;c"})
        self.assertEqual(m.to_bytes(),
                         "@time=t;+x=a\\sb\\:c :张伟!u@h PRIVMSG #大厅 你好\r\n".encode())
        back = parse_line(m.to_bytes().decode()[:-2])
        self.assertEqual(back, Message("PRIVMSG", ["#大厅", "你好"], "张伟!u@h",
                                       {"time": "t", "+x": "a b;c"}))

    def test_split_text_fits_bytes_and_characters(self):
        text = "你好世界" * 100          # 1200 bytes, no spaces
        pieces = split_text(text, 100)
        self.assertEqual("".join(pieces), text)
        self.assertTrue(all(len(p.encode()) <= 100 for p in pieces))

    def test_split_text_at_spaces_and_lines(self):
        self.assertEqual(split_text("aaa bbb ccc", 8), ["aaa bbb", "ccc"])
        self.assertEqual(split_text("one\n\ntwo\r\nthree", 100), ["one", " ", "two", "three"])


class ReaderTests(unittest.TestCase):
    def test_lines_in_pieces_and_line_ends(self):
        reader = LineReader()
        self.assertEqual(reader.feed(b"NICK a"), [])
        self.assertEqual(reader.feed(b"\r\nUSER u 0 * :x\nPING a\rPING b\r"),
                         [b"NICK a", b"USER u 0 * :x", b"PING a", b"PING b"])
        self.assertEqual(reader.feed(b"\n\n\r\n"), [])
        self.assertEqual(reader.buffered, 0)

    def test_body_of_510_bytes_is_allowed_511_is_not(self):
        reader = LineReader()
        ok = b"PRIVMSG #a :" + b"x" * (510 - 12)
        bad = ok + b"x"
        self.assertEqual(reader.feed(ok + b"\r\n" + bad + b"\r\n"), [ok, TOO_LONG])

    def test_tags_have_their_own_limit(self):
        reader = LineReader()
        tags = b"@+a=" + b"x" * (4094 - 3) + b" "          # 4094 bytes of tag data
        body = b"PRIVMSG #a :" + b"y" * (510 - 12)
        self.assertEqual(reader.feed(tags + body + b"\r\n"), [tags + body])
        too_many = b"@+a=" + b"x" * 4092 + b" PRIVMSG #a :hi\r\n"   # 4095 bytes
        self.assertEqual(reader.feed(too_many), [TOO_LONG])
        monster = b"@+clientOnlyTagExample=" + b"a" * 4096 + b" PRIVMSG #xyz hi!\r\n"
        self.assertEqual(reader.feed(monster), [TOO_LONG])

    def test_outgoing_lines_are_cut_to_512_bytes(self):
        from chat.server.irc.lines import truncate_line
        pong = Message("PONG", ["irc.test", "x" * 505], "irc.test").to_bytes()
        cut = truncate_line(pong)
        self.assertEqual(len(cut), 512)
        self.assertTrue(cut.endswith(b"\r\n"))
        wide = Message("PRIVMSG", ["#a", "你" * 300], "n!u@h", {"time": "t"}).to_bytes()
        cut = truncate_line(wide)
        self.assertLessEqual(len(cut) - len(b"@time=t "), 512)
        cut.decode("utf-8")                 # never inside a character
        short = Message("PING", ["x"]).to_bytes()
        self.assertEqual(truncate_line(short), short)

    def test_endless_line_holds_bounded_memory(self):
        reader = LineReader()
        results = []
        for _ in range(1000):
            results += reader.feed(b"z" * 4096)
            self.assertLessEqual(reader.buffered, MAX_LINE)
        self.assertEqual(results, [TOO_LONG])      # said once, not per chunk
        self.assertEqual(reader.feed(b"tail\r\nPING x\r\n"), [b"PING x"])

    def test_overlong_line_in_pieces_then_normal(self):
        reader = LineReader()
        out = reader.feed(b"a" * 600)
        out += reader.feed(b"b" * 600 + b"\r\nPING ok\r\n")
        self.assertEqual(out, [TOO_LONG, b"PING ok"])


class CasemapTests(unittest.TestCase):
    def test_nicks_fold_like_account_names(self):
        self.assertEqual(nick_key("Alice"), nick_key("ALICE"))
        self.assertEqual(nick_key("ＡＬＩＣＥ"), nick_key("alice"))   # full width
        self.assertEqual(nick_key("张伟"), "张伟")
        self.assertEqual(nick_name("张伟"), "张伟")
        self.assertEqual(irc_fold("ALICE"), nick_key("alice"))

    def test_bad_nicks(self):
        for nick in ("", "#chan", ":x", "a b", "a" * 33, "nick!", "a\u3164", "@op"):
            with self.assertRaises(BadName, msg=nick):
                nick_name(nick)

    def test_channels_are_rooms(self):
        self.assertEqual(channel_room("#Lobby"), "Lobby")
        self.assertEqual(channel_key("#LOBBY"), "lobby")
        self.assertEqual(room_channel("大厅"), "#大厅")
        for channel in ("lobby", "#", "#a b", "#a,b", "&local", "#" + "x" * 33):
            with self.assertRaises(BadName, msg=channel):
                channel_room(channel)
