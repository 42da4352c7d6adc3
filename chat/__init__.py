"""A self-hosted chat system: wire protocol, server, client core and clients."""

__version__ = "0.1.0"
