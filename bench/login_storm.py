"""Login storm benchmark: does a storm of logins slow other users' messages?

The rule under test: "a login storm must not slow other users' messages". Passwords are
argon2id hashes computed in the reactor's thread pool, at most (cores - 1) at once
(chat/server/passwords.py), so that the reactor keeps a core. This script starts the real
server WITH THE DEFAULT argon2 cost (the cost is the point here; no --hash-time/--hash-memory),
SQLite storage, a fresh temporary data dir and a free 127.0.0.1 port, and then:

* set-up (not measured): registers 20 chatter accounts (``lschat0``..) and K storm accounts
  (``lsstorm0``.., ``--accounts``, default 50) with a few registrations in flight, and logs
  the 20 chatters in; both take time because every one of them is an argon2 hash;
* phase A (``--duration`` s, default 5): chatters only. 20 logged-in connections, 4 of them
  senders that each send one message to ``#lobby`` every 50 ms (paced, one in flight: the next
  send goes 50 ms after the previous one or when its ``ok`` arrives, whichever is later);
  all 20 receive every message;
* phase B (same length): the chatters go on, and in parallel a storm of logins:
  ``--storm`` connections (default 100), each repeatedly connect, ``hello``, ``login`` (every
  other attempt with a wrong password, so half are ``bad_credentials``), ``logout`` if it
  worked, close, and again, with at most ``--concurrency`` logins in flight (default 100). No
  new login is started after the phase; logins still queued in the server are waited for
  (``--drain`` s at most, default 60) only to know their reply latency.

Reported per phase: chat latency (send to receipt on every one of the 20 connections, the
send time in CLOCK_MONOTONIC ns travels in the message text like in fanout.py) p50/p90/p99/max,
the senders' ack latency, messages lost (must be 0) and duplicated, server CPU (user/sys, and
how much of it was the reactor thread, i.e. the main thread, versus the other threads:
argon2 and SQLite), and the CPU of the load generators. For the storm: logins attempted and
answered per second, their reply latency (they queue: expected), outcomes.

The phase B / phase A comparison within one run is the figure (the machine is noisy).

Processes: the parent starts the server, registers the accounts, and reads the server's CPU
at the phase boundaries; the chatters live in one process (asyncio for the set-up, then a
plain epoll loop over the raw sockets, like fanout.py), the storm in another (asyncio,
:class:`common.ChatClient`). Every loop is bounded in time.

``--hash-concurrency N`` is an EXPERIMENT KNOB, not a server option: it patches the server
process (before twistd runs) so that ``chat.server.passwords.PasswordHasher`` defaults to N
hashes at once instead of max(1, cores - 1), to see whether the limit matters.

    .venv/bin/python bench/login_storm.py
    .venv/bin/python bench/login_storm.py --json out.json
    .venv/bin/python bench/login_storm.py --hash-concurrency 2    # all cores of this machine
    .venv/bin/python bench/login_storm.py --storm 200 --concurrency 50 --duration 10
"""

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import re
import select
import struct
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import control_frame  # noqa: E402

CHATTERS = 20
SENDERS = 4
PACE_S = 0.050
WRONG_PASSWORD = "wrong-password-1"

MSG_RE = re.compile(rb'"text":"L(\d+):(\d+):(\d+)"')
LENGTH = struct.Struct(">I")
MESSAGE_PREFIX = b'{"type":"message"'
OK_PREFIX = b'{"type":"ok"'
ERROR_PREFIX = b'{"type":"error"'
PING_PREFIX = b'{"type":"ping"'
PONG = control_frame({"type": "pong"})


def chatter_name(i: int) -> str:
    return f"lschat{i}"


def storm_name(i: int) -> str:
    return f"lsstorm{i}"


def ms(ns):
    return None if ns is None else round(ns / 1e6, 3)


def summary_ms(sorted_ns) -> dict:
    p = common.percentile
    return {"n": len(sorted_ns), "p50": ms(p(sorted_ns, 50)), "p90": ms(p(sorted_ns, 90)),
            "p99": ms(p(sorted_ns, 99)), "max": ms(sorted_ns[-1] if sorted_ns else None)}


