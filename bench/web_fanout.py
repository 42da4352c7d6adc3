"""WebSocket receivers next to TCP receivers: server CPU per delivery, memory per idle link.

One server with a TCP port and a web port. R accounts ``tcp<i>`` are logged in over TCP and
are the members of room ``#tcp``; R accounts ``ws<i>`` are logged in over WebSocket (``/ws``)
and are the members of ``#ws``. A sender (over TCP, a member of both) sends M messages to one
room, and the server's CPU time (utime+stime from /proc) is read from the first send until
every receiver has every message; then the same for the other room. The rooms alternate for
``--rounds`` rounds (the machine is shared and noisy: alternating in one run compares like
with like), and the figure is CPU microseconds per delivery (server CPU / (R * M)), which
includes the sender's side of each message (the same for both rooms), so the WebSocket
overhead per delivery is the difference. Target: WebSocket at most 1.5x TCP.

Then memory: the server's RSS before and after K more idle, logged-in connections of each
kind (``(after - before) / K``).

    .venv/bin/python bench/web_fanout.py
    .venv/bin/python bench/web_fanout.py --receivers 300 --messages 300 --rounds 4 --idle 1000
"""

import argparse
import json
import os
import select
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
import common  # noqa: E402
from common import control_frame  # noqa: E402
from tests.support import websocket as ws  # noqa: E402

PASSWORD = "bench-password-1"
MARKER = b'"type":"message"'


