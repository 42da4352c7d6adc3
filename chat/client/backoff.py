"""Reconnect delays: 1 s doubling to 30 s, each with random jitter.

Jitter keeps a classroom of clients from all knocking at the same instant when the server
comes back after a restart.
"""

import random as _random

INITIAL = 1.0
MAXIMUM = 30.0
JITTER = 0.2


class Backoff:
    """The delay before each reconnect attempt; ``reset()`` after a successful login."""

    def __init__(self, initial: float = INITIAL, maximum: float = MAXIMUM,
                 jitter: float = JITTER, random=_random.random):
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self.random = random
        self.attempts = 0

    def next(self) -> float:
        base = min(self.maximum, self.initial * 2 ** self.attempts)
        self.attempts += 1
        spread = base * self.jitter * (2 * self.random() - 1)   # +-20 % of the base
        return max(0.0, min(self.maximum, base + spread))

    def reset(self) -> None:
        self.attempts = 0