def phase_of(t_ns, bounds_ns):
    """'A' or 'B' for a time in [t_a, t_b) or [t_b, t_end); None outside."""
    t_a, t_b, t_end = bounds_ns
    if t_a <= t_ns < t_b:
        return "A"
    if t_b <= t_ns < t_end:
        return "B"
    return None


async def recv_pipe(pipe, timeout):
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = pipe.fileno()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await asyncio.wait_for(ready, timeout)
    finally:
        loop.remove_reader(fd)
    return pipe.recv()


# -- chatters (one process) --------------------------------------------------------------------

class Sender:
    """One message to #lobby every PACE_S, one in flight."""

    def __init__(self, conn, index, tag):
        self.conn, self.index, self.tag = conn, index, tag
        self.rid = 1_000_000
        self.inflight = None        # (rid, seq, send ns)
        self.next_due = 0.0
        self.seq = 0
        self.sent = []              # send ns per seq
        self.acks = []              # (send ns, ack ns)
        self.errors = collections.Counter()

    def send(self):
        self.rid += 1
        seq = self.seq
        self.seq += 1
        ts = time.monotonic_ns()
        self.next_due = ts / 1e9 + PACE_S
        self.inflight = (self.rid, seq, ts)
        self.sent.append(ts)
        self.conn.write(control_frame({
            "type": "send", "id": self.rid, "to": "#lobby",
            "text": f"L{self.index}:{seq}:{ts}", "cid": f"{self.tag}-{self.index}-{seq}"}))

    def reply(self, obj, now_ns):
        if self.inflight is None or obj.get("id") != self.inflight[0]:
            return
        _rid, _seq, ts = self.inflight
        self.inflight = None
        if obj.get("type") == "ok":
            self.acks.append((ts, now_ns))
        else:
            self.errors[obj.get("code")] += 1


class Conn:
    """One chatter connection during the measured phases (a raw non-blocking socket)."""

    def __init__(self, client):
        if client.messages:
            raise RuntimeError("a message reached the asyncio client before the measured phase")
        client.transport.pause_reading()
        self.sock = client.transport.get_extra_info("socket").dup()
        self.sock.setblocking(False)
        self.fd = self.sock.fileno()
        self.buf = bytearray(client.take_buffer())
        self.sender = None
        self.seen = set()
        self.log = []              # (receive ns, sender, seq, send ns)
        self.dups = 0
        self.closed = False

    def write(self, frame):
        if self.sock.send(frame) != len(frame):  # a few small frames: a full buffer is a bug
            raise RuntimeError("short send on a bench connection")

    def data(self, data, now_ns):
        buf = self.buf
        buf += data
        n, off, unpack = len(buf), 0, LENGTH.unpack_from
        new = 0
        while n - off >= 4:
            end = off + 4 + unpack(buf, off)[0]
            if end > n:
                break
            start = off + 4
            if buf.startswith(MESSAGE_PREFIX, start):
                m = MSG_RE.search(buf, start, end)
                if m:
                    key = (int(m[1]), int(m[2]))
                    if key in self.seen:
                        self.dups += 1
                    else:
                        self.seen.add(key)
                        self.log.append((now_ns, key[0], key[1], int(m[3])))
                        new += 1
            elif buf.startswith(OK_PREFIX, start) or buf.startswith(ERROR_PREFIX, start):
                if self.sender is not None:
                    self.sender.reply(json.loads(bytes(buf[start:end])), now_ns)
            elif buf.startswith(PING_PREFIX, start):
                obj = json.loads(bytes(buf[start:end]))
                if obj.get("id") is None:
                    self.write(PONG)
            off = end
        if off:
            del buf[:off]
        return new


