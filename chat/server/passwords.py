"""Password hashing with argon2id, always off the reactor thread.

Hashing is slow on purpose (tens of milliseconds and 64 MiB by default). It runs in the
reactor's thread pool, and at most ``concurrency`` hashes run at once (by default one core
fewer than the machine has), so that a login storm queues up instead of taking every core from
the reactor and other users' messages.
"""

import os

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from twisted.internet import defer, threads

DEFAULT_TIME_COST = 3
DEFAULT_MEMORY_KIB = 64 * 1024


class PasswordHasher:
    """``hash(password)`` and ``verify(hash, password)``, both returning Deferreds."""

    def __init__(self, time_cost: int = DEFAULT_TIME_COST, memory_kib: int = DEFAULT_MEMORY_KIB,
                 concurrency: int = 0, run_in_thread=None, logins: bool = True):
        self._argon2 = Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._limit = defer.DeferredSemaphore(concurrency or max(1, (os.cpu_count() or 2) - 1))
        self._run = run_in_thread or threads.deferToThread
        # verifying against this when the account does not exist takes as long as a real
        # check, so response times do not tell which user names exist. ``logins=False``
        # (chatctl on a stopped server, which only makes hashes) saves making it: one
        # argon2 run; it is then made in the thread of the first check that needs it
        self._dummy_hash = self._argon2.hash("not a real password") if logins else None

    def hash(self, password: str) -> defer.Deferred:
        return self._limit.run(self._run, self._argon2.hash, password)

    def verify(self, password_hash, password: str) -> defer.Deferred:
        """Fires True or False; a None hash (unknown account) is checked against a dummy."""
        return self._limit.run(self._run, self._check, password_hash or self._dummy_hash,
                               password, password_hash is not None)

    def _check(self, password_hash, password: str, real: bool) -> bool:
        if password_hash is None:        # no dummy made yet (logins=False)
            self._dummy_hash = password_hash = self._argon2.hash("not a real password")
        try:
            return self._argon2.verify(password_hash, password) and real
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
