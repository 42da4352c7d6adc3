"""Rate and connection limits: what one address or one account may do, on the injected clock.

Everything here is pure bookkeeping over ``clock.seconds()``: no timers, no I/O, so tests drive
it with ``task.Clock``. Every table is an :class:`ExpiringMap`: entries go when they have
nothing left to remember, and the table never holds more than ``max_entries`` (the least
recently used go first), so a flood of addresses or made-up user names cannot grow memory.

* :class:`LoginThrottle`: failed logins per key. After ``free`` failures each further one
  makes that key wait 1, 2, 4 ... s (at most ``backoff_max``); a success clears the entry; an
  entry is forgotten ``window`` s after its last failure. :meth:`Limits.start_login` keys three
  of them: (account name, address), the account name alone, and the address alone. The
  account's own cap applies only to addresses that have failed for it, so that nobody can keep
  an account's owner out by failing on purpose (docs/SECURITY.md, *Failed logins*).
* :class:`SlidingWindow`: at most ``limit`` events per ``period`` per key (registrations per
  address per hour, file offers, room creations, topic changes, joins and leaves per account).
* :class:`TokenBucket`: ``rate`` per second with bursts of ``burst`` per key (``send``).
* :class:`ConnectionCounts`: connections per address and in all.

A limit of 0 turns that check off.
"""

import ipaddress
import math
from collections import OrderedDict, deque

from chat.protocol.errors import (
    BYE_SERVER_FULL, BYE_TOO_MANY_CONNECTIONS, RATE_LIMITED, ProtocolError)

MAX_ENTRIES = 100_000
"""Keys a table remembers at most (addresses, account names, account ids)."""


def rate_limited(message: str, retry_after: float) -> ProtocolError:
    """``error`` ``rate_limited`` with ``retry_after`` seconds (rounded up to a millisecond)."""
    return ProtocolError(RATE_LIMITED, message,
                         max(0.001, math.ceil(retry_after * 1000) / 1000))


def whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ExpiringMap:
    """key -> value, least recently used first; each entry has its own expiry time."""

    def __init__(self, clock, max_entries: int = MAX_ENTRIES):
        self.clock = clock
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()   # key -> [expires, value]

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key):
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock.seconds():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key, value, expires: float) -> None:
        self._items[key] = [expires, value]
        self._items.move_to_end(key)
        self._sweep()

    def touch(self, key, expires: float) -> None:
        item = self._items.get(key)
        if item is not None:
            item[0] = expires

    def pop(self, key) -> None:
        self._items.pop(key, None)

    def _sweep(self) -> None:
        # the least recently used sit in front: they are the ones that expire first
        now = self.clock.seconds()
        items = self._items
        while items:
            key, (expires, _) = next(iter(items.items()))
            if expires > now and len(items) <= self.max_entries:
                break
            del items[key]


class _Failures:
    __slots__ = ("count", "blocked_until", "in_flight")

    def __init__(self):
        self.count = 0
        self.blocked_until = 0.0
        self.in_flight = 0


