"""Which producer is registered on a transport, also through TLS.

Twisted's TLS transport (``TLSMemoryBIOProtocol``) wraps the producer it is given in a
membrane and registers that on the TCP transport below; its own ``producer`` attribute is
looked up on that TCP transport (``ProtocolWrapper.__getattr__``), so it is the membrane,
never the producer that was registered. Code that asks "is my producer still registered?"
with ``transport.producer is mine`` therefore always heard "no" over TLS, skipped the
``unregisterProducer``, and the next ``registerProducer`` failed: the second download on a
TLS connection never sent a byte (issue 14, defect 3).
"""


def registered_producer(transport):
    """The producer registered on ``transport`` (None if none), seen through a TLS layer."""
    if transport is None:
        return None
    membrane = vars(transport).get("_producer") if hasattr(transport, "__dict__") else None
    if membrane is not None:
        return getattr(membrane, "_producer", membrane)
    if type(transport).__name__ == "TLSMemoryBIOProtocol":
        return None                      # nothing registered at the TLS layer
    return getattr(transport, "producer", None)
