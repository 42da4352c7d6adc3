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

The connections are spread over ``--procs`` worker processes, each with its own asyncio loop.
Log-in uses the simple :class:`common.ChatClient`; the measured phase swaps in
:class:`Receiver`, which splits frames by their length prefix only and pulls sender, sequence
and send time out of all message events of one read with a single ``re.findall`` (C speed)
instead of JSON-decoding each frame. Latency and loss are worked out after the clock stops.

Scenarios (default: both, on one server):
  throughput  N=500 S=5 M=100, a window of 16 sends in flight per sender; target >= 300,000/s
  latency     N=100 S=5 M=100, one send in flight per sender;               target p99 < 10 ms

    .venv/bin/python bench/fanout.py                      # both scenarios
    .venv/bin/python bench/fanout.py --clients 200 --senders 2 --messages 500 --window 4
"""

import argparse
import asyncio
import collections
import itertools
import json
import multiprocessing
import multiprocessing.connection
import re
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
LENGTH = struct.Struct(">I")
PING = b'"type":"ping"'
PONG = control_frame({"type": "pong"})
MESSAGE_TYPE = b'"type":"message"'


def username(i: int) -> str:
    return f"fan{i}"


# -- worker side -------------------------------------------------------------------------------

class Receiver:
    """Fast path of one connection during the measured phase."""

    __slots__ = ("client", "buf", "log", "count", "expected", "worker", "sender", "done")

    def __init__(self, client, expected, worker, sender=None):
        self.client, self.expected, self.worker, self.sender = client, expected, worker, sender
        self.buf = bytearray(client.take_buffer())
        self.log = []       # (receive time ns, [(sender, seq, send ns), ...]) per read
        self.count = 0
        self.done = expected == 0
        client.fast = self.data

    def data(self, data):
        now = time.monotonic_ns()
        buf = self.buf
        buf += data
        n = len(buf)
        off = 0
        unpack = LENGTH.unpack_from
        if self.sender is None:
            while n - off >= 4:
                end = off + 4 + unpack(buf, off)[0]
                if end > n:
                    break
                off = end
        else:  # a sender's connection also carries its ok replies: decode all but messages
            while n - off >= 4:
                end = off + 4 + unpack(buf, off)[0]
                if end > n:
                    break
                if buf.find(MESSAGE_TYPE, off + 4, min(end, off + 40)) < 0:
                    self.sender.frame(bytes(buf[off + 4:end]))
                off = end
        if not off:
            return
        found = MSG_RE.findall(buf, 0, off)
        if self.sender is None and buf.find(PING, 0, off) >= 0:
            self.client.transport.write(PONG)
        del buf[:off]
        if found:
            self.log.append((now, found))
            self.count += len(found)
            if not self.done and self.count >= self.expected:
                self.done = True
                self.worker.progress(now)


class Sender:
    """Sends M messages to #lobby keeping ``window`` sends without an ``ok`` in flight."""

    def __init__(self, client, index, cfg, worker):
        self.client, self.index, self.worker = client, index, worker
        self.messages, self.window, self.tag = cfg["messages"], cfg["window"], cfg["tag"]
        self.ids = itertools.count(1_000_000)
        self.inflight = {}
        self.next_seq = 0
        self.acked = 0
        self.failed = 0
        self.errors = collections.Counter()
        self.first_send = None
        self.done = self.messages == 0
        self.loop = asyncio.get_running_loop()

    def start(self):
        self.fill()

    def fill(self):
        while len(self.inflight) < self.window and self.next_seq < self.messages:
            self.send(self.next_seq)
            self.next_seq += 1

    def send(self, seq):
        rid = next(self.ids)
        ts = time.monotonic_ns()
        if self.first_send is None:
            self.first_send = ts
        self.inflight[rid] = seq
        self.client.transport.write(control_frame({
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
                self.loop.call_later(float(obj.get("retry_after") or 0.1), self.retry, seq)
                return
            self.failed += 1
        elif kind == "ping" and rid is None:
            self.client.transport.write(PONG)
            return
        else:
            return
        self.fill()
        if not self.done and self.acked + self.failed >= self.messages:
            self.done = True
            self.worker.progress(time.monotonic_ns())

    def retry(self, seq):
        del self.inflight[("retry", seq)]
        self.send(seq)


class Worker:
    def __init__(self, idx, cfg, pipe):
        self.idx, self.cfg, self.pipe = idx, cfg, pipe
        self.receivers, self.senders = [], []
        self.last_event = 0
        self.all_done = None

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

    def progress(self, now):
        self.last_event = max(self.last_event, now)
        if all(r.done for r in self.receivers) and all(s.done for s in self.senders):
            if not self.all_done.done():
                self.all_done.set_result(now)

    async def run(self):
        cfg = self.cfg
        port, procs = cfg["port"], cfg["procs"]
        mine = [i for i in range(cfg["clients"]) if i % procs == self.idx]
        t0 = time.monotonic()
        if cfg["register"]:
            await common.register_accounts(port, [username(i) for i in mine],
                                           cfg["concurrency"])
        t1 = time.monotonic()
        clients = await common.bounded(
            (common.open_session(port, username(i)) for i in mine), cfg["concurrency"])
        t2 = time.monotonic()
        self.pipe.send(("ready", {"connections": len(clients), "register_s": t1 - t0,
                                  "login_s": t2 - t1}))
        await asyncio.sleep(0)
        if await self.recv_pipe() != "go":
            return
        loop = asyncio.get_running_loop()
        self.all_done = loop.create_future()
        expected = cfg["senders"] * cfg["messages"]
        cpu0 = common.own_cpu_seconds()
        for i, c in zip(mine, clients):
            sender = Sender(c, i, cfg, self) if i < cfg["senders"] else None
            if sender:
                self.senders.append(sender)
            self.receivers.append(Receiver(c, expected, self, sender))
        for s in self.senders:
            s.start()
        self.progress(0)
        timed_out = False
        try:
            await asyncio.wait_for(asyncio.shield(self.all_done), cfg["timeout"])
        except asyncio.TimeoutError:
            timed_out = True
        cpu1 = common.own_cpu_seconds()
        self.pipe.send(("done", {
            "cpu_s": cpu1 - cpu0, "timed_out": timed_out,
            "first_send": min((s.first_send for s in self.senders if s.first_send), default=None),
            "last_receipt": max((r.log[-1][0] for r in self.receivers if r.log), default=None)}))
        await asyncio.sleep(cfg["linger"])  # late duplicates would show up here
        self.pipe.send(("result", self.result(expected, clients)))
        for c in clients:
            c.close()
        await asyncio.sleep(0.1)

    def result(self, expected, clients):
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
            "disconnected": sum(1 for c in clients if c.lost.done()),
        }


def worker_main(idx, cfg, pipe):
    common.raise_nofile()
    try:
        asyncio.run(Worker(idx, cfg, pipe).run())
    except BaseException:
        pipe.send(("error", traceback.format_exc()))


# -- parent side -------------------------------------------------------------------------------

def collect(pipes, kind, timeout):
    """Wait for one message of ``kind`` from every worker pipe."""
    out = [None] * len(pipes)
    waiting = dict(enumerate(pipes))
    deadline = time.monotonic() + timeout
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{len(waiting)} worker(s) sent no {kind!r} in {timeout} s")
        for conn in multiprocessing.connection.wait(list(waiting.values()), left):
            idx = next(i for i, p in waiting.items() if p is conn)
            try:
                what, payload = conn.recv()
            except EOFError:
                raise RuntimeError(f"worker {idx} died") from None
            if what == "error":
                raise RuntimeError(f"worker {idx} failed:\n{payload}")
            if what != kind:
                raise RuntimeError(f"worker {idx} sent {what!r}, expected {kind!r}")
            out[idx] = payload
            del waiting[idx]
    return out


def run_scenario(server, name, clients, senders, messages, window, procs, timeout=60.0,
                 concurrency=16, setup_timeout=900.0, linger=0.5):
    procs = max(1, min(procs, clients))
    cfg = dict(port=server.port, clients=clients, senders=min(senders, clients),
               messages=messages, window=window, procs=procs, timeout=timeout,
               concurrency=max(1, concurrency // procs), register=True, linger=linger,
               tag=f"r{int(time.time() * 1000) % 10**9}")
    ctx = multiprocessing.get_context("fork")
    pipes, workers = [], []
    for idx in range(procs):
        parent_end, child_end = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(idx, cfg, child_end), daemon=True)
        p.start()
        pipes.append(parent_end)
        workers.append(p)
    try:
        t_setup = time.monotonic()
        ready = collect(pipes, "ready", setup_timeout)
        setup_s = time.monotonic() - t_setup
        time.sleep(1.0)  # let the presence events of the last logins drain
        srv_cpu0 = common.cpu_seconds(server.pid)
        srv_rss0 = common.rss_kib(server.pid)
        for p in pipes:
            p.send("go")
        done = collect(pipes, "done", timeout + 30)
        srv_cpu1 = common.cpu_seconds(server.pid)
        srv_rss1 = common.rss_kib(server.pid)
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
        "window": window, "procs": procs,
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
        "server_cpu_s": round(srv_cpu1 - srv_cpu0, 3),
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
            ("win", "window"), ("procs", "procs"), ("deliv/s", "deliveries_per_s"),
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
    ap.add_argument("--procs", type=int, default=2, help="load-generator processes (default 2)")
    ap.add_argument("--timeout", type=float, default=60.0, help="limit of the measured phase, s")
    ap.add_argument("--concurrency", type=int, default=16,
                    help="registrations/logins in flight over all processes")
    ap.add_argument("--data-dir", type=Path, help="server data dir (default: a fresh temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir")
    ap.add_argument("--slow-hash", action="store_true",
                    help="do not pass the server's cheap-argon2 options")
    ap.add_argument("--server-arg", action="append", default=[], help="extra twistd chatserver argument")
    ap.add_argument("--profile", help="run the server under cProfile, stats to this file")
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
                                 concurrency=args.concurrency, **shape)
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
