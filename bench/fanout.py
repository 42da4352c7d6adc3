"""Fan-out benchmark: how fast the server delivers room messages to many connections.

N clients (accounts ``fan0`` .. ``fanN-1``, all members of ``lobby``) log in; S of them
(the first S) send M messages each to ``#lobby``; every one of the N connections, the
senders' own included, must receive every message once. We report

* deliveries/s = unique receipts / (last receipt - first send),
* latency from send to receipt (p50/p99/max), CLOCK_MONOTONIC on both sides (one clock for
  all processes on Linux); the send time travels in the message text ``F<sender>:<seq>:<ns>``,
* lost (expected receipts that never came) and duplicated receipts (both must be 0),
* CPU seconds of the server (/proc/PID/stat) and of all load-generator processes over the
  measured phase, so that one can see whether the generator was the bottleneck.

Processes: the S senders' connections live in a process of their own (so that a sender's
next send never waits behind the reading of hundreds of receivers; ``--mixed`` turns this
off) and the other connections are spread over ``--procs`` receiver processes. The parent
starts the server, then workers register and log in their share with the simple asyncio
:class:`common.ChatClient`, report ``ready``, wait for ``go``, run the measured phase, report
``done`` (CPU times, first send, last receipt) and then ``result`` (loss, duplicates, latency
samples) over pipes.

The measured phase leaves asyncio: each worker runs a plain epoll loop over the raw sockets.
A receiver does not split frames at all: one ``re.findall`` (C speed) per read pulls sender,
sequence and send time out of every complete message text, and the buffer is cut after the
last one. Senders' connections split frames by length prefix and JSON-decode only the replies.
Latency and loss are worked out after the clock has stopped.

Scenarios (default: both, on one server):
  throughput  N=500 S=5 M=100, a window of 16 sends in flight per sender; target >= 300,000/s
  latency     N=100 S=5 M=100, one send in flight per sender;               target p99 < 10 ms

    .venv/bin/python bench/fanout.py                      # both scenarios
    .venv/bin/python bench/fanout.py --clients 200 --senders 2 --messages 500 --window 4
    .venv/bin/python bench/fanout.py --scenario latency --pace 10   # 10 ms between sends
"""

import argparse
import asyncio
import collections
import heapq
import itertools
import json
import multiprocessing
import re
import select
import struct
import sys
import time
import traceback
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import control_frame  # noqa: E402

SCENARIOS = {
    "throughput": dict(clients=500, senders=5, messages=100, window=16, target="deliveries/s >= 300000"),
    "latency": dict(clients=100, senders=5, messages=100, window=1, target="p99 < 10 ms"),
}

MSG_RE = re.compile(rb'"text":"F(\d+):(\d+):(\d+)"')
TEXT_KEY = b'"text":"F'
LENGTH = struct.Struct(">I")
PING = b'"type":"ping"'
PONG = control_frame({"type": "pong"})
MESSAGE_TYPE = b'"type":"message"'


def username(i: int) -> str:
    return f"fan{i}"


# -- worker side -------------------------------------------------------------------------------

class Receiver:
    """Fast path of one connection during the measured phase (a raw non-blocking socket)."""

    __slots__ = ("sock", "fd", "buf", "log", "count", "expected", "worker", "sender", "done",
                 "closed")

    def __init__(self, client, expected, worker, sender=None):
        self.expected, self.worker, self.sender = expected, worker, sender
        if client.messages:
            raise RuntimeError("a message reached the asyncio client before the measured phase")
        # Leave asyncio: stop its reader and work on our own handle of the same socket.
        client.transport.pause_reading()
        self.sock = client.transport.get_extra_info("socket").dup()
        self.fd = self.sock.fileno()
        self.buf = bytearray(client.take_buffer())
        self.log = []       # (receive time ns, [(sender, seq, send ns), ...]) per read
        self.count = 0
        self.done = expected == 0
        self.closed = False

    def write(self, frame):
        # frames are small and few in flight: a full socket buffer would be a bug, not load
        if self.sock.send(frame) != len(frame):
            raise RuntimeError("short send on a bench connection")

    def data(self, data, now):
        buf = self.buf
        buf += data
        if self.sender is None:
            found = self.scan(buf, data)
        else:
            found = self.scan_frames(buf)
        if found:
            self.log.append((now, found))
            self.count += len(found)
            if not self.done and self.count >= self.expected:
                self.done = True
                self.worker.progress()

    def scan(self, buf, data):
        """Receivers: no frame walking at all. Take every complete message text of the buffer,
        then drop the bytes up to the last one so that it is never matched again (a text cut
        off at the end of the read has no closing quote yet and is kept for the next read)."""
        found = MSG_RE.findall(buf)
        cut = buf.rfind(TEXT_KEY)
        if cut < 0:
            if len(buf) > 64:  # no text at all: keep only what could start one
                del buf[:len(buf) - 16]
        elif MSG_RE.match(buf, cut):
            del buf[:cut + 1]
        else:
            del buf[:cut]
        if PING in data:  # the server's heartbeat (only after 30 s of silence from us)
            self.write(PONG)
        return found

    def scan_frames(self, buf):
        """Senders: split frames by length prefix; ok/error/ping replies are JSON-decoded."""
        n = len(buf)
        off = 0
        unpack = LENGTH.unpack_from
        while n - off >= 4:
            end = off + 4 + unpack(buf, off)[0]
            if end > n:
                break
            if buf.find(MESSAGE_TYPE, off + 4, min(end, off + 40)) < 0:
                self.sender.frame(bytes(buf[off + 4:end]))
            off = end
        if not off:
            return None
        found = MSG_RE.findall(buf, 0, off)
        del buf[:off]
        return found