def recv_until(sock, needle: bytes, timeout=20.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while needle not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("closed")
        data += chunk
    return data


class TcpLink:
    kind = "tcp"

    def __init__(self, port):
        self.sock = socket.create_connection((common.HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.next_id = 0
        self.decoder = common_decoder()

    def request(self, obj):
        self.next_id += 1
        obj["id"] = self.next_id
        self.sock.sendall(control_frame(obj))
        self.sock.settimeout(30)
        while True:
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("closed")
            for payload in self.decoder.feed(data):
                reply = json.loads(bytes(payload))
                if reply.get("id") == self.next_id:
                    if reply["type"] != "ok":
                        raise RuntimeError(reply)
                    return reply["data"]

    def alive(self):
        self.sock.sendall(control_frame({"type": "pong"}))


class WsLink:
    kind = "ws"

    def __init__(self, port):
        self.sock = socket.create_connection((common.HOST, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(ws.handshake(host=f"{common.HOST}:{port}", origin=None))
        self.reader = ws.FrameReader()
        head = recv_until(self.sock, b"\r\n\r\n")
        self.reader.feed(head)
        if self.reader.status != 101:
            raise RuntimeError(self.reader.head)
        self.next_id = 0

    def request(self, obj):
        self.next_id += 1
        obj["id"] = self.next_id
        self.sock.sendall(ws.text(json.dumps(obj)))
        self.sock.settimeout(30)
        while True:
            while self.reader.frames:
                opcode, payload = self.reader.frames.pop(0)
                if opcode == ws.OP_TEXT:
                    reply = json.loads(payload)
                    if reply.get("id") == self.next_id:
                        if reply["type"] != "ok":
                            raise RuntimeError(reply)
                        return reply["data"]
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("closed")
            self.reader.feed(data)

    def alive(self):
        self.sock.sendall(ws.text(b'{"type":"pong"}'))


def common_decoder():
    from chat.protocol.framing import FrameDecoder
    return FrameDecoder(1 << 24)


def login(link, name, register):
    link.request({"type": "hello", "version": 1, "client": "bench"})
    if register:
        link.request({"type": "register", "username": name, "password": PASSWORD})
    link.request({"type": "login", "username": name, "password": PASSWORD})
    return link


def drain_all(links, expected, timeout=120.0):
    """Read every receiver until each has seen ``expected`` message events."""
    poller = select.epoll()
    by_fd = {}
    for link in links:
        link.sock.setblocking(False)
        link.count, link.tail = 0, b""
        by_fd[link.sock.fileno()] = link
        poller.register(link.sock.fileno(), select.EPOLLIN)
    waiting = len(links)
    deadline = time.monotonic() + timeout
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{waiting} receivers short of {expected} messages")
        for fd, _ in poller.poll(1.0):
            link = by_fd[fd]
            try:
                data = link.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                raise RuntimeError("a receiver was closed")
            seen = link.tail + data
            before = link.count
            link.count += seen.count(MARKER)
            link.tail = seen[-(len(MARKER) - 1):]
            if before < expected <= link.count:
                waiting -= 1
    poller.close()
    for link in links:
        link.sock.setblocking(True)


def discard_pending(sock):
    """Read and drop what a socket holds now (presence, joins, the sender's own copies)."""
    sock.setblocking(False)
    try:
        while sock.recv(1 << 20):
            pass
    except BlockingIOError:
        pass
    sock.setblocking(True)


def send_burst(sender, room, messages, round_no):
    frames = []
    for i in range(messages):
        sender.next_id += 1
        frames.append(control_frame({"type": "send", "id": sender.next_id, "to": room,
                                     "text": f"bench {round_no}:{i} " + "x" * 60,
                                     "cid": f"b-{room}-{round_no}-{i}"}))
    sender.sock.sendall(b"".join(frames))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--receivers", type=int, default=200)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--idle", type=int, default=500, help="idle connections of each kind")
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args(argv)
    common.raise_nofile()
    web_port = common.free_port()
    data_dir = common.temp_data_dir("bench-web-")
    server = common.ServerProcess.chat(data_dir, extra=common.fast_hash_args() + [
        "--web-port", f"tcp:{web_port}:interface={common.HOST}", "--registrations-per-hour", "0"])
    rows = {}
    with server.start():
        port = server.port
        sender = login(TcpLink(port), "sender", True)
        sender.request({"type": "create_room", "room": "tcp"})
        sender.request({"type": "create_room", "room": "ws"})
        receivers = {"tcp": [], "ws": []}
        for kind, make in (("tcp", lambda: TcpLink(port)), ("ws", lambda: WsLink(web_port))):
            for i in range(args.receivers):
                link = login(make(), f"{kind}{i}", True)
                link.request({"type": "join", "room": kind})
                receivers[kind].append(link)
        # the sender's own copies and replies are read by a thread-free trick: a big buffer
        sender.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        time.sleep(1.0)
        for link in receivers["tcp"] + receivers["ws"]:
            discard_pending(link.sock)
        per = {"tcp": [], "ws": []}
        for round_no in range(args.rounds):
            for kind in ("tcp", "ws") if round_no % 2 == 0 else ("ws", "tcp"):
                for link in receivers["tcp"] + receivers["ws"] + [sender]:
                    link.alive()          # a sign of life: the heartbeat closes silent links
                time.sleep(0.5)
                start = common.cpu_seconds(server.pid)
                send_burst(sender, "#" + kind, args.messages, round_no)
                drain_all(receivers[kind], args.messages)
                cpu = common.cpu_seconds(server.pid) - start
                per[kind].append(cpu / (args.receivers * args.messages) * 1e6)
                discard_pending(sender.sock)
                print(f"round {round_no} {kind:>3}: {per[kind][-1]:.2f} us CPU per delivery",
                      file=sys.stderr)
        for kind in per:
            rows[kind] = {"us_per_delivery_median": round(statistics.median(per[kind]), 2),
                          "us_per_delivery_all": [round(x, 2) for x in per[kind]]}
        rows["ratio_ws_to_tcp"] = round(rows["ws"]["us_per_delivery_median"]
                                        / rows["tcp"]["us_per_delivery_median"], 2)
        # memory per idle, logged-in connection
        for kind, make in (("tcp", lambda: TcpLink(port)), ("ws", lambda: WsLink(web_port))):
            time.sleep(1.0)
            before = stable_rss(server.pid)
            idle = [login(make(), f"{kind}{i % args.receivers}", False) for i in range(args.idle)]
            time.sleep(2.0)
            after = stable_rss(server.pid)
            rows[kind]["idle_kib_per_connection"] = round((after - before) / args.idle, 1)
            for link in idle:
                link.sock.close()
        for link in receivers["tcp"] + receivers["ws"] + [sender]:
            link.sock.close()
    common.remove_dir(data_dir)
    print(f"{'':>4} {'us CPU/delivery (median)':>26} {'all rounds':>28} {'KiB/idle conn':>14}")
    for kind in ("tcp", "ws"):
        r = rows[kind]
        print(f"{kind:>4} {r['us_per_delivery_median']:>26} {str(r['us_per_delivery_all']):>28} "
              f"{r['idle_kib_per_connection']:>14}")
    print(f"WebSocket / TCP CPU per delivery: {rows['ratio_ws_to_tcp']}x (target <= 1.5x)")
    if args.json:
        common.write_json(args.json, {"machine": common.machine_info(), "args": vars(args),
                                      "results": rows})
    return 0


def stable_rss(pid, readings=5, pause=0.4):
    values = []
    for _ in range(readings):
        values.append(common.rss_kib(pid))
        time.sleep(pause)
    return statistics.median(values)


if __name__ == "__main__":
    sys.exit(main())
