"""Storage benchmark: durable messages per second, counted by ``ok`` acks.

The server acks a ``send`` only after the message is committed to SQLite, so acks/s is the
rate of durable stores. ``--senders`` logged-in connections (accounts ``store0``..; default 50)
each keep ``--window`` sends in flight until each has sent ``--messages`` (or, with
``--duration``, until that many seconds have passed). By default each sender writes to its
own room ``#store<i>`` so that the figure is about storing, not about fan-out; ``--to lobby``
makes all of them write to ``#lobby`` (then every connection also receives every message).

Afterwards the run is checked twice: through the protocol (``history`` of every target room,
counting the messages whose ``cid`` carries this run's tag) while the server runs, and, after
the server has stopped, by opening its SQLite file read-only and counting the rows with this
run's tag. Both must equal the number of acks (0 lost, 0 extra).

    .venv/bin/python bench/store_rate.py                 # 50 senders x 1000 messages, window 16
    .venv/bin/python bench/store_rate.py --duration 20 --window 32
"""

import argparse
import asyncio
import collections
import itertools
import json
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import control_frame  # noqa: E402

MESSAGE_PREFIX = b'{"type":"message"'
TARGET = 10_000


class Stream:
    """One sender: keeps ``window`` sends in flight, counts acks (fast path of the connection)."""

    def __init__(self, client, index, to, tag, window, messages, stop_at, on_done):
        self.client, self.index, self.to, self.tag = client, index, to, tag
        self.window, self.messages, self.stop_at, self.on_done = window, messages, stop_at, on_done
        self.decoder = client.decoder  # shared: handing the connection back loses no bytes
        self.ids = itertools.count(1_000_000)
        self.inflight = {}       # request id -> (seq, send time ns)
        self.seq = 0
        self.acked = 0
        self.duplicates = 0
        self.errors = collections.Counter()
        self.events = 0
        self.ack_ns = []         # send -> ok latency of every ack
        self.first_send = self.last_ack = None
        self.done = False
        client.fast = self.data

    def more(self):
        if self.messages is not None and self.seq >= self.messages:
            return False
        return self.stop_at is None or time.monotonic() < self.stop_at

    def fill(self):
        while len(self.inflight) < self.window and self.more():
            rid = next(self.ids)
            now = time.monotonic_ns()
            if self.first_send is None:
                self.first_send = now
            self.inflight[rid] = (self.seq, now)
            self.client.transport.write(control_frame({
                "type": "send", "id": rid, "to": self.to,
                "text": f"store rate message {self.seq} from sender {self.index}",
                "cid": f"{self.tag}-{self.index}-{self.seq}"}))
            self.seq += 1
        if not self.inflight and not self.done:
            self.done = True
            self.on_done()

    def data(self, data):
        now = time.monotonic_ns()
        for payload in self.decoder.feed(data):
            if payload.startswith(MESSAGE_PREFIX):
                self.events += 1
                continue
            obj = json.loads(payload)
            kind, rid = obj.get("type"), obj.get("id")
            if kind == "ping" and rid is None:
                self.client.send({"type": "pong"})
                continue
            if rid not in self.inflight:
                continue
            seq, sent = self.inflight.pop(rid)
            if kind == "ok":
                self.acked += 1
                self.duplicates += bool(obj.get("data", {}).get("duplicate"))
                self.ack_ns.append(now - sent)
                self.last_ack = now
            else:
                self.errors[obj.get("code")] += 1
        self.fill()


async def history_count(client, conv, tag, max_pages):
    """Messages of ``conv`` whose cid starts with ``tag-``, paging back through history."""
    count = 0
    before = None
    for _ in range(max_pages):
        req = {"conv": conv, "limit": 200}
        if before is not None:
            req["before"] = before
        data = await client.request("history", **req)
        msgs = data.get("messages", [])
        count += sum(1 for m in msgs if str(m.get("cid", "")).startswith(tag + "-"))
        if not data.get("more") or not msgs:
            break
        before = msgs[0]["id"]
    return count