def chat_loop(conns, senders, bounds, linger):
    """Send and receive from t_a to t_end (+ up to ``linger`` s for the last receipts)."""
    t_a, t_b, t_end = bounds
    marks = {}                      # boundary name -> own CPU (user, sys)
    pending_marks = [("A", t_a), ("B", t_b), ("end", t_end)]
    ep = select.epoll()
    by_fd = {}
    for c in conns:
        ep.register(c.fd, select.EPOLLIN)
        by_fd[c.fd] = c
    for k, s in enumerate(senders):  # spread the 4 senders over the 50 ms period
        s.next_due = t_a + k * PACE_S / len(senders)
    received = 0
    hard_stop = t_end + linger
    monotonic, monotonic_ns = time.monotonic, time.monotonic_ns
    try:
        while True:
            now = monotonic()
            while pending_marks and now >= pending_marks[0][1]:
                marks[pending_marks.pop(0)[0]] = common.own_cpu_times()
            if now >= hard_stop:
                break
            if now >= t_end:
                sent = sum(len(s.sent) for s in senders)
                if received >= sent * len(conns) and all(s.inflight is None for s in senders):
                    break
            timeout = 0.05
            if pending_marks:
                timeout = min(timeout, pending_marks[0][1] - now)
            if now >= t_a:
                for s in senders:
                    if s.inflight is None and s.next_due < t_end:
                        if now >= s.next_due:
                            s.send()
                        else:
                            timeout = min(timeout, s.next_due - now)
            timeout = max(0.0, min(timeout, hard_stop - now))
            for fd, _ev in ep.poll(timeout):
                c = by_fd[fd]
                data = common.recv_ready(c.sock)
                if data is None:
                    continue
                if not data:
                    ep.unregister(fd)
                    c.closed = True
                    continue
                received += c.data(data, monotonic_ns())
    finally:
        ep.close()
    marks["stop"] = common.own_cpu_times()
    return marks


def chat_results(conns, senders, bounds, marks):
    bounds_ns = tuple(int(t * 1e9) for t in bounds)
    out = {}
    lat = {"A": [], "B": []}
    steady = {"A": [], "B": []}     # sent from second 1 of the phase on
    seconds = max(1, int(round(bounds[1] - bounds[0])))
    by_second = {"A": [[] for _ in range(seconds)], "B": [[] for _ in range(seconds)]}
    for c in conns:
        for now_ns, _s, _q, ts in c.log:
            ph = phase_of(ts, bounds_ns)
            if ph:
                lat[ph].append(now_ns - ts)
                start = bounds_ns[0] if ph == "A" else bounds_ns[1]
                if ts - start >= 1_000_000_000:
                    steady[ph].append(now_ns - ts)
                by_second[ph][min(seconds - 1, (ts - start) // 1_000_000_000)].append(now_ns - ts)
    received = collections.Counter()   # (sender, seq) -> connections that got it
    for c in conns:
        received.update(c.seen)
    for ph in ("A", "B"):
        sent = [(s.index, q) for s in senders for q, ts in enumerate(s.sent)
                if phase_of(ts, bounds_ns) == ph]
        acks = sorted(a - t for s in senders for t, a in s.acks if phase_of(t, bounds_ns) == ph)
        expected = len(sent) * len(conns)
        got = sum(min(received[k], len(conns)) for k in sent)
        cpu0 = marks.get(ph)
        cpu1 = marks.get("B" if ph == "A" else "end")
        out[ph] = {
            "messages_sent": len(sent),
            "expected_receipts": expected,
            "received": got,
            "lost": expected - got,
            "latency_ms": summary_ms(sorted(lat[ph])),
            # by send time: second 0 of phase B is when the storm's connections all arrive
            "latency_ms_by_second": [summary_ms(sorted(x)) for x in by_second[ph]],
            "latency_ms_from_second_1": summary_ms(sorted(steady[ph])),
            "ack_ms": summary_ms(acks),
            "cpu_user_sys_s": [round(cpu1[0] - cpu0[0], 3), round(cpu1[1] - cpu0[1], 3)]
            if cpu0 and cpu1 else None,
        }
    out["duplicates"] = sum(c.dups for c in conns)
    out["send_errors"] = dict(sum((s.errors for s in senders), collections.Counter()))
    out["unacked"] = sum(1 for s in senders if s.inflight is not None)
    out["disconnected"] = sum(1 for c in conns if c.closed)
    return out


async def chat_main_async(cfg, pipe):
    port = cfg["port"]
    t0 = time.monotonic()
    clients = await common.bounded(
        (common.open_session(port, chatter_name(i)) for i in range(CHATTERS)), 4)
    login_s = time.monotonic() - t0
    for c in clients:  # every byte from now on must reach the raw loop
        c.transport.pause_reading()
    pipe.send(("ready", {"login_s": round(login_s, 2)}))
    what, bounds = await recv_pipe(pipe, 600)
    if what != "go":
        return
    conns = [Conn(c) for c in clients]
    senders = []
    for k in range(SENDERS):
        conns[k].sender = Sender(conns[k], k, cfg["tag"])
        senders.append(conns[k].sender)
    marks = chat_loop(conns, senders, bounds, cfg["linger"])
    pipe.send(("result", chat_results(conns, senders, bounds, marks)))
    for c in conns:
        c.sock.close()
    for c in clients:
        c.close()
    await asyncio.sleep(0.1)


def chat_main(cfg, pipe):
    common.raise_nofile()
    try:
        asyncio.run(chat_main_async(cfg, pipe))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))


