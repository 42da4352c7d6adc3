"""Soak: the real server under hostile connections while real users chat.

    .venv/bin/python bench/soak.py [--seconds 60] [--connections 200] [--users 4]

1. Starts the real server (``twistd -n chatserver``, SQLite, on 127.0.0.1 only) with cheap
   password hashing and, if the server has the option, a per-address connection limit raised
   above what this script opens (everything comes from 127.0.0.1). The other limits (the
   unauthenticated login deadline, the slow-reader drop, malformed-frame abuse, rate limits)
   stay at their defaults: a refused or dropped hostile connection is expected and counted.
2. ``--users`` real users (the asyncio client of bench/common.py, which speaks the protocol
   correctly) send messages to ``#lobby`` one at a time, each waiting for its ``ok``; a
   ``rate_limited`` answer is retried after ``retry_after`` and a lost connection reconnects
   and resends with the same ``cid`` (as the client core does).
3. Meanwhile ``--connections`` hostile connections at a time, each replaced when it ends, do
   one of: random frames (valid length prefix, random bytes or random JSON), half-finished
   frames left hanging, huge length prefixes, slowloris (a ``hello`` frame trickled 1 byte per
   second), malformed-frame floods (until ``bye abuse``), reconnect churn (connect, hello,
   log in, close), and requests sent without ever reading the replies.
4. Afterwards: the server still answers (a fresh account registers, logs in and has a message
   acknowledged), its RSS is back near its start (start/peak/end MiB, VmRSS polled every
   0.2 s), and no real user lost a message: every message sent was acknowledged, and every
   acknowledged one is in ``#lobby``'s history exactly once, with its ``msg_id``.

Prints a summary, writes bench/results/soak-<time>.json (or ``--json FILE``) and exits 1 if a
check failed.
"""

import argparse
import asyncio
import json
import os
import random
import struct
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import HOST, PASSWORD, RequestError, ServerProcess, rss_kib  # noqa: E402

from chat.protocol.framing import FrameDecoder, FrameTooLarge, encode_frame  # noqa: E402

MiB = 1024
"""KiB per MiB (rss_kib reads KiB)."""

BEHAVIOURS = ("random_frames", "half_frame", "huge_prefix", "slowloris", "abuse", "churn",
              "no_read")
TYPES = ("hello", "login", "register", "send", "history", "sync", "users", "rooms", "join",
         "leave", "ping", "upload", "download", "set_avatar", "cancel", "message", "bogus")


# -- hostile connections -----------------------------------------------------------------------

class Hostile(asyncio.Protocol):
    """A connection that reads (and counts) whatever comes back and notes the server's bye."""

    def __init__(self, stats: Counter):
        self.stats = stats
        self.transport = None
        self.decoder = FrameDecoder(10 ** 7)
        self.closed = asyncio.get_running_loop().create_future()
        self.goodbye = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.stats["bytes_received"] += len(data)
        try:
            frames = self.decoder.feed(data)
        except FrameTooLarge:
            return
        for payload in frames:
            if payload[:1] != b"{":
                continue
            try:
                obj = json.loads(bytes(payload))
            except ValueError:
                self.stats["bad_frames_from_server"] += 1
                continue
            if obj.get("type") == "bye":
                self.goodbye = f"bye:{obj.get('code')}"
            elif obj.get("type") == "error" and obj.get("id") is None and self.goodbye is None:
                self.goodbye = f"error:{obj.get('code')}"

    def connection_lost(self, exc):
        if not self.closed.done():
            self.closed.set_result(exc)

    def write(self, data: bytes) -> bool:
        if self.transport.is_closing():
            return False
        self.transport.write(data)
        return True


def _frame(obj) -> bytes:
    return common.control_frame(obj)


def _random_json(rng: random.Random, depth: int = 0):
    choice = rng.randrange(8 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False])
    if choice == 2:
        return rng.choice([0, -1, 2 ** 53, 2 ** 64, rng.randrange(-10 ** 6, 10 ** 6)])
    if choice == 3:
        return rng.random() * 10 ** rng.randrange(-5, 20)
    if choice == 4:
        return "".join(rng.choice("ab#@ü张😀\\\"\x00 ") for _ in range(rng.randrange(40)))
    if choice == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(["type", "id", "to", "text", "cid", "conv", "room", "body", "file",
                        "username", "password", "x"]): _random_json(rng, depth + 1)
            for _ in range(rng.randrange(6))}


