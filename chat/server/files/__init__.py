"""File transfer on the server: the disk store, the thread pool it works in, upload sinks and
download producers, and the in-memory catalogue of files (see docs/ARCHITECTURE.md, *Files*).

The requests themselves (``file_offer``, ``upload``, ``download``, ``files``) are answered by
:mod:`chat.server.handlers.files`.
"""