# -- storm (another process) -------------------------------------------------------------------

async def storm_main_async(cfg, pipe):
    port, accounts = cfg["port"], cfg["accounts"]
    pipe.send(("ready", {}))
    what, bounds = await recv_pipe(pipe, 600)
    if what != "go":
        return
    _t_a, t_b, t_end = bounds
    drain_end = t_end + cfg["drain"]
    marks = {}

    def mark_end():  # our CPU at the end of phase B (logins may still be draining after it)
        marks["end"] = common.own_cpu_times()

    asyncio.get_running_loop().call_later(max(0.0, t_end - time.monotonic()), mark_end)
    await asyncio.sleep(max(0.0, t_b - time.monotonic()))
    cpu_b = common.own_cpu_times()
    sem = asyncio.Semaphore(cfg["concurrency"])
    records = []                     # (send ns, reply ns or None, right password, outcome)
    failures = collections.Counter()

    async def runner(i):
        attempt = 0
        while time.monotonic() < t_end:
            c = None
            try:
                c = await asyncio.wait_for(common.connect(port, retries=1),
                                           max(0.1, t_end - time.monotonic()))
                await c.request("hello", timeout=max(0.1, t_end + 5 - time.monotonic()),
                                version=1, client="chat-bench-storm/0.1")
            except (OSError, asyncio.TimeoutError, ConnectionError, common.RequestError) as e:
                failures[f"connect/hello: {type(e).__name__}"] += 1
                if c is not None:
                    c.close()
                await asyncio.sleep(0.05)
                continue
            outcome = None
            async with sem:
                if time.monotonic() < t_end:
                    right = (i + attempt) % 2 == 0
                    attempt += 1
                    t_send = time.monotonic_ns()
                    reply_ns = None
                    try:
                        await c.request("login", timeout=max(0.1, drain_end - time.monotonic()),
                                        username=storm_name(i % accounts),
                                        password=common.PASSWORD if right else WRONG_PASSWORD)
                        outcome = "ok"
                        reply_ns = time.monotonic_ns()
                    except common.RequestError as e:
                        outcome = e.code
                        reply_ns = time.monotonic_ns()
                    except asyncio.TimeoutError:
                        outcome = "unanswered"
                    except ConnectionError:
                        outcome = "connection_lost"
                    records.append((t_send, reply_ns, right, outcome))
            if outcome == "ok" and time.monotonic() < t_end:
                try:
                    await c.request("logout", timeout=5)
                except (asyncio.TimeoutError, ConnectionError, common.RequestError) as e:
                    failures[f"logout: {type(e).__name__}"] += 1
            c.close()

    tasks = [asyncio.ensure_future(runner(i)) for i in range(cfg["storm"])]
    done, pending = set(), set()
    if tasks:  # --storm 0: phase B is a second baseline
        done, pending = await asyncio.wait(tasks,
                                           timeout=max(1.0, drain_end + 5 - time.monotonic()))
    else:
        await asyncio.sleep(max(0.0, t_end - time.monotonic()))
    for t in pending:
        t.cancel()
    for t in done:
        if t.exception() is not None:
            failures[f"task: {t.exception()!r}"] += 1
    t_done = time.monotonic()
    cpu_done = common.own_cpu_times()
    pipe.send(("result", storm_results(records, failures, bounds, cpu_b, marks.get("end"),
                                       cpu_done, t_done)))


def storm_main(cfg, pipe):
    common.raise_nofile()
    try:
        asyncio.run(storm_main_async(cfg, pipe))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))


