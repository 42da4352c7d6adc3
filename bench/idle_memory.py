"""Memory benchmark: server RSS per idle, logged-in connection.

1. Start the chat server, register ``--accounts`` accounts (default 100; argon2 makes
   registering 5,000 slow, and an account may be logged in from many connections), log in a
   few warm-up connections (this also runs the password hashing, whose buffers would otherwise
   show up in the second reading), wait, read VmRSS.
2. Open ``--connections`` (default 5,000) more connections, each ``hello`` + ``login``
   (accounts round-robin: connection k logs in as ``idle<k mod accounts>``), wait
   ``--settle`` seconds while reading whatever the server pushes, read VmRSS again.
   Figure: (RSS after - RSS before) / connections, in KiB.
3. Reference: the same with a bare Twisted server (a Protocol that does nothing, same
   reactor, started the same way) and plain idle connections.

VmRSS is read from /proc/PID/status; kernel socket buffers are not part of it.

    .venv/bin/python bench/idle_memory.py
    .venv/bin/python bench/idle_memory.py --connections 2000 --accounts 200
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

TARGET_KIB = 8.0

# The reference server: nothing but Twisted's default reactor, a listening port and a
# Protocol that ignores its bytes.
BARE_SERVER = """\
import resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
from twisted.internet import reactor
from twisted.internet.protocol import Protocol, ServerFactory
class Idle(Protocol):
    pass
reactor.listenTCP(int(sys.argv[1]), ServerFactory.forProtocol(Idle), interface="127.0.0.1")
reactor.run()
"""


def stable_rss(pid, readings=5, pause=0.4):
    """Median of a few VmRSS readings (KiB), to step over a passing allocation."""
    values = []
    for _ in range(readings):
        values.append(common.rss_kib(pid))
        time.sleep(pause)
    return int(statistics.median(values))


async def open_many(port, count, concurrency, login, accounts, first=0):
    async def one(k):
        if login:
            return await common.open_session(port, f"idle{k % accounts}")
        return await common.connect(port)
    return await common.bounded((one(first + k) for k in range(count)), concurrency)


async def measure(server, label, connections, concurrency, settle, login, accounts, warmup):
    pid = server.pid
    loop_sleep = asyncio.sleep
    if login:
        await common.register_accounts(server.port, [f"idle{i}" for i in range(accounts)], 8)
    warm = await open_many(server.port, warmup, concurrency, login, accounts)
    if login:
        for c in warm:  # (not `users`: with thousands of accounts its reply outgrows a frame)
            await c.request("rooms")
            await c.request("ping")
    await loop_sleep(2)
    before = await asyncio.to_thread(stable_rss, pid)
    cpu0, own0 = common.cpu_seconds(pid), common.own_cpu_seconds()
    t0 = time.monotonic()
    conns = await open_many(server.port, connections, concurrency, login, accounts, first=warmup)
    open_s = time.monotonic() - t0
    own1 = common.own_cpu_seconds()
    await loop_sleep(settle)
    after = await asyncio.to_thread(stable_rss, pid)
    cpu1 = common.cpu_seconds(pid)
    closed_by_server = sum(1 for c in conns + warm if c.lost.done())
    for c in conns:
        c.close()
    await loop_sleep(settle)
    after_close = await asyncio.to_thread(stable_rss, pid)
    for c in warm:
        c.close()
    return {
        "server": label, "connections": len(conns), "logged_in": login,
        "accounts": accounts if login else None, "warmup_connections": warmup,
        "rss_before_kib": before, "rss_after_kib": after, "rss_after_close_kib": after_close,
        "kib_per_connection": round((after - before) / connections, 2),
        "open_s": round(open_s, 1), "server_cpu_open_s": round(cpu1 - cpu0, 2),
        "client_cpu_open_s": round(own1 - own0, 2),
        "closed_by_server": closed_by_server,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--accounts", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20, help="connections opened before the baseline")
    ap.add_argument("--concurrency", type=int, default=32, help="connects/logins in flight")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds to wait before reading RSS")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare Twisted reference")
    ap.add_argument("--data-dir", type=Path)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--slow-hash", action="store_true", help="do not pass cheap-argon2 options")
    ap.add_argument("--server-arg", action="append", default=[])
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    common.raise_nofile()

    extra = ([] if args.slow_hash else common.fast_hash_args()) + args.server_arg
    data_dir = args.data_dir or common.temp_data_dir("bench-idle-")
    rows = []
    try:
        with common.ServerProcess.chat(data_dir, extra=extra) as server:
            server.start()
            print(f"chat server pid {server.pid} port {server.port} args {extra}", file=sys.stderr)
            rows.append(asyncio.run(measure(server, "chat server (logged in)", args.connections,
                                            args.concurrency, args.settle, True, args.accounts,
                                            args.warmup)))
            print(json.dumps(rows[-1]), file=sys.stderr)
        if not args.no_bare:
            port = common.free_port()
            with common.ServerProcess(["-c", BARE_SERVER, str(port)], port,
                                      data_dir / "bare.log") as bare:
                bare.start(hello=False)
                rows.append(asyncio.run(measure(bare, "bare Twisted Protocol", args.connections,
                                                args.concurrency, args.settle, False, 0,
                                                args.warmup)))
                print(json.dumps(rows[-1]), file=sys.stderr)
    finally:
        if not args.data_dir and not args.keep:
            common.remove_dir(data_dir)
    print(f"{'server':<26} {'conns':>6} {'RSS before':>10} {'RSS after':>10} {'KiB/conn':>9} "
          f"{'after close':>11} {'open s':>6}")
    for r in rows:
        print(f"{r['server']:<26} {r['connections']:>6} {r['rss_before_kib']:>10} "
              f"{r['rss_after_kib']:>10} {r['kib_per_connection']:>9} "
              f"{r['rss_after_close_kib']:>11} {r['open_s']:>6}")
    print(f"target: < {TARGET_KIB} KiB per idle logged-in connection")
    if args.json:
        common.write_json(args.json, {"machine": common.machine_info(), "server_args": extra,
                                      "target_kib": TARGET_KIB, "results": rows})


if __name__ == "__main__":
    main()
