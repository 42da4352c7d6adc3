"""``chatctl``: the server-side admin command (like ``prosodyctl``).

``wire`` is the control protocol (no I/O), ``main`` the command line; the server's side is
:mod:`chat.server.control`.
"""