def storm_results(records, failures, bounds, cpu_b, cpu_end, cpu_done, t_done):
    _t_a, t_b, t_end = bounds
    t_b_ns, t_end_ns = int(t_b * 1e9), int(t_end * 1e9)
    duration = t_end - t_b
    answered = [r for r in records if r[1] is not None]
    in_phase = [r for r in answered if r[1] < t_end_ns]
    per_second = [0] * max(1, int(round(duration)))
    for r in in_phase:
        k = min(len(per_second) - 1, max(0, int((r[1] - t_b_ns) / 1e9)))
        per_second[k] += 1
    wrong_outcome = sum(1 for s, a, right, o in answered
                        if o != ("ok" if right else "bad_credentials"))
    cpu_end = cpu_end or cpu_done
    return {
        "attempted": len(records),
        "attempted_per_s": round(len(records) / duration, 1),
        "answered_in_phase": len(in_phase),
        "answered_in_phase_per_s": round(len(in_phase) / duration, 1),
        "answered_per_second_of_phase": per_second,
        "answered_after_phase": len(answered) - len(in_phase),
        "unanswered": len(records) - len(answered),
        "drain_s": round(max(0.0, t_done - t_end), 2),
        "outcomes": dict(collections.Counter(r[3] for r in records)),
        "right_password": sum(1 for r in records if r[2]),
        "unexpected_outcome": wrong_outcome,
        "latency_ms_all_answered": summary_ms(sorted(a - s for s, a, _r, _o in answered)),
        "latency_ms_answered_in_phase": summary_ms(sorted(a - s for s, a, _r, _o in in_phase)),
        "failures": dict(failures),
        "cpu_user_sys_s_phase_b": [round(cpu_end[0] - cpu_b[0], 3),
                                   round(cpu_end[1] - cpu_b[1], 3)],
        "cpu_user_sys_s_drain": [round(cpu_done[0] - cpu_end[0], 3),
                                 round(cpu_done[1] - cpu_end[1], 3)],
    }


# -- parent ------------------------------------------------------------------------------------


def server_cpu(pid):
    """(total user, total sys, reactor-thread user, reactor-thread sys) of the server."""
    total = common.cpu_times(pid)
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    main = int(fields[11]) / common.CLK_TCK, int(fields[12]) / common.CLK_TCK
    return (*total, *main)


def cpu_delta(a, b):
    d = [round(y - x, 2) for x, y in zip(a, b)]
    return {"user_sys_s": d[0:2], "total_s": round(d[0] + d[1], 2),
            "reactor_thread_user_sys_s": d[2:4], "reactor_thread_s": round(d[2] + d[3], 2),
            "other_threads_s": round(d[0] + d[1] - d[2] - d[3], 2)}


def sleep_until(t):
    left = t - time.monotonic()
    if left > 0:
        time.sleep(left)


def hash_patch(n: int) -> str:
    """Python run in the server process before twistd: PasswordHasher's concurrency default
    becomes ``n`` (tap.py passes only time and memory cost, so the default applies)."""
    return f"""\
import sys
import chat.server.passwords as _p
_f = _p.PasswordHasher.__init__
_names = _f.__code__.co_varnames[1:_f.__code__.co_argcount]
_d = list(_f.__defaults__)
_d[_names.index("concurrency") - (len(_names) - len(_d))] = {int(n)}
_f.__defaults__ = tuple(_d)
print("login_storm: PasswordHasher defaults patched:", dict(zip(_names[-len(_d):], _d)),
      file=sys.stderr, flush=True)
"""


