"""Checking the admin's password again (to unlock the admin panel) without keeping it.

At login the app makes a :class:`PasswordCheck` from the password the user typed; the check
keeps only a random salt and the scrypt digest of the password, in memory. The password
itself is dropped: a memory dump or a forgotten debug print shows nothing a user could type.
"""

import hashlib
import hmac
import os
import unicodedata

# scrypt with n=2**14, r=8 takes about 16 MiB and a few tens of milliseconds: slow enough
# to make guessing from a stolen digest expensive, quick enough not to freeze the window
_N, _R, _P = 2 ** 14, 8, 1
_SALT_BYTES = 16


def _digest(password: str, salt: bytes) -> bytes:
    # NFC like the server (chat.protocol.names.check_password): the same keys on another
    # keyboard layout or system give the same password
    data = unicodedata.normalize("NFC", password).encode("utf-8")
    return hashlib.scrypt(data, salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024)


class PasswordCheck:
    """``PasswordCheck(password)``; then ``check(typed) -> bool``. Never stores the password."""

    __slots__ = ("_salt", "_digest")

    def __init__(self, password: str):
        self._salt = os.urandom(_SALT_BYTES)
        self._digest = _digest(password, self._salt)

    def check(self, password: str) -> bool:
        """Whether ``password`` is the one given at construction (constant-time compare)."""
        return hmac.compare_digest(_digest(password, self._salt), self._digest)

    def __repr__(self) -> str:
        return "PasswordCheck(<hidden>)"
