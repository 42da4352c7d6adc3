"""Every visible string has both translations: same keys, same placeholders, and every key
the desktop client asks for exists (found by reading its source)."""

import pathlib
import re
import string

from chat.cli import text as cli_text
from chat.qtclient import strings
from chat.qtclient.i18n import LANGUAGES, lookup

SOURCE = pathlib.Path(__file__).resolve().parents[2] / "chat" / "qtclient"
# tr("key" ...) and tr('key' ...): every call of a translator in the desktop client
USED = re.compile(r"""\btr\(\s*["']([a-z0-9_]+)["']""")


def placeholders(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def used_keys() -> dict:
    found = {}
    for path in SOURCE.rglob("*.py"):
        for key in USED.findall(path.read_text(encoding="utf-8")):
            found.setdefault(key, path.name)
    return found


def test_both_catalogues_have_the_same_keys_and_placeholders():
    assert set(strings.EN) == set(strings.ZH), set(strings.EN) ^ set(strings.ZH)
    for key in strings.EN:
        assert placeholders(strings.EN[key]) == placeholders(strings.ZH[key]), key
        assert strings.ZH[key] != "" and strings.EN[key] != "", key


def test_every_key_the_client_uses_is_translated():
    used = used_keys()
    assert len(used) > 10          # the scan found the calls (a broken regex would pass)
    missing = []
    for key, where in used.items():
        for lang in LANGUAGES:
            try:
                lookup(lang, key)
            except KeyError:
                missing.append(f"{key} ({lang}, used in {where})")
    assert not missing, missing


def test_shared_keys_come_from_the_terminal_clients_catalogue():
    # a key defined in both places would let the two clients word one thing differently
    assert not set(strings.EN) & set(cli_text.EN), set(strings.EN) & set(cli_text.EN)


def test_chinese_catalogue_is_chinese():
    # a copy-pasted English string in the Chinese catalogue is a missing translation
    untranslated = [k for k, v in strings.ZH.items()
                    if v == strings.EN[k] and re.search(r"[A-Za-z]{4,}", v)
                    and not re.fullmatch(r"[\W\d_]*(\{[a-z_]+\}[\W\d_]*)*", v)]
    assert not untranslated, untranslated