class Sender:
    """Sends M messages to #lobby keeping ``window`` sends without an ``ok`` in flight."""

    def __init__(self, receiver, index, cfg, worker):
        self.receiver, self.index, self.worker = receiver, index, worker
        receiver.sender = self
        self.messages, self.window, self.tag = cfg["messages"], cfg["window"], cfg["tag"]
        self.pace = cfg.get("pace", 0.0)  # seconds between two sends of this sender (0: none)
        self.last_send = 0.0
        self.paused = False
        self.ids = itertools.count(1_000_000)
        self.inflight = {}
        self.next_seq = 0
        self.acked = 0
        self.failed = 0
        self.errors = collections.Counter()
        self.first_send = None
        self.done = self.messages == 0

    def fill(self):
        while len(self.inflight) < self.window and self.next_seq < self.messages:
            if self.pace:
                if self.paused:
                    return
                wait = self.last_send + self.pace - time.monotonic()
                if wait > 0:
                    self.paused = True
                    self.worker.call_later(wait, self.resume)
                    return
                self.last_send = time.monotonic()
            self.send(self.next_seq)
            self.next_seq += 1

    def resume(self):
        self.paused = False
        self.fill()

    def send(self, seq):
        rid = next(self.ids)
        ts = time.monotonic_ns()
        if self.first_send is None:
            self.first_send = ts
        self.inflight[rid] = seq
        self.receiver.write(control_frame({
            "type": "send", "id": rid, "to": "#lobby",
            "text": f"F{self.index}:{seq}:{ts}", "cid": f"{self.tag}-{self.index}-{seq}"}))

    def frame(self, payload):
        obj = json.loads(payload)
        kind, rid = obj.get("type"), obj.get("id")
        if kind == "ok" and rid in self.inflight:
            del self.inflight[rid]
            self.acked += 1
        elif kind == "error" and rid in self.inflight:
            seq = self.inflight.pop(rid)
            self.errors[obj.get("code")] += 1
            if obj.get("code") == "rate_limited":  # nothing was stored: same cid again later
                self.inflight[("retry", seq)] = seq
                delay = float(obj.get("retry_after") or 0.1)
                self.worker.call_later(delay, self.retry, seq)
                return
            self.failed += 1
        elif kind == "ping" and rid is None:
            self.receiver.write(PONG)
            return
        else:
            return
        self.fill()
        if not self.done and self.acked + self.failed >= self.messages:
            self.done = True
            self.worker.progress()

    def retry(self, seq):
        del self.inflight[("retry", seq)]
        self.send(seq)


