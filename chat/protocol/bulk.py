"""Bigger read and send steps for a transport while it carries file data.

Twisted's TCP transports read at most 64 KiB (``bufferSize``) and send at most 128 KiB
(``SEND_LIMIT``) per system call. For a 256 KiB body frame that is four reads and two sends;
in bench/files.py the reads alone were a fifth of the server's reactor time during an
upload. Both are instance attributes of Twisted's ``FileDescriptor``; other transports (TLS
wrappers, the tests' StringTransport) lack them and are left alone. The server turns this on
only while a transfer runs on a connection: a chat connection reading 1 MiB buffers for
60-byte messages would only waste allocations.
"""

BULK_IO = 1 << 20
"""Bytes read, or sent, per system call while a transfer runs."""


def bulk_io(transport, on: bool = True) -> None:
    """Switch ``transport`` to bulk steps (``on``) or back to Twisted's defaults."""
    if not (hasattr(transport, "SEND_LIMIT") and hasattr(transport, "bufferSize")):
        return
    if on:
        transport.SEND_LIMIT = BULK_IO
        transport.bufferSize = BULK_IO
    else:
        # the class attributes are Twisted's defaults: drop the instance's own values
        for name in ("SEND_LIMIT", "bufferSize"):
            if name in vars(transport):
                delattr(transport, name)