class LoginThrottle:
    """Failed logins of one kind of key (account names, or addresses)."""

    def __init__(self, clock, free: int, backoff_max: float, window: float, what: str,
                 max_entries: int = MAX_ENTRIES):
        self.clock = clock
        self.free = free
        self.backoff_max = backoff_max
        self.window = window
        self.what = what
        self._entries = ExpiringMap(clock, max_entries)

    def check(self, key, enforce: bool = True) -> None:
        """Raise ``rate_limited`` if ``key`` must wait; else count an attempt in flight.
        With ``enforce`` false the attempt is counted but never refused."""
        if not self.free:
            return
        entry = self._entries.get(key)
        now = self.clock.seconds()
        if entry is None:
            entry = _Failures()
            self._entries.put(key, entry, now + self.window)
        if not enforce:
            pass
        elif entry.blocked_until > now:
            wait = whole_seconds(entry.blocked_until - now)
            raise rate_limited(f"too many failed logins for this {self.what}; "
                               f"try again in {wait} s", wait)
        if entry.in_flight and entry.count + entry.in_flight >= self.free:
            # the attempts already being checked may use up what is left: wait for them
            raise rate_limited(f"too many logins at once for this {self.what}; "
                               "try again in 1 s", 1)
        entry.in_flight += 1

    def done(self, key, failed: bool, reset: bool = False) -> None:
        """An attempt that passed :meth:`check` ended."""
        if not self.free:
            return
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.in_flight = max(0, entry.in_flight - 1)
        now = self.clock.seconds()
        if failed:
            entry.count += 1
            if entry.count >= self.free:
                delay = min(self.backoff_max, 2.0 ** min(entry.count - self.free, 62))
                entry.blocked_until = now + delay
            self._entries.touch(key, max(now + self.window, entry.blocked_until))
        elif reset:
            if entry.in_flight:
                entry.count, entry.blocked_until = 0, 0.0
            else:
                self._entries.pop(key)

    def failures(self, key) -> int:
        """Failed attempts of ``key`` still remembered."""
        entry = self._entries.get(key)
        return entry.count if entry else 0

    def waiting(self, key) -> float:
        """Seconds ``key`` must still wait (0: none); for tests and the log."""
        entry = self._entries.get(key)
        return max(0.0, entry.blocked_until - self.clock.seconds()) if entry else 0.0

    def __len__(self) -> int:
        return len(self._entries)


class SlidingWindow:
    """At most ``limit`` events per ``period`` seconds per key."""

    def __init__(self, clock, limit: int, period: float, max_entries: int = MAX_ENTRIES):
        self.clock = clock
        self.limit = limit
        self.period = period
        self._entries = ExpiringMap(clock, max_entries)

    def hit(self, key, message: str) -> None:
        """Count one event, or raise ``rate_limited`` (``message`` gets ``{wait}``)."""
        if not self.limit:
            return
        now = self.clock.seconds()
        times = self._entries.get(key)
        if times is None:
            times = deque()
            self._entries.put(key, times, now + self.period)
        while times and times[0] <= now - self.period:
            times.popleft()
        if len(times) >= self.limit:
            wait = times[0] + self.period - now
            raise rate_limited(message.format(wait=whole_seconds(wait)), whole_seconds(wait))
        times.append(now)
        self._entries.touch(key, now + self.period)

    def __len__(self) -> int:
        return len(self._entries)


class TokenBucket:
    """``rate`` events per second per key, with bursts of up to ``burst``."""

    def __init__(self, clock, rate: float, burst: int, max_entries: int = MAX_ENTRIES):
        self.clock = clock
        self.rate = rate
        self.burst = max(1, burst)
        self._entries = ExpiringMap(clock, max_entries)

    def take(self, key, message: str) -> None:
        if not self.rate:
            return
        now = self.clock.seconds()
        state = self._entries.get(key)
        if state is None:
            state = [float(self.burst), now]
            self._entries.put(key, state, now + self.burst / self.rate)
        tokens = min(float(self.burst), state[0] + (now - state[1]) * self.rate)
        state[1] = now
        if tokens < 1.0 - 1e-6:      # (a clock in seconds since 1970 is not exact)
            state[0] = tokens
            raise rate_limited(message, (1.0 - tokens) / self.rate)
        state[0] = tokens - 1.0
        # a full bucket has nothing to remember
        self._entries.touch(key, now + (self.burst - state[0]) / self.rate)

    def __len__(self) -> int:
        return len(self._entries)


class ConnectionCounts:
    """Connections open now, per address and in all."""

    def __init__(self, total_max: int, per_address_max: int, exempt_loopback: bool):
        self.total_max = total_max
        self.per_address_max = per_address_max
        self.exempt_loopback = exempt_loopback
        self.total = 0
        self.by_address: dict = {}

    def admit(self, host: str):
        """Count a new connection, or return ``(bye code, message)`` to refuse it."""
        if self.total_max and self.total >= self.total_max:
            return (BYE_SERVER_FULL, f"the server is full ({self.total_max} connections); "
                                   "try again later")
        count = self.by_address.get(host, 0)
        if (self.per_address_max and count >= self.per_address_max
                and not (self.exempt_loopback and is_loopback(host))):
            return (BYE_TOO_MANY_CONNECTIONS,
                    f"too many connections from your address (at most {self.per_address_max})")
        self.total += 1
        self.by_address[host] = count + 1
        return None

    def release(self, host: str) -> None:
        self.total -= 1
        count = self.by_address.get(host, 0) - 1
        if count > 0:
            self.by_address[host] = count
        else:
            self.by_address.pop(host, None)


