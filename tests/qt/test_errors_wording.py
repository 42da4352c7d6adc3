"""What went wrong, worded in the UI's language (issue 14, defect 7): the server's English
messages never reach the Chinese UI; the client core's reasons and the end of a session an
admin decided are worded from the catalogue."""

from chat.protocol import errors as codes
from chat.qtclient.errors import describe_bye, describe_error, describe_reason
from chat.qtclient.i18n import Translator

EN, ZH = Translator("en"), Translator("zh")


def english_in(text: str) -> bool:
    import re
    return bool(re.search(r"[A-Za-z]{3,}", text.replace("SHA-256", "").replace("TLS", "")))


def test_every_error_code_is_worded_in_chinese_without_the_servers_english():
    names = sorted(codes.ALL_CODES)
    assert "not_found" in names and "no_space" in names      # the scan found the codes
    for code in names + ["not_connected", "local_error", "checksum"]:
        zh = describe_error(ZH, code, "some English detail from the server")
        assert not english_in(zh), (code, zh)
        assert describe_error(EN, code, "the server's detail") == "the server's detail"
        assert describe_error(EN, code, "")                      # never empty
    assert describe_error(ZH, "brand_new_code", "x") == "服务器拒绝了此操作（brand_new_code）。"
    assert describe_error(ZH, "not_found", "no such room: 开发") == "没有这个聊天室：开发"


def test_reasons_of_the_client_core_in_both_languages():
    for reason in ("connection refused", "connection lost", "unknown host", "timed out",
                   "no answer from the server for 60 s", "timed out during the TLS handshake",
                   "TLS handshake failed (wrong version number); is 127.0.0.1:5000 a TLS port?",
                   "something nobody foresaw"):
        assert not english_in(describe_reason(ZH.tr, reason)), reason
    assert describe_reason(EN.tr, "something nobody foresaw") == "something nobody foresaw"
    assert describe_reason(ZH.tr, "connection refused") == "连接被拒绝"


def test_kicked_and_banned_say_who_and_why():
    assert describe_bye(EN, "kicked", "kicked by root") == "An admin (root) disconnected you."
    assert describe_bye(ZH, "banned", "banned by root: 刷屏") == "管理员（root）已封禁此账号。原因：刷屏"
    assert describe_bye(ZH, "kicked", "odd") == "管理员已将你断开连接。"
    assert describe_bye(ZH, "abuse", "too many malformed frames") == "服务器关闭了连接（错误请求过多）。"
