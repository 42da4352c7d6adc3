"""The web door: ``--web-port`` serves the browser client and, at ``/ws``, the native protocol
over WebSocket (one text message per control frame, one binary message per body frame).

* :mod:`chat.server.web.site`: the HTTP side (static files from memory, security headers,
  bounded requests);
* :mod:`chat.server.web.origins`: which pages may open the WebSocket;
* :mod:`chat.server.web.wsdoor`: the WebSocket protocol and the transport that carries a
  :class:`chat.server.connection.ChatConnection` over it.
"""
