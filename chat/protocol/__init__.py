"""The wire protocol shared by server and clients.

Pure code: framing, JSON encoding, command classes and name rules. Nothing here imports
storage, server, client or Qt code, and nothing does I/O, so every piece is testable alone.
See docs/PROTOCOL.md for the specification.
"""

PROTOCOL_VERSION = 1