def random_frame(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:        # a request-like object with random fields
        obj = _random_json(rng)
        obj = obj if isinstance(obj, dict) else {}
        obj["type"] = rng.choice(TYPES)
        obj["id"] = rng.choice([rng.randrange(10 ** 6), "s", None, [1]])
        payload = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    elif kind == 1:      # any JSON value
        payload = json.dumps(_random_json(rng)).encode()
    elif kind == 2:      # random bytes, sometimes tagged as a body frame
        payload = bytes([rng.choice([0x01, 0x7B, rng.randrange(256)])]) + os.urandom(
            rng.randrange(64))
    else:                # invalid JSON starting like an object
        payload = b"{" + os.urandom(rng.randrange(64))
    return struct.pack(">I", len(payload)) + payload


async def hostile_once(port: int, rng: random.Random, stats: Counter, until: float,
                       behaviours=BEHAVIOURS):
    """Open one hostile connection and run one behaviour on it; returns when it is over."""
    behaviour = rng.choice(behaviours)
    loop = asyncio.get_running_loop()
    try:
        _, conn = await asyncio.wait_for(
            loop.create_connection(lambda: Hostile(stats), HOST, port), 10)
    except (OSError, asyncio.TimeoutError):
        stats["connect_failed"] += 1
        await asyncio.sleep(0.1)
        return
    stats["opened"] += 1
    stats[f"opened_{behaviour}"] += 1
    hello = _frame({"type": "hello", "id": 1, "version": 1, "client": "soak-hostile"})

    async def hold(seconds: float):
        """Wait until the server closes the connection or ``seconds`` (or the run) are over."""
        left = min(seconds, until - loop.time())
        if left > 0:
            await asyncio.wait({conn.closed}, timeout=left)

    try:
        if behaviour == "random_frames":
            if rng.random() < 0.5:
                conn.write(hello)
            for _ in range(rng.randrange(1, 30)):
                if not conn.write(random_frame(rng)):
                    break
                await asyncio.sleep(rng.random() * 0.05)
            await hold(rng.random() * 2)
        elif behaviour == "half_frame":
            conn.write(hello)
            length = rng.randrange(100, 65_536)
            conn.write(struct.pack(">I", length) + b"{" * rng.randrange(0, length // 2))
            await hold(rng.uniform(1, 5))
        elif behaviour == "huge_prefix":
            conn.write(struct.pack(">I", rng.randrange(300_000, 2 ** 32)) + os.urandom(100))
            await hold(2)
        elif behaviour == "slowloris":
            for byte in hello:
                if not conn.write(bytes([byte])) or loop.time() >= until:
                    break
                await asyncio.sleep(1.0)
            await hold(40)
        elif behaviour == "abuse":
            conn.write(hello)
            for _ in range(25):
                if not conn.write(encode_frame(b"{not json")):
                    break
            await hold(3)
        elif behaviour == "churn":
            conn.write(hello)
            conn.write(_frame({"type": "login", "id": 2, "username": "churn",
                               "password": PASSWORD}))
            await hold(rng.random() * 0.3)
        elif behaviour == "no_read":
            conn.transport.pause_reading()
            conn.write(hello)
            big = b"".join(_frame({"type": "rooms", "id": i + 2}) for i in range(200))
            for _ in range(rng.randrange(5, 50)):
                if not conn.write(big):
                    break
                await asyncio.sleep(0.05)
            await hold(rng.uniform(2, 8))
    finally:
        if conn.closed.done():
            stats["closed_by_server"] += 1
            stats[f"goodbye_{conn.goodbye or 'none'}"] += 1
        else:
            conn.transport.abort()
            stats["closed_by_us"] += 1


async def hostile_slot(port: int, seed: int, stats: Counter, until: float, behaviours):
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    while loop.time() < until:
        await hostile_once(port, rng, stats, until, behaviours)


# -- real users ------------------------------------------------------------------------------

class Chatter:
    """A real user: sends numbered messages one at a time and waits for each ``ok``."""

    def __init__(self, port: int, name: str, pace: float, prefix: str = ""):
        self.port, self.name, self.pace, self.prefix = port, name, pace, prefix
        self.client = None
        self.sent = []              # cids, in order
        self.acked = {}             # cid -> msg_id
        self.duplicates = 0         # oks with duplicate: true (a resend after a lost link)
        self.reconnects = 0
        self.rate_limited = 0
        self.latencies = []

    async def connect(self):
        while True:
            try:
                self.client = await common.open_session(self.port, self.name)
                return
            except (OSError, RequestError, ConnectionError, asyncio.TimeoutError):
                self.reconnects += 1
                await asyncio.sleep(0.5)

    async def send(self, cid: str):
        while True:
            try:
                start = time.perf_counter()
                data = await self.client.request("send", timeout=30, to="#lobby",
                                                 text=f"soak {self.name} {cid}", cid=cid)
                self.latencies.append((time.perf_counter() - start) * 1000)
                if data.get("duplicate"):
                    self.duplicates += 1
                self.acked[cid] = data["msg_id"]
                return
            except RequestError as error:
                if error.code != "rate_limited":
                    raise
                self.rate_limited += 1
                await asyncio.sleep(float(error.reply.get("retry_after") or 0.2))
            except (ConnectionError, OSError, asyncio.TimeoutError):
                self.client.close()
                self.reconnects += 1
                await self.connect()          # then the same cid again

    async def run(self, until: float):
        await self.connect()
        loop = asyncio.get_running_loop()
        seq = 0
        while loop.time() < until:
            seq += 1
            cid = f"{self.prefix}{self.name}-{seq}"
            self.sent.append(cid)
            await self.send(cid)
            await asyncio.sleep(self.pace)
        self.client.close()


# -- checks ----------------------------------------------------------------------------------

async def lobby_history(port: int, name: str) -> list:
    """Every message of #lobby, oldest first (paging forward with ``after``)."""
    client = await common.open_session(port, name)
    messages, after = [], 0
    while True:
        data = await client.request("history", conv="#lobby", after=after, limit=200)
        messages += data["messages"]
        if not data["more"] or not data["messages"]:
            break
        after = data["messages"][-1]["id"]
    client.close()
    return messages


async def fresh_login(port: int, name: str) -> dict:
    start = time.perf_counter()
    client = await common.open_session(port, name, register=True)
    data = await client.request("send", to="#lobby", text="after the soak", cid="fresh-1")
    client.close()
    return {"ok": True, "msg_id": data["msg_id"],
            "seconds": round(time.perf_counter() - start, 3)}


def check_users(chatters, history) -> dict:
    seen = Counter((m["from"], m.get("cid")) for m in history)
    ids = {(m["from"], m.get("cid")): m["id"] for m in history}
    sent = sum(len(c.sent) for c in chatters)
    acked = sum(len(c.acked) for c in chatters)
    unacked = [cid for c in chatters for cid in c.sent if cid not in c.acked]
    missing = [cid for c in chatters for cid in c.acked if seen[(c.name, cid)] == 0]
    doubled = [cid for c in chatters for cid in c.acked if seen[(c.name, cid)] > 1]
    wrong_id = [cid for c in chatters for cid, msg_id in c.acked.items()
                if seen[(c.name, cid)] == 1 and ids[(c.name, cid)] != msg_id]
    latencies = sorted(x for c in chatters for x in c.latencies)
    return {
        "sent": sent, "acked": acked, "unacked": len(unacked), "lost": len(missing),
        "duplicated": len(doubled), "wrong_id": len(wrong_id),
        "resent_duplicates": sum(c.duplicates for c in chatters),
        "reconnects": sum(c.reconnects for c in chatters),
        "rate_limited": sum(c.rate_limited for c in chatters),
        "ack_ms_p50": round(common.percentile(latencies, 50) or 0, 2),
        "ack_ms_p99": round(common.percentile(latencies, 99) or 0, 2),
        "ack_ms_max": round(latencies[-1], 2) if latencies else None,
        "examples": {"unacked": unacked[:5], "lost": missing[:5], "duplicated": doubled[:5]},
    }


# -- the run ---------------------------------------------------------------------------------

class RssSampler:
    def __init__(self, pid: int):
        self.pid = pid
        self.peak = 0
        self.task = None

    def read(self) -> int:
        value = rss_kib(self.pid)
        self.peak = max(self.peak, value)
        return value

    async def _loop(self):
        while True:
            self.read()
            await asyncio.sleep(0.2)

    def start(self):
        self.task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self):
        self.task.cancel()


async def soak(server: ServerProcess, args) -> dict:
    port = server.port
    names = [f"soaker{i}" for i in range(args.users)]
    await common.register_accounts(port, names + ["churn", "checker"], concurrency=4)
    rss = RssSampler(server.pid)
    loop = asyncio.get_running_loop()
    # a first round of traffic, so that "start" includes what any chat server holds
    warm = [Chatter(port, name, 0, prefix="warm-") for name in names]
    await asyncio.gather(*(c.run(loop.time() + 1.0) for c in warm))
    await asyncio.sleep(1.0)
    start_kib = rss.read()
    rss.peak = start_kib
    rss.start()

    began = loop.time()
    until = began + args.seconds
    stats = Counter()
    chatters = [Chatter(port, name, args.pace) for name in names]
    seeds = random.Random(args.seed)
    hostile = [loop.create_task(hostile_slot(port, seeds.randrange(2 ** 32), stats, until,
                                                 args.behaviours))
               for _ in range(args.connections)]
    await asyncio.gather(*(c.run(until) for c in chatters))
    # hostile connections end with the run (a slowloris or hanging frame is cut at ``until``)
    await asyncio.wait_for(asyncio.gather(*hostile), 60)
    hostile_seconds = loop.time() - began

    # give the server a moment to notice every close and settle
    settle_until = loop.time() + args.settle
    end_kib = rss.read()
    while loop.time() < settle_until:
        await asyncio.sleep(0.5)
        end_kib = rss.read()
        if end_kib <= start_kib + args.rss_slack_mib * MiB / 2:
            break
    rss.stop()

    fresh = {"ok": False}
    try:
        fresh = await asyncio.wait_for(fresh_login(port, "fresh"), 30)
    except Exception as error:           # reported as a failed check, not a crash
        fresh = {"ok": False, "error": repr(error)}
    history = await lobby_history(port, "checker")
    # the warm-up's messages are checked too (they were acked before the hostile phase)
    users = _merge_check(warm, chatters, history)
    checks = {
        "server_answers": fresh.get("ok", False),
        "rss_back_near_start": end_kib <= start_kib + args.rss_slack_mib * MiB,
        "every_sent_message_acked": users["unacked"] == 0 and users["sent"] > 0,
        "every_acked_message_stored_once": (users["lost"] == 0 and users["duplicated"] == 0
                                            and users["wrong_id"] == 0),
        "hostile_connections_opened": stats["opened"] > 0,
    }
    return {
        "seconds": args.seconds, "hostile_seconds": round(hostile_seconds, 2),
        "connections": args.connections, "users": args.users, "pace": args.pace,
        "behaviours": list(args.behaviours),
        "rss_mib": {"start": round(start_kib / MiB, 1), "peak": round(rss.peak / MiB, 1),
                    "end": round(end_kib / MiB, 1)},
        "hostile": dict(sorted(stats.items())),
        "messages": users, "fresh_login": fresh, "checks": checks,
        "passed": all(checks.values()),
    }


def _merge_check(warm, chatters, history) -> dict:
    """The warm-up and the soak use the same accounts (with cids of their own)."""
    merged = []
    for w, c in zip(warm, chatters):
        both = Chatter(c.port, c.name, c.pace)
        both.sent = w.sent + c.sent
        both.acked = {**w.acked, **c.acked}
        both.latencies = c.latencies
        both.duplicates = w.duplicates + c.duplicates
        both.reconnects = c.reconnects
        both.rate_limited = c.rate_limited
        merged.append(both)
    result = check_users(merged, history)
    result["warmup_sent"] = sum(len(w.sent) for w in warm)
    return result


def server_extra(args) -> list:
    options = common.server_options()
    extra = []
    for name, value in common.FAST_HASH_CANDIDATES.items():
        if name in options and not args.slow_hash:
            extra += [f"--{name}", value]
    # everything comes from 127.0.0.1: the per-address connection limit must allow the
    # hostile connections plus the users (the other limits stay on: they are under test)
    if "max-connections-per-address" in options:
        extra += ["--max-connections-per-address", str(2 * args.connections + 100)]
    return extra + args.server_args.split()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of the hostile phase [60]")
    parser.add_argument("--connections", type=int, default=200,
                        help="hostile connections open at a time [200]")
    parser.add_argument("--users", type=int, default=4, help="real users chatting [4]")
    parser.add_argument("--pace", type=float, default=0.15,
                        help="seconds a user waits between an ok and its next send [0.15]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--behaviours", type=lambda t: tuple(t.split(",")), default=BEHAVIOURS,
                        help=f"comma-separated hostile behaviours [{','.join(BEHAVIOURS)}]")
    parser.add_argument("--settle", type=float, default=15.0,
                        help="seconds at most to wait for the RSS to come back [15]")
    parser.add_argument("--rss-slack-mib", type=float, default=32.0,
                        help="end RSS may exceed the start by this much [32]")
    parser.add_argument("--server-args", default="", help="more options for the server")
    parser.add_argument("--slow-hash", action="store_true",
                        help="keep the server's default argon2 cost")
    parser.add_argument("--data-dir", help="server data directory [a fresh temporary one]")
    parser.add_argument("--json", metavar="FILE",
                        help="write the results here [bench/results/soak-<time>.json]")
    args = parser.parse_args(argv)

    common.raise_nofile()
    data_dir = Path(args.data_dir) if args.data_dir else common.temp_data_dir("chat-soak-")
    server = ServerProcess.chat(data_dir, extra=server_extra(args))
    try:
        server.start()
        results = asyncio.run(soak(server, args))
    finally:
        server.stop()
    results["server_exit"] = server.proc.returncode if server.proc else None
    results["command"] = " ".join(["bench/soak.py", *(argv if argv is not None
                                                       else sys.argv[1:])])
    results["machine"] = common.machine_info()
    results["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not args.data_dir:
        common.remove_dir(data_dir)

    out = Path(args.json) if args.json else (
        Path(__file__).resolve().parent / "results"
        / f"soak-{time.strftime('%Y%m%d-%H%M%S')}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    common.write_json(out, results)
    print_summary(results, out)
    return 0 if results["passed"] else 1


def print_summary(r: dict, out: Path) -> None:
    h, m, rss = r["hostile"], r["messages"], r["rss_mib"]
    kinds = ", ".join(f"{b} {h.get('opened_' + b, 0)}" for b in BEHAVIOURS)
    print(f"soak: {r['hostile_seconds']:.0f} s, {r['connections']} hostile connections at a "
          f"time, {r['users']} users")
    print(f"  hostile connections opened: {h.get('opened', 0)} "
          f"({kinds}); closed by "
          f"the server: {h.get('closed_by_server', 0)}; connect failures: "
          f"{h.get('connect_failed', 0)}")
    goodbyes = {k[8:]: v for k, v in h.items() if k.startswith("goodbye_")}
    print(f"  goodbyes: {goodbyes}")
    print(f"  server RSS MiB: start {rss['start']}, peak {rss['peak']}, end {rss['end']}")
    print(f"  messages: sent {m['sent']}, acked {m['acked']}, unacked {m['unacked']}, lost "
          f"{m['lost']}, duplicated {m['duplicated']}, wrong id {m['wrong_id']} (rate limited "
          f"{m['rate_limited']}x, reconnects {m['reconnects']}); ack p50 {m['ack_ms_p50']} ms, "
          f"p99 {m['ack_ms_p99']} ms")
    print(f"  fresh login after the soak: {r['fresh_login']}")
    print(f"  checks: {r['checks']} -> {'PASSED' if r['passed'] else 'FAILED'}")
    print(f"  results: {out}")


if __name__ == "__main__":
    sys.exit(main())
