"""The client core: one reactor-driven chat client shared by the terminal and Qt clients.

It speaks the protocol of :mod:`chat.protocol`, keeps what the user sent until the server has
stored it, reconnects after a lost link, and reports everything through a
:class:`chat.client.listener.ClientListener`. It knows nothing of terminals or Qt.
"""