class Worker:
    """One load-generator process: logs its share of the clients in (asyncio), then runs the
    measured phase in a plain epoll loop over the raw sockets (no per-read asyncio cost)."""

    def __init__(self, idx, cfg, pipe, mine):
        self.idx, self.cfg, self.pipe, self.mine = idx, cfg, pipe, mine
        self.receivers, self.senders = [], []
        self.finished = False
        self.timers = []

    async def recv_pipe(self):
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.pipe.fileno()
        loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return self.pipe.recv()

    def call_later(self, delay, func, *args):
        heapq.heappush(self.timers, (time.monotonic() + delay, id(func), func, args))

    def progress(self):
        if all(r.done for r in self.receivers) and all(s.done for s in self.senders):
            self.finished = True

    def hot_loop(self, deadline, stop_when_finished=True):
        """Read all sockets until every expected message arrived (or ``deadline``)."""
        ep = select.epoll()
        by_fd = {}
        for r in self.receivers:
            if not r.closed:
                ep.register(r.fd, select.EPOLLIN)
                by_fd[r.fd] = r
        monotonic_ns, poll = time.monotonic_ns, ep.poll
        try:
            while not (stop_when_finished and self.finished):
                now = time.monotonic()
                if now >= deadline:
                    break
                while self.timers and self.timers[0][0] <= now:
                    _, _, func, args = heapq.heappop(self.timers)
                    func(*args)
                timeout = min(deadline - now, 0.05)
                if self.timers:
                    timeout = max(0.0, min(timeout, self.timers[0][0] - now))
                for fd, _ev in poll(timeout):
                    r = by_fd[fd]
                    data = common.recv_ready(r.sock)
                    if data is None:
                        continue
                    if not data:
                        ep.unregister(fd)
                        r.closed = True
                        continue
                    r.data(data, monotonic_ns())
        finally:
            ep.close()

    async def run(self):
        cfg = self.cfg
        port, mine = cfg["port"], self.mine
        t0 = time.monotonic()
        if cfg["register"]:
            await common.register_accounts(port, [username(i) for i in mine],
                                           cfg["concurrency"])
        t1 = time.monotonic()
        clients = await common.bounded(
            (common.open_session(port, username(i)) for i in mine), cfg["concurrency"])
        t2 = time.monotonic()
        # From here on every byte must reach the raw loop: asyncio would read (and skip) a
        # message that a fast server delivers before this process has heard "go".
        for c in clients:
            c.transport.pause_reading()
        self.pipe.send(("ready", {"connections": len(clients), "register_s": t1 - t0,
                                  "login_s": t2 - t1}))
        if await self.recv_pipe() != "go":
            return
        expected = cfg["senders"] * cfg["messages"]
        cpu0 = common.own_cpu_times()
        for i, c in zip(mine, clients):
            r = Receiver(c, expected, self)
            self.receivers.append(r)
            if i < cfg["senders"]:
                self.senders.append(Sender(r, i, cfg, self))
        self.progress()
        for s in self.senders:
            s.fill()
        self.hot_loop(time.monotonic() + cfg["timeout"])
        cpu1 = common.own_cpu_times()
        self.pipe.send(("done", {
            "cpu_s": sum(cpu1) - sum(cpu0), "cpu_user_s": cpu1[0] - cpu0[0],
            "cpu_sys_s": cpu1[1] - cpu0[1], "timed_out": not self.finished,
            "first_send": min((s.first_send for s in self.senders if s.first_send), default=None),
            "last_receipt": max((r.log[-1][0] for r in self.receivers if r.log), default=None)}))
        # keep reading a little: late duplicates would show up here
        self.hot_loop(time.monotonic() + cfg["linger"], stop_when_finished=False)
        self.pipe.send(("result", self.result(expected)))
        for r in self.receivers:
            r.sock.close()
        for c in clients:
            c.close()
        await asyncio.sleep(0.1)

    def result(self, expected):
        """Loss, duplicates and latencies, worked out after the measured phase."""
        lat = array("q")
        unique = dup = lost = 0
        for r in self.receivers:
            seen = set()
            for now, found in r.log:
                for s, q, ts in found:
                    key = (s, q)
                    if key in seen:
                        dup += 1
                        continue
                    seen.add(key)
                    lat.append(now - int(ts))
            unique += len(seen)
            lost += max(0, expected - len(seen))
        return {
            "unique": unique, "duplicates": dup, "lost": lost,
            "latencies_ns": lat.tobytes(),
            "acked": sum(s.acked for s in self.senders),
            "failed": sum(s.failed for s in self.senders),
            "errors": dict(sum((s.errors for s in self.senders), collections.Counter())),
            "disconnected": sum(1 for r in self.receivers if r.closed),
        }


def worker_main(idx, cfg, pipe, mine):
    common.raise_nofile()
    try:
        asyncio.run(Worker(idx, cfg, pipe, mine).run())
    except BaseException:
        pipe.send(("error", traceback.format_exc()))


def assign(clients, senders, procs, separate_senders):
    """Which client indices each worker process owns (senders are clients 0..S-1)."""
    if separate_senders and procs > 0:
        rest = range(senders, clients)
        return [list(range(senders))] + [list(rest[k::procs]) for k in range(procs)]
    return [[i for i in range(clients) if i % procs == k] for k in range(procs)]