def run(args):
    common.raise_nofile()
    data_dir = args.data_dir or common.temp_data_dir("bench-login-storm-")
    extra = list(args.server_arg)
    result = {"machine": common.machine_info(), "server_args": extra,
              "loadavg_before": open("/proc/loadavg").read().split()[:3],
              "hash_concurrency": args.hash_concurrency or
              f"server default: max(1, cores - 1) = {max(1, (os.cpu_count() or 2) - 1)}",
              "chatters": CHATTERS, "senders": SENDERS, "pace_ms": PACE_S * 1000,
              "storm_connections": args.storm, "storm_accounts": args.accounts,
              "login_concurrency": args.concurrency, "duration_s": args.duration}
    try:
        with common.ServerProcess.chat(data_dir, extra=extra) as server:
            if args.hash_concurrency:
                assert server.argv[0] == "-c"
                server.argv[1] = hash_patch(args.hash_concurrency) + server.argv[1]
            t = time.monotonic()
            server.start()
            result["server_start_s"] = round(time.monotonic() - t, 2)
            if args.hash_concurrency:
                if "PasswordHasher defaults patched" not in server.log_path.read_text():
                    raise RuntimeError("the hash-concurrency patch did not run:\n" + server.tail())
            print(f"server pid {server.pid} port {server.port} data {data_dir} args {extra} "
                  f"hash concurrency {result['hash_concurrency']}", file=sys.stderr)

            names = [chatter_name(i) for i in range(CHATTERS)] + \
                    [storm_name(i) for i in range(args.accounts)]
            t = time.monotonic()
            asyncio.run(common.register_accounts(server.port, names, args.register_concurrency))
            result["register_s"] = round(time.monotonic() - t, 2)
            result["registered"] = len(names)
            print(f"registered {len(names)} accounts in {result['register_s']} s", file=sys.stderr)

            cfg = dict(port=server.port, accounts=args.accounts, storm=args.storm,
                       concurrency=args.concurrency, drain=args.drain, linger=args.linger,
                       tag=f"ls{int(time.time() * 1000) % 10**9}")
            ctx = multiprocessing.get_context("fork")
            pipes, procs = {}, []
            for name, target in (("chat", chat_main), ("storm", storm_main)):
                parent_end, child_end = ctx.Pipe()
                p = ctx.Process(target=target, args=(cfg, child_end), daemon=True)
                p.start()
                pipes[name] = parent_end
                procs.append(p)
            try:
                ready = common.collect(pipes, "ready", 300)
                result["chatter_login_s"] = ready["chat"]["login_s"]
                time.sleep(1.0)  # let the presence events of the chatters' logins drain
                t_a = time.monotonic() + 0.3
                bounds = (t_a, t_a + args.duration, t_a + 2 * args.duration)
                for p in pipes.values():
                    p.send(("go", bounds))
                cpu = {}
                for name, t in zip(("A", "B", "end"), bounds):
                    sleep_until(t)
                    cpu[name] = server_cpu(server.pid)
                chat = common.collect({"chat": pipes["chat"]}, "result", args.linger + 60)["chat"]
                storm = common.collect({"storm": pipes["storm"]}, "result", args.drain + 60)["storm"]
                cpu["drained"] = server_cpu(server.pid)
                result["server_rss_kib_after"] = common.rss_kib(server.pid)
            finally:
                for p in procs:
                    p.join(30)
                    if p.is_alive():
                        p.terminate()
                        p.join()
    finally:
        if not args.data_dir and not args.keep:
            common.remove_dir(data_dir)

    result["phases"] = {}
    for ph, (c0, c1) in {"A": ("A", "B"), "B": ("B", "end")}.items():
        r = dict(chat[ph])
        r["generator_chat_cpu_user_sys_s"] = r.pop("cpu_user_sys_s")
        r["generator_storm_cpu_user_sys_s"] = (storm["cpu_user_sys_s_phase_b"] if ph == "B"
                                               else [0.0, 0.0])
        r["server_cpu"] = cpu_delta(cpu[c0], cpu[c1])
        result["phases"][ph] = r
    result["chat_duplicates"] = chat["duplicates"]
    result["chat_send_errors"] = chat["send_errors"]
    result["chat_unacked"] = chat["unacked"]
    result["chat_disconnected"] = chat["disconnected"]
    result["storm"] = storm
    result["server_cpu_drain"] = cpu_delta(cpu["end"], cpu["drained"])
    a, b = result["phases"]["A"]["latency_ms"], result["phases"]["B"]["latency_ms"]
    ratio = lambda a, b: {k: (round(b[k] / a[k], 2) if a[k] and b[k] is not None else None)  # noqa: E731
                          for k in ("p50", "p90", "p99", "max")}
    result["b_over_a"] = ratio(a, b)
    result["b_over_a_from_second_1"] = ratio(result["phases"]["A"]["latency_ms_from_second_1"],
                                             result["phases"]["B"]["latency_ms_from_second_1"])
    return result


