"""Several server nodes on one PostgreSQL database behaving as one server (``--node NAME``).

PostgreSQL is the one source of truth and the channel between nodes: every message and every
change other nodes must know about (a join, a topic, a read mark, a ban, a login, ...) is a row
with a position in one stream. Positions are allocated under a transaction-level advisory
lock, so rows commit in position order; the storing transaction also sends a ``NOTIFY``.
Each node LISTENs on a connection of its own (:mod:`.listener`, in a thread) and, on every
notification, on every reconnection of that connection and every few seconds anyway, reads
the rows above its position from the tables (:mod:`.follower`), never from a notification's
payload, and hands them to the local fan-out (:mod:`.node`). A node that missed notifications
therefore misses nothing: it catches up from the table.

The modules: :mod:`.stream_sql` (the queries), :mod:`.storage` (the PostgreSQL storage that
numbers messages in the storing transaction), :mod:`.listener`, :mod:`.follower`,
:mod:`.node` (what each kind of change does on the other nodes, presence across nodes).
Single-node servers (SQLite, or PostgreSQL without ``--node``) load none of this.
"""