# -- parent side -------------------------------------------------------------------------------

def collect(pipes, kind, timeout):
    """Wait for one message of ``kind`` from every worker pipe; payloads in worker order."""
    out = common.collect(dict(enumerate(pipes)), kind, timeout)
    return [out[i] for i in range(len(pipes))]


def run_scenario(server, name, clients, senders, messages, window, procs, timeout=60.0,
                 concurrency=16, setup_timeout=900.0, linger=0.5, separate_senders=True,
                 pace=0.0, py_spy=None):
    procs = max(1, min(procs, clients))
    senders = min(senders, clients)
    shares = [share for share in assign(clients, senders, procs, separate_senders) if share]
    cfg = dict(port=server.port, clients=clients, senders=senders,
               messages=messages, window=window, timeout=timeout, pace=pace,
               concurrency=max(1, concurrency // len(shares)), register=True, linger=linger,
               tag=f"r{int(time.time() * 1000) % 10**9}")
    ctx = multiprocessing.get_context("fork")
    pipes, workers = [], []
    for idx, share in enumerate(shares):
        parent_end, child_end = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(idx, cfg, child_end, share), daemon=True)
        p.start()
        pipes.append(parent_end)
        workers.append(p)
    try:
        t_setup = time.monotonic()
        ready = collect(pipes, "ready", setup_timeout)
        setup_s = time.monotonic() - t_setup
        time.sleep(1.0)  # let the presence events of the last logins drain
        spy = common.PySpy(server.pid, py_spy) if py_spy else None
        if spy:
            spy.start()
        srv_cpu0 = common.cpu_times(server.pid)
        srv_rss0 = common.rss_kib(server.pid)
        for p in pipes:
            p.send("go")
        done = collect(pipes, "done", timeout + 30)
        srv_cpu1 = common.cpu_times(server.pid)
        srv_rss1 = common.rss_kib(server.pid)
        if spy:
            spy.stop()
        results = collect(pipes, "result", 120)
    finally:
        for p in workers:
            p.join(30)
            if p.is_alive():
                p.terminate()
                p.join()
    lat = array("q")
    for r in results:
        lat.frombytes(r["latencies_ns"])
    lat = sorted(lat)
    first = min(d["first_send"] for d in done if d["first_send"] is not None)
    last = max(d["last_receipt"] for d in done if d["last_receipt"] is not None)
    elapsed = (last - first) / 1e9
    unique = sum(r["unique"] for r in results)
    ms = lambda ns: None if ns is None else round(ns / 1e6, 3)  # noqa: E731
    out = {
        "scenario": name, "clients": clients, "senders": cfg["senders"], "messages": messages,
        "window": window, "pace_ms": pace * 1000, "procs": procs,
        "separate_senders": separate_senders,
        "generator_processes": len(shares),
        "expected": cfg["senders"] * messages * clients,
        "delivered": unique,
        "lost": sum(r["lost"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "acked": sum(r["acked"] for r in results),
        "send_errors": sum((collections.Counter(r["errors"]) for r in results), collections.Counter()),
        "disconnected": sum(r["disconnected"] for r in results),
        "timed_out": any(d["timed_out"] for d in done),
        "elapsed_s": round(elapsed, 4),
        "deliveries_per_s": round(unique / elapsed) if elapsed > 0 else None,
        "messages_per_s": round(sum(r["acked"] for r in results) / elapsed) if elapsed > 0 else None,
        "latency_ms": {"p50": ms(common.percentile(lat, 50)), "p90": ms(common.percentile(lat, 90)),
                       "p99": ms(common.percentile(lat, 99)), "max": ms(lat[-1] if lat else None)},
        "server_cpu_s": round(sum(srv_cpu1) - sum(srv_cpu0), 3),
        "server_cpu_user_sys_s": [round(srv_cpu1[0] - srv_cpu0[0], 3),
                                  round(srv_cpu1[1] - srv_cpu0[1], 3)],
        "generator_cpu_user_sys_s": [round(sum(d["cpu_user_s"] for d in done), 3),
                                     round(sum(d["cpu_sys_s"] for d in done), 3)],
        "server_rss_kib": [srv_rss0, srv_rss1],
        "generator_cpu_s": round(sum(d["cpu_s"] for d in done), 3),
        "generator_cpu_per_proc_s": [round(d["cpu_s"], 3) for d in done],
        "setup_s": round(setup_s, 1),
        "register_s": round(max(r["register_s"] for r in ready), 1),
        "login_s": round(max(r["login_s"] for r in ready), 1),
    }
    out["send_errors"] = dict(out["send_errors"])
    return out


def print_table(rows):
    cols = [("scenario", "scenario"), ("N", "clients"), ("S", "senders"), ("M", "messages"),
            ("win", "window"), ("pace ms", "pace_ms"), ("procs", "procs"), ("deliv/s", "deliveries_per_s"),
            ("p50 ms", None), ("p99 ms", None), ("max ms", None), ("lost", "lost"),
            ("dup", "duplicates"), ("time s", "elapsed_s"), ("srv CPU s", "server_cpu_s"),
            ("gen CPU s", "generator_cpu_s")]
    table = [[h for h, _ in cols]]
    for r in rows:
        line = []
        for h, key in cols:
            if key is None:
                line.append(r["latency_ms"][h.split()[0]])
            else:
                line.append(r[key])
        table.append([str(v) for v in line])
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", choices=["both", *SCENARIOS], default="both")
    ap.add_argument("--clients", type=int, help="N connections (custom run)")
    ap.add_argument("--senders", type=int, help="S senders among them (custom run)")
    ap.add_argument("--messages", type=int, help="M messages per sender (custom run)")
    ap.add_argument("--window", type=int, help="sends in flight per sender (custom run)")
    ap.add_argument("--procs", type=int, default=2,
                    help="receiver processes (default 2), plus one for the senders")
    ap.add_argument("--pace", type=float, default=0.0,
                    help="milliseconds between two sends of one sender (default 0: as fast as "
                         "the window allows); a paced run shows latency without queueing")
    ap.add_argument("--mixed", action="store_true",
                    help="no separate sender process: senders share the receiver processes")
    ap.add_argument("--timeout", type=float, default=60.0, help="limit of the measured phase, s")
    ap.add_argument("--concurrency", type=int, default=16,
                    help="registrations/logins in flight over all processes")
    ap.add_argument("--data-dir", type=Path, help="server data dir (default: a fresh temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir")
    ap.add_argument("--slow-hash", action="store_true",
                    help="do not pass the server's cheap-argon2 options")
    ap.add_argument("--server-arg", action="append", default=[], help="extra twistd chatserver argument")
    ap.add_argument("--profile", help="run the server under cProfile, stats to this file")
    ap.add_argument("--py-spy", help="sample the server with py-spy during the measured phase "
                                     "(collapsed stacks to this file; scenario name appended)")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    common.raise_nofile()

    custom = any(v is not None for v in (args.clients, args.senders, args.messages, args.window))
    if custom:
        base = SCENARIOS["throughput"]
        runs = [("custom", dict(clients=args.clients or base["clients"],
                                senders=args.senders or base["senders"],
                                messages=args.messages or base["messages"],
                                window=args.window or base["window"]))]
    else:
        names = list(SCENARIOS) if args.scenario == "both" else [args.scenario]
        runs = [(n, {k: v for k, v in SCENARIOS[n].items() if k != "target"}) for n in names]

    extra = ([] if args.slow_hash else common.fast_hash_args()) + args.server_arg
    data_dir = args.data_dir or common.temp_data_dir("bench-fanout-")
    rows = []
    try:
        with common.ServerProcess.chat(data_dir, extra=extra, profile=args.profile) as server:
            server.start()
            print(f"server pid {server.pid} port {server.port} data {data_dir} args {extra}",
                  file=sys.stderr)
            for name, shape in runs:
                print(f"running {name}: {shape} procs={args.procs}", file=sys.stderr)
                r = run_scenario(server, name, procs=args.procs, timeout=args.timeout,
                                 concurrency=args.concurrency,
                                 separate_senders=not args.mixed, pace=args.pace / 1000,
                                 py_spy=f"{args.py_spy}.{name}" if args.py_spy else None,
                                 **shape)
                r["target"] = SCENARIOS.get(name, {}).get("target")
                rows.append(r)
                print(json.dumps({k: v for k, v in r.items()}, default=str), file=sys.stderr)
    finally:
        if not args.data_dir and not args.keep:
            common.remove_dir(data_dir)
    print_table(rows)
    if args.json:
        common.write_json(args.json, {"machine": common.machine_info(), "server_args": extra,
                                      "results": rows})


if __name__ == "__main__":
    main()
