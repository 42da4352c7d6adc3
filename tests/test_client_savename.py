"""The local name a received file is saved under (chat.client.savename): safe on Linux,
macOS and Windows, at most 255 bytes, the extension kept."""

import os
import tempfile
import unicodedata

from twisted.trial import unittest

from chat.client.savename import NAME_BYTES, local_name, save_path
from chat.protocol.errors import ProtocolError


def size(name):
    return max(len(name.encode()), len(unicodedata.normalize("NFD", name).encode()))


class LocalNameTests(unittest.TestCase):

    def test_86_chinese_characters_are_shortened_keeping_the_extension(self):
        name = "会" * 86 + ".docx"              # 263 bytes: "File name too long" before
        saved = local_name(name)
        self.assertLessEqual(size(saved), NAME_BYTES)
        self.assertEqual(saved, "会" * 83 + ".docx")   # 249 + 5 bytes
        self.assertEqual(local_name("会" * 20 + ".docx"), "会" * 20 + ".docx")

    def test_a_cut_never_splits_a_character_or_an_accent(self):
        for name in ("😀" * 70 + ".png", "e\u0301" * 130 + ".txt", "한" * 100 + ".txt",
                     "a" * 300, "x" * 250 + "." + "y" * 40):
            saved = local_name(name)
            self.assertLessEqual(size(saved), NAME_BYTES, name)
            self.assertEqual(saved, unicodedata.normalize("NFC", saved))
            self.assertFalse(unicodedata.combining(saved[0]))
            saved.encode("utf-8")             # no lone surrogate
        self.assertTrue(local_name("😀" * 70 + ".png").endswith(".png"))
        # Hangul takes three times the bytes once decomposed (macOS): counted so
        self.assertLessEqual(len(unicodedata.normalize("NFD", local_name("한" * 100))
                                 .encode()), NAME_BYTES)

    def test_windows_and_mac_characters_are_replaced(self):
        self.assertEqual(local_name('a<b>c:d"e|f?g*h.txt'), "a_b_c_d_e_f_g_h.txt")
        self.assertEqual(local_name("notes. "), "notes")
        self.assertEqual(local_name("  spaced.txt"), "spaced.txt")

    def test_invisible_and_direction_characters_are_dropped(self):
        # U+202E would show "invoice\u202efdp.exe" as "invoiceexe.pdf"
        self.assertEqual(local_name("invoice\u202efdp.exe"), "invoicefdp.exe")
        self.assertEqual(local_name("a\u200bb\u200d\ufeffc\u2066.txt"), "abc.txt")
        self.assertEqual(local_name("line\u2028break.txt"), "linebreak.txt")
        self.assertEqual(local_name("\u200b\u200b"), "download")

    def test_reserved_device_names_are_refused_or_defused(self):
        for hostile in ("CON", "nul.txt", "com1.tar.gz", "../x", "a\x00b", "/etc/passwd"):
            self.assertRaises(ProtocolError, local_name, hostile)
        # names that only become one once cleaned are made harmless
        self.assertEqual(local_name("CON\u200b.txt"), "_CON.txt")
        self.assertEqual(local_name("prn?.txt"), "prn_.txt")
        self.assertEqual(local_name("aux\u200b"), "_aux")

    def test_save_path_leaves_room_for_the_counter(self):
        folder = tempfile.mkdtemp()
        name = "文" * 84 + ".pdf"                # 256 bytes: cut to 252 + 4
        paths = []
        for _ in range(3):
            path = save_path(folder, name)
            self.assertLessEqual(size(os.path.basename(path)), NAME_BYTES)
            with open(path, "wb"):
                pass                           # the file system takes it
            paths.append(os.path.basename(path))
        self.assertTrue(paths[1].endswith(" (1).pdf"), paths[1])
        self.assertTrue(paths[2].endswith(" (2).pdf"), paths[2])
        self.assertEqual(len(set(paths)), 3)
