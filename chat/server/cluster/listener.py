"""LISTEN on a connection of its own, in a thread, and wake the reactor on every change.

psycopg2 receives notifications on a connection in autocommit mode that has run ``LISTEN``;
waiting for them is a ``select`` on its socket, which must not happen in the reactor's
thread. :class:`StreamListener` runs that loop in a daemon thread and calls ``wake(reason)``
in the reactor thread (``callFromThread``): ``"notify"`` for a notification, ``"listening"``
once a (re)connected connection is listening (whatever was sent while it was down must be
read from the table now), ``"timer"`` every ``interval`` seconds without one (the safety net:
a notification lost in any way costs at most that delay). It never reads the payload.
A lost connection is opened again after a pause (``retry`` seconds, doubling up to 5 s).
"""

import os
import select
import threading

from twisted.logger import Logger

from .stream_sql import CHANNEL


class StreamListener:
    """The listening thread; ``start()`` and ``stop()`` from the reactor thread."""

    log = Logger()

    def __init__(self, connect, wake, call_from_thread, interval: float = 2.0,
                 retry: float = 0.2):
        self.connect = connect                  # () -> a new psycopg2 connection
        self.wake = wake                        # (reason) -> None, in the reactor thread
        self.call_from_thread = call_from_thread
        self.interval = interval
        self.retry = retry
        self._stopping = threading.Event()
        self._pipe = os.pipe()                  # written by stop(): ends a select at once
        self._thread = None
        self.connected = False                  # (read by tests and /health)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chat-stream-listener",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end (it does within a moment; it holds nothing to save)."""
        self._stopping.set()
        try:
            os.write(self._pipe[1], b"x")
        except OSError:
            pass

    def _tell(self, reason: str) -> None:
        if not self._stopping.is_set():
            self.call_from_thread(self.wake, reason)

    def _run(self) -> None:
        pause = self.retry
        while not self._stopping.is_set():
            conn = None
            try:
                conn = self.connect()
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute(f"LISTEN {CHANNEL}")
                self.connected = True
                pause = self.retry
                self._tell("listening")
                self._listen(conn)
            except Exception as error:     # the database went away, a bad connection: retry
                if not self._stopping.is_set():
                    self.call_from_thread(self._log_lost, str(error).strip())
            finally:
                self.connected = False
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:
                        pass
            if self._wait(pause):
                break
            pause = min(pause * 2, 5.0)
        os.close(self._pipe[0])
        os.close(self._pipe[1])

    def _log_lost(self, why: str) -> None:
        self.log.warn("the stream's LISTEN connection failed ({why}); reconnecting", why=why)

    def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped; True if stopped."""
        select.select([self._pipe[0]], [], [], seconds)
        return self._stopping.is_set()

    def _listen(self, conn) -> None:
        while not self._stopping.is_set():
            readable, _, _ = select.select([conn, self._pipe[0]], [], [], self.interval)
            if self._pipe[0] in readable:
                return
            if conn in readable:
                conn.poll()
                if conn.notifies:
                    conn.notifies.clear()
                    self._tell("notify")
            else:
                self._tell("timer")