def print_report(r):
    print(f"hash concurrency: {r['hash_concurrency']}; registered {r['registered']} accounts in "
          f"{r['register_s']} s; 20 chatters logged in in {r['chatter_login_s']} s")
    head = ["phase", "msgs", "p50 ms", "p90 ms", "p99 ms", "max ms", "ack p50", "ack p99",
            "lost", "srv CPU s (u/s)", "reactor thr s", "gen CPU s chat+storm"]
    rows = [head]
    for ph, x in r["phases"].items():
        lat, ack, sc = x["latency_ms"], x["ack_ms"], x["server_cpu"]
        gen = sum(x["generator_chat_cpu_user_sys_s"]) + sum(x["generator_storm_cpu_user_sys_s"])
        rows.append([ph, x["messages_sent"], lat["p50"], lat["p90"], lat["p99"], lat["max"],
                     ack["p50"], ack["p99"], x["lost"],
                     f"{sc['total_s']} ({sc['user_sys_s'][0]}/{sc['user_sys_s'][1]})",
                     sc["reactor_thread_s"],
                     f"{sum(x['generator_chat_cpu_user_sys_s']):.2f}+"
                     f"{sum(x['generator_storm_cpu_user_sys_s']):.2f}={gen:.2f}"])
    rows = [[str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    for row in rows:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths)))
    for ph, x in r["phases"].items():
        print(f"phase {ph} by second (p50/p99/max ms): " + ", ".join(
            f"{v['p50']}/{v['p99']}/{v['max']}" for v in x["latency_ms_by_second"]))
    sa, sb = (r["phases"][p]["latency_ms_from_second_1"] for p in ("A", "B"))
    print(f"from second 1 of each phase on (the storm's arrival burst left out): "
          f"A p50/p90/p99/max {sa['p50']}/{sa['p90']}/{sa['p99']}/{sa['max']}, "
          f"B {sb['p50']}/{sb['p90']}/{sb['p99']}/{sb['max']}")
    print(f"B/A latency: {r['b_over_a']}; duplicates {r['chat_duplicates']}, send errors "
          f"{r['chat_send_errors']}, unacked {r['chat_unacked']}")
    s = r["storm"]
    print(f"storm: {s['attempted']} logins attempted ({s['attempted_per_s']}/s), "
          f"{s['answered_in_phase']} answered in the phase ({s['answered_in_phase_per_s']}/s, "
          f"per second {s['answered_per_second_of_phase']}), {s['answered_after_phase']} after it "
          f"(drain {s['drain_s']} s), {s['unanswered']} unanswered; outcomes {s['outcomes']}, "
          f"unexpected {s['unexpected_outcome']}, failures {s['failures']}")
    la, lp = s["latency_ms_all_answered"], s["latency_ms_answered_in_phase"]
    print(f"login latency ms, all answered: p50 {la['p50']} p99 {la['p99']} max {la['max']}; "
          f"answered within the phase: p50 {lp['p50']} p99 {lp['p99']}")
    d = r["server_cpu_drain"]
    print(f"server CPU while the queued logins drained: {d['total_s']} s "
          f"(reactor thread {d['reactor_thread_s']})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=5.0, help="length of each phase, s (5)")
    ap.add_argument("--storm", type=int, default=100, help="storm connections (100)")
    ap.add_argument("--concurrency", type=int, default=100,
                    help="storm logins in flight at most (100)")
    ap.add_argument("--accounts", type=int, default=50, help="storm accounts K (50)")
    ap.add_argument("--register-concurrency", type=int, default=4,
                    help="registrations in flight during the set-up (4)")
    ap.add_argument("--drain", type=float, default=60.0,
                    help="after phase B, wait at most this long for logins still queued (60)")
    ap.add_argument("--linger", type=float, default=3.0,
                    help="after phase B, wait at most this long for the last chat receipts (3)")
    ap.add_argument("--hash-concurrency", type=int, default=0,
                    help="EXPERIMENT KNOB: patch the server process so that at most N argon2 "
                         "hashes run at once (default: the server's own max(1, cores - 1))")
    ap.add_argument("--data-dir", type=Path, help="server data dir (default: a fresh temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the temp data dir")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra twistd chatserver argument")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.storm < 0 or args.concurrency < 1 or args.accounts < 1:
        ap.error("--duration must be > 0, --concurrency and --accounts >= 1")
    r = run(args)
    print(json.dumps(r, default=str), file=sys.stderr)
    print_report(r)
    if args.json:
        common.write_json(args.json, r)


if __name__ == "__main__":
    main()
