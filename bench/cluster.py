"""Cluster benchmark: 1 node vs 3 nodes on one PostgreSQL, and durable messages/s on
PostgreSQL vs SQLite, in one run.

Fan-out (per configuration, a fresh database each): R receivers (all in ``#lobby``) spread
round-robin over the nodes, S senders on the first node send M messages each (``--window``
in flight per sender; ``--pace`` ms between a sender's sends). Reported: deliveries/s
(receipts / (last receipt - first send)), latency send -> receipt p50/p99 for receivers on
the senders' node and on the other nodes (cross-node), lost and duplicated receipts (both
must be 0), and CPU seconds of every process: each node, PostgreSQL (all its processes) and
this load generator. Two loads: "light" (window 1, 10 ms pace: the latency figure) and
"busy" (window 16, no pace: the throughput figure).

Durable messages/s: S senders with ``--window`` in flight each store messages as fast as the
server acks them, on SQLite (the default, synchronous=FULL) and on PostgreSQL (a node with
``--node``; fsync and synchronous_commit on, unlike the tests' cluster); acked messages per
second of wall time and the CPU per 1,000 messages. The two stores run alternately
(``--rounds``), so a change of the machine's load hits both.

    .venv/bin/python bench/cluster.py                       # everything, ~1-2 min
    .venv/bin/python bench/cluster.py --receivers 100 --messages 200 --rounds 3
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

REPO = common.REPO
sys.path.insert(0, str(REPO))
from tests.support import pgcluster  # noqa: E402

_TEXT = re.compile(rb'"text":"L(\d+):(\d+):(\d+)"')


def postgres_cpu(postmaster_pid: int) -> float:
    """CPU seconds of the postmaster and all its children (backends, writers)."""
    total = common.cpu_seconds(postmaster_pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster_pid:
                total += common.cpu_seconds(int(entry))
    return total


def start_nodes(pg, dbname, count, tmp: Path):
    nodes = []
    for n in range(count):
        server = common.ServerProcess.chat(
            tmp / f"node{n + 1}", extra=common.fast_hash_args() + [
                "--database", pg.dsn(dbname), "--node", f"node{n + 1}"])
        nodes.append(server)
    for server in nodes:
        server.start()
    return nodes


class Receiver:
    def __init__(self, client, node):
        self.client, self.node = client, node
        self.buffer = b""
        self.seen = {}            # (sender, seq) -> receipts
        self.latencies = []       # ns
        self.last = 0

    def feed(self, data):
        now = time.monotonic_ns()
        self.buffer += data
        found = _TEXT.findall(self.buffer)
        if found:
            cut = self.buffer.rfind(b'"text":"L')
            self.buffer = self.buffer[cut + 9:]
            self.last = now
            for sender, seq, sent in found:
                key = (int(sender), int(seq))
                self.seen[key] = self.seen.get(key, 0) + 1
                self.latencies.append(now - int(sent))
        elif len(self.buffer) > 1 << 20:
            self.buffer = self.buffer[-65536:]


async def fanout(ports, receivers, senders, messages, window, pace_ms, tag):
    names_r = [f"r{tag}{i}" for i in range(receivers)]
    names_s = [f"s{tag}{i}" for i in range(senders)]
    await common.register_accounts(ports[0], names_r + names_s)
    rs = []
    for i, name in enumerate(names_r):
        node = i % len(ports)
        client = await common.open_session(ports[node], name)
        rs.append(Receiver(client, node))
    ss = [await common.open_session(ports[0], name) for name in names_s]
    await asyncio.sleep(0.5)        # presence notices of the logins go by
    for r in rs:
        r.client.take_buffer()
        r.client.fast = r.feed
    started = time.monotonic_ns()

    async def send(idx, client):
        inflight = set()
        for seq in range(messages):
            text = f"L{idx}:{seq}:{time.monotonic_ns()}"
            inflight.add(asyncio.ensure_future(
                client.request("send", to="#lobby", text=text, cid=f"{tag}-{idx}-{seq}")))
            if len(inflight) >= window:
                done, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                for d in done:
                    d.result()
            if pace_ms:
                await asyncio.sleep(pace_ms / 1000)
        if inflight:
            for d in await asyncio.gather(*inflight):
                pass

    await asyncio.gather(*(send(i, c) for i, c in enumerate(ss)))
    expected = senders * messages
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(r.seen) < expected for r in rs):
        await asyncio.sleep(0.02)
    lost = sum(expected - len(r.seen) for r in rs)
    dups = sum(n - 1 for r in rs for n in r.seen.values() if n > 1)
    receipts = sum(len(r.seen) for r in rs)
    last = max(r.last for r in rs)
    same = sorted(x for r in rs if r.node == 0 for x in r.latencies)
    cross = sorted(x for r in rs if r.node != 0 for x in r.latencies)
    for client in [r.client for r in rs] + ss:
        client.close()

    def ms(values, p):
        v = common.percentile(values, p)
        return None if v is None else round(v / 1e6, 2)
    return {"deliveries_per_s": round(receipts / ((last - started) / 1e9)), "lost": lost,
            "duplicated": dups, "same_node_p50_ms": ms(same, 50), "same_node_p99_ms": ms(same, 99),
            "cross_node_p50_ms": ms(cross, 50), "cross_node_p99_ms": ms(cross, 99)}


async def store_rate(port, senders, messages, window, tag):
    names = [f"w{tag}{i}" for i in range(senders)]
    await common.register_accounts(port, names)
    clients = [await common.open_session(port, name) for name in names]
    started = time.monotonic()

    async def send(idx, client):
        inflight = set()
        for seq in range(messages):
            inflight.add(asyncio.ensure_future(client.request(
                "send", to="#lobby", text=f"durable {seq}", cid=f"{tag}-{idx}-{seq}")))
            if len(inflight) >= window:
                done, inflight = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                for d in done:
                    d.result()
        await asyncio.gather(*inflight)

    await asyncio.gather(*(send(i, c) for i, c in enumerate(clients)))
    elapsed = time.monotonic() - started
    for client in clients:
        client.close()
    return senders * messages, elapsed


def measure(procs, pg, work):
    """Run ``work()`` (a coroutine factory); CPU seconds of every process over it."""
    before = {name: common.cpu_seconds(p.pid) for name, p in procs.items()}
    pg_before = postgres_cpu(pg.pid) if pg is not None else 0.0
    own_before = common.own_cpu_seconds()
    result = asyncio.run(work())
    cpu = {name: round(common.cpu_seconds(p.pid) - before[name], 2) for name, p in procs.items()}
    if pg is not None:
        cpu["postgresql"] = round(postgres_cpu(pg.pid) - pg_before, 2)
    cpu["load generator"] = round(common.own_cpu_seconds() - own_before, 2)
    return result, cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receivers", type=int, default=60)
    parser.add_argument("--senders", type=int, default=3)
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--store-senders", type=int, default=8)
    parser.add_argument("--store-messages", type=int, default=400)
    parser.add_argument("--window", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    common.raise_nofile()
    tmp = common.temp_data_dir("chat-bench-cluster-")
    pg = pgcluster.PostgresCluster(durable=True)
    pg.start()
    results = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                        capture_output=True, text=True).stdout.strip(),
               "machine": common.machine_info(), "args": vars(args),
               "fanout": [], "durable": []}
    try:
        loads = (("light", 1, 10), ("busy", args.window, 0))
        for count in (1, 3):
            dbname = pg.new_database()
            nodes = start_nodes(pg, dbname, count, tmp / f"fan{count}")
            try:
                procs = {f"node{n + 1}": server.proc for n, server in enumerate(nodes)}
                for load, window, pace in loads:
                    tag = f"{count}{load[0]}"
                    figures, cpu = measure(procs, pg, lambda: fanout(
                        [s.port for s in nodes], args.receivers, args.senders, args.messages,
                        window, pace, tag))
                    row = {"nodes": count, "load": load, **figures, "cpu_s": cpu}
                    results["fanout"].append(row)
                    print(json.dumps(row), flush=True)
            finally:
                for server in nodes:
                    server.stop()
        for round_ in range(args.rounds):
            for store in ("sqlite", "postgresql"):
                if store == "sqlite":
                    server = common.ServerProcess.chat(tmp / f"sqlite{round_}",
                                                       extra=common.fast_hash_args())
                    server.start()
                    db = None
                else:
                    db = pg
                    server = start_nodes(pg, pg.new_database(), 1, tmp / f"pg{round_}")[0]
                try:
                    (n, elapsed), cpu = measure({"server": server.proc}, db, lambda: store_rate(
                        server.port, args.store_senders, args.store_messages, args.window,
                        f"{store[0]}{round_}"))
                finally:
                    server.stop()
                row = {"store": store, "round": round_ + 1, "messages": n,
                       "messages_per_s": round(n / elapsed),
                       "server_cpu_ms_per_1000": round(cpu["server"] * 1e6 / n),
                       "postgresql_cpu_ms_per_1000": (round(cpu["postgresql"] * 1e6 / n)
                                                      if "postgresql" in cpu else None),
                       "cpu_s": cpu}
                results["durable"].append(row)
                print(json.dumps(row), flush=True)
    finally:
        pg.stop()
        common.remove_dir(tmp)
    if args.json:
        common.write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
