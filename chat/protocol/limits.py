"""Sizes the wire allows that a user interface needs before any connection (no other imports,
so that the desktop client's login window can show them without loading the protocol's
command classes)."""

AVATAR_MAX = 256 * 1024
"""Bytes of an avatar picture at most."""