def sqlite_count(db_path: Path, tag: str):
    """Rows of the table that has a ``cid`` column whose cid carries ``tag``; opened read-only."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            if "cid" in cols:
                (n,) = con.execute(f'SELECT count(*) FROM "{table}" WHERE cid LIKE ?',
                                   (tag + "-%",)).fetchone()
                return table, n
        return None, None
    finally:
        con.close()


async def run(port, senders, messages, window, duration, to, concurrency, timeout, server_pid,
              py_spy=None):
    tag = f"s{int(time.time() * 1000) % 10**9}"
    names = [f"store{i}" for i in range(senders)]
    t0 = time.monotonic()
    await common.register_accounts(port, names, concurrency)
    clients = await common.bounded((common.open_session(port, n) for n in names), concurrency)
    targets = []
    for i, c in enumerate(clients):
        if to == "lobby":
            targets.append("#lobby")
            continue
        room = f"store{i}"
        try:
            await c.request("create_room", room=room, topic="store_rate")
        except common.RequestError as e:
            if e.code != "name_taken":
                raise
            await c.request("join", room=room)
        targets.append("#" + room)
    setup_s = time.monotonic() - t0
    await asyncio.sleep(0.5)

    loop = asyncio.get_running_loop()
    finished = loop.create_future()
    remaining = [senders]

    def one_done():
        remaining[0] -= 1
        if remaining[0] == 0 and not finished.done():
            finished.set_result(None)

    spy = common.PySpy(server_pid, py_spy) if py_spy else None
    if spy:
        spy.start()
    stop_at = time.monotonic() + duration if duration else None
    srv_cpu0, gen_cpu0 = common.cpu_seconds(server_pid), common.own_cpu_seconds()
    streams = [Stream(c, i, targets[i], tag, window, None if duration else messages, stop_at, one_done)
               for i, c in enumerate(clients)]
    for s in streams:
        s.fill()
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.shield(finished), timeout)
    except asyncio.TimeoutError:
        timed_out = True
    srv_cpu1, gen_cpu1 = common.cpu_seconds(server_pid), common.own_cpu_seconds()
    if spy:
        spy.stop()

    acked = sum(s.acked for s in streams)
    first = min(s.first_send for s in streams if s.first_send)
    last = max((s.last_ack for s in streams if s.last_ack), default=first)
    elapsed = (last - first) / 1e9
    lat = sorted(itertools.chain.from_iterable(s.ack_ns for s in streams))
    ms = lambda ns: None if ns is None else round(ns / 1e6, 3)  # noqa: E731

    # check through the protocol while the server runs (back to the normal client path)
    for c in clients:
        c.fast = None
    await asyncio.sleep(0.2)
    checker = clients[0]
    if to == "lobby":
        in_history = await history_count(checker, "#lobby", tag, acked // 200 + 20)
    else:
        counts = await asyncio.gather(*(history_count(c, t, tag, s.seq // 200 + 20)
                                        for c, t, s in zip(clients, targets, streams)))
        in_history = sum(counts)
    for c in clients:
        c.close()
    return {
        "senders": senders, "window": window, "to": to, "tag": tag,
        "messages_per_sender": messages if not duration else None, "duration_s": duration,
        "sent": sum(s.seq for s in streams), "acked": acked,
        "duplicate_acks": sum(s.duplicates for s in streams),
        "errors": dict(sum((s.errors for s in streams), collections.Counter())),
        "unacked": sum(len(s.inflight) for s in streams), "timed_out": timed_out,
        "elapsed_s": round(elapsed, 3),
        "acks_per_s": round(acked / elapsed) if elapsed > 0 else None,
        "ack_latency_ms": {"p50": ms(common.percentile(lat, 50)), "p99": ms(common.percentile(lat, 99)),
                           "max": ms(lat[-1] if lat else None)},
        "server_cpu_s": round(srv_cpu1 - srv_cpu0, 3),
        "generator_cpu_s": round(gen_cpu1 - gen_cpu0, 3),
        "stored_in_history": in_history, "setup_s": round(setup_s, 1),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--senders", type=int, default=50)
    ap.add_argument("--messages", type=int, default=1000, help="per sender (default 1000)")
    ap.add_argument("--duration", type=float, help="send for this many seconds instead of a count")
    ap.add_argument("--window", type=int, default=16, help="sends in flight per sender")
    ap.add_argument("--to", choices=["rooms", "lobby"], default="rooms",
                    help="each sender to its own room (default) or all to #lobby")
    ap.add_argument("--timeout", type=float, default=180.0, help="limit of the measured phase, s")
    ap.add_argument("--concurrency", type=int, default=16, help="registrations/logins in flight")
    ap.add_argument("--data-dir", type=Path, help="server data dir (default: a fresh temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir")
    ap.add_argument("--slow-hash", action="store_true", help="do not pass cheap-argon2 options")
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--profile", help="run the server under cProfile, stats to this file")
    ap.add_argument("--py-spy", help="sample the server with py-spy (collapsed stacks to this file)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.duration:
        args.timeout = max(args.timeout, args.duration + 60)
    common.raise_nofile()

    extra = ([] if args.slow_hash else common.fast_hash_args()) + args.server_arg
    data_dir = args.data_dir or common.temp_data_dir("bench-store-")
    try:
        with common.ServerProcess.chat(data_dir, extra=extra, profile=args.profile) as server:
            server.start()
            print(f"server pid {server.pid} port {server.port} data {data_dir} args {extra}",
                  file=sys.stderr)
            r = asyncio.run(run(server.port, args.senders, args.messages, args.window,
                                args.duration, args.to, args.concurrency, args.timeout, server.pid,
                                args.py_spy))
        # the server has stopped (its WAL is checkpointed): count what the file holds
        table, in_db = sqlite_count(data_dir / "chat_server.db", r["tag"])
        r.update(sqlite_table=table, stored_in_sqlite=in_db,
                 lost=r["acked"] - in_db if in_db is not None else None,
                 target=f"acks/s >= {TARGET}")
    finally:
        if not args.data_dir and not args.keep:
            common.remove_dir(data_dir)
    print(json.dumps(r), file=sys.stderr)
    print(f"{'senders':>7} {'window':>6} {'to':>5} {'acked':>7} {'time s':>7} {'acks/s':>8} "
          f"{'ack p50 ms':>10} {'ack p99 ms':>10} {'in history':>10} {'in sqlite':>9} "
          f"{'srv CPU s':>9} {'gen CPU s':>9}")
    print(f"{r['senders']:>7} {r['window']:>6} {r['to']:>5} {r['acked']:>7} {r['elapsed_s']:>7} "
          f"{r['acks_per_s']!s:>8} {r['ack_latency_ms']['p50']!s:>10} "
          f"{r['ack_latency_ms']['p99']!s:>10} {r['stored_in_history']:>10} "
          f"{r['stored_in_sqlite']!s:>9} {r['server_cpu_s']:>9} {r['generator_cpu_s']:>9}")
    if args.json:
        common.write_json(args.json, {"machine": common.machine_info(), "server_args": extra,
                                      "result": r})


if __name__ == "__main__":
    main()