class LoginAttempt:
    """A login let through by :meth:`Limits.start_login`, to be ended once."""
    __slots__ = ("key", "host", "counted")

    def __init__(self, key: str, host):
        self.key = key
        self.host = host
        self.counted = []


class Limits:
    """All of the server's limits, built from its ServerConfig."""

    LOGIN_WINDOW = 900.0
    """Seconds after its last failed login that an account's or address's count is forgotten
    (longer than the longest backoff)."""

    def __init__(self, config, clock, max_entries: int = MAX_ENTRIES):
        self.config = config
        self.clock = clock
        window = max(self.LOGIN_WINDOW, 2 * config.login_backoff_max)
        self.login_pairs = LoginThrottle(clock, config.login_failures,
                                         config.login_backoff_max, window,
                                         "account from your address", max_entries)
        self.login_accounts = LoginThrottle(clock, config.login_failures_per_account,
                                            config.login_backoff_max, window, "account",
                                            max_entries)
        self.login_addresses = LoginThrottle(clock, config.login_failures_per_address,
                                             config.login_backoff_max, window, "address",
                                             max_entries)
        self.registrations = SlidingWindow(clock, config.registrations_per_hour, 3600.0,
                                           max_entries)
        self.sends = TokenBucket(clock, config.send_rate, config.send_burst, max_entries)
        self.queries = TokenBucket(clock, config.query_rate, config.query_burst, max_entries)
        self.offers = SlidingWindow(clock, config.file_offers_per_minute, 60.0, max_entries)
        self.room_creations = SlidingWindow(clock, config.rooms_per_hour, 3600.0, max_entries)
        self.topics = SlidingWindow(clock, config.topics_per_minute, 60.0, max_entries)
        self.joins = SlidingWindow(clock, config.joins_per_minute, 60.0, max_entries)
        self.connections = ConnectionCounts(config.max_connections,
                                            config.max_connections_per_address,
                                            config.exempt_loopback)

    def start_login(self, key: str, host) -> "LoginAttempt":
        """Check a login to the account ``key`` from ``host`` (None: an exempt address)
        before its password is hashed: raises ``rate_limited``, or returns the attempt to
        hand to :meth:`end_login`.

        Three counts, each with its backoff: (account, address) after ``login_failures``;
        the address after ``login_failures_per_address`` whatever the accounts; and the
        account after ``login_failures_per_account`` from all addresses together, which is
        enforced only for an address that has failed for this account already. So a
        guesser backs off, many guessers get one try per address once the account's cap is
        reached, and the owner, from an address with no failures, is never kept out."""
        pair = (key, host)
        self.login_pairs.check(pair)
        attempt = LoginAttempt(key, host)
        try:
            self.login_accounts.check(key, enforce=self.login_pairs.failures(pair) > 0)
            attempt.counted.append(self.login_accounts)
            if host is not None:
                self.login_addresses.check(host)
        except ProtocolError:
            self.login_pairs.done(pair, failed=False)        # not attempted after all
            if attempt.counted:
                self.login_accounts.done(key, failed=False)
            raise
        return attempt

    def end_login(self, attempt: "LoginAttempt", failed: bool, succeeded: bool) -> None:
        """A login that :meth:`start_login` let through ended (``failed``: wrong password;
        ``succeeded``: logged in, which clears the account's counts)."""
        self.login_pairs.done((attempt.key, attempt.host), failed, reset=succeeded)
        self.login_accounts.done(attempt.key, failed, reset=succeeded)
        if attempt.host is not None:
            self.login_addresses.done(attempt.host, failed)

    def exempt(self, host: str) -> bool:
        """Per-address limits do not apply to this address (``--exempt-loopback``)."""
        return self.config.exempt_loopback and is_loopback(host)
