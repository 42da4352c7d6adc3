"""Error codes of the protocol and the exception that carries one.

A code is stable (clients switch on it); the message is for humans and may change.
"""

BAD_REQUEST = "bad_request"          # malformed frame, JSON, field, or out-of-order request
UNKNOWN_TYPE = "unknown_type"        # a ``type`` this direction does not have
TOO_LARGE = "too_large"              # frame, text, avatar or page over its limit
UNSUPPORTED_VERSION = "unsupported_version"
NOT_LOGGED_IN = "not_logged_in"
ALREADY_LOGGED_IN = "already_logged_in"
FORBIDDEN = "forbidden"
NAME_TAKEN = "name_taken"
BAD_CREDENTIALS = "bad_credentials"
RATE_LIMITED = "rate_limited"
QUOTA_EXCEEDED = "quota_exceeded"    # a file offer over the sender's storage quota
NO_SPACE = "no_space"                # a file offer the server's disk has no room for
NOT_FOUND = "not_found"
SERVER_ERROR = "server_error"        # storage failed: the request was not carried out
BANNED = "banned"                    # the right password, but an admin banned the account
CANCELLED = "cancelled"              # the client cancelled this upload or download

ALL_CODES = frozenset({
    BAD_REQUEST, UNKNOWN_TYPE, TOO_LARGE, UNSUPPORTED_VERSION, NOT_LOGGED_IN,
    ALREADY_LOGGED_IN, FORBIDDEN, NAME_TAKEN, BAD_CREDENTIALS, RATE_LIMITED, QUOTA_EXCEEDED,
    NOT_FOUND, SERVER_ERROR, BANNED, CANCELLED, NO_SPACE,
})


class ProtocolError(Exception):
    """A request that gets an ``error`` reply with ``code`` and a human ``message``."""

    def __init__(self, code: str, message: str, retry_after: float = None) -> None:
        assert code in ALL_CODES, code
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after   # rate_limited: seconds until a retry may succeed


# ``bye`` codes: why the server closes a connection (sent just before it does)
BYE_TIMEOUT = "timeout"                            # no data for the heartbeat's timeout
BYE_ABUSE = "abuse"                                # malformed frames in a row
BYE_SHUTDOWN = "shutdown"                          # the server is stopping
BYE_KICKED = "kicked"                              # an admin closed the user's connections
BYE_BANNED = "banned"                              # an admin banned the account
BYE_SERVER_FULL = "server_full"                    # the server has all the connections it takes
BYE_TOO_MANY_CONNECTIONS = "too_many_connections"  # too many from this address
BYE_LOGIN_TIMEOUT = "login_timeout"                # no login soon enough after connecting
BYE_SLOW_READER = "slow_reader"                    # output piled up that the peer did not read

BYE_CODES = frozenset({
    BYE_TIMEOUT, BYE_ABUSE, BYE_SHUTDOWN, BYE_KICKED, BYE_BANNED, BYE_SERVER_FULL,
    BYE_TOO_MANY_CONNECTIONS, BYE_LOGIN_TIMEOUT, BYE_SLOW_READER,
})
