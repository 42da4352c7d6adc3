"""What each request does, one module per domain.

Each handler class takes the few collaborators it needs in its constructor and exposes
``commands()``: a map from request class to a method ``(connection, request, body)`` that
returns the ``ok`` data (a dict, a Reply, or a Deferred of either) or raises ProtocolError.
"""
