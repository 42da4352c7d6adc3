"""File transfer through the server, next to a raw loopback copy of the same bytes.

    .venv/bin/python bench/files.py [--size-mib 1024] [--runs 1]

1. Writes a file of random bytes (default 1 GiB) in a temporary directory.
2. **Raw reference**, in the same run: the same bytes over a loopback TCP connection between
   two processes, (a) into nothing and (b) into a file with an fsync at the end (what the
   server does with an upload). The copy into nothing is measured again after the transfers
   (the shared machine's speed drifts within a minute); transfers are compared with the mean
   time of the two.
3. Starts the real server (SQLite, `--max-file-size` above the file) and a latency probe: a
   separate process with two logged-in users, one sending a message to #lobby every 20 ms, the
   other timing its arrival.
4. Uploads the file with the client core (`ChatClient.send_file`; its SHA-256 is computed
   first and timed apart), then downloads it (`ChatClient.download`, checked against its
   SHA-256 before it counts as received). MB/s is size / time from the first byte to the
   acknowledgement (upload) or to the verified file (download).
5. Reports the server's RSS before and its peak during each transfer (VmRSS polled every
   20 ms), and the probe's chat latency (p50/p99) when idle, during the upload and during the
   download.

Targets (issue "File transfer"): upload and download each >= 40 % of the raw loopback copy;
server RSS growth < 64 MiB; chat latency during a transfer within a few ms of idle.
Also reported: a 4 KiB write + fdatasync every 20 ms in the data directory (what a commit
costs on this disk during each phase, apart from the server), and two ceilings: the SHA-256
of the file in one stream (no transfer that verifies every byte beats it), and both ends' CPU
time spread over the cores without a gap (what this code would reach with perfect overlap).
Results go to bench/results/files-<time>.json as well.
"""

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import HOST, PASSWORD, ServerProcess, percentile, rss_kib  # noqa: E402

MiB = 1 << 20
PROBE_INTERVAL = 0.02


# -- the file ---------------------------------------------------------------------------------

def make_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 8 * MiB))
            digest.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()


# -- raw loopback reference ------------------------------------------------------------------

def _raw_receiver(port_pipe, out_path, size, chunk):
    srv = socket.socket()
    srv.bind((HOST, 0))
    srv.listen(1)
    port_pipe.send(srv.getsockname()[1])
    conn, _ = srv.accept()
    buf = bytearray(chunk)
    view = memoryview(buf)
    got = 0
    f = open(out_path, "wb") if out_path else None
    while got < size:
        n = conn.recv_into(view)
        if not n:
            break
        if f:
            f.write(view[:n])
        got += n
    if f:
        f.flush()
        os.fsync(f.fileno())
        f.close()
    conn.sendall(b"k")
    conn.close()


def raw_copy(path: Path, size: int, to_file: Path = None, chunk: int = 256 * 1024) -> float:
    """Seconds to copy the file's bytes to another process over loopback TCP."""
    parent, child = multiprocessing.Pipe()
    proc = multiprocessing.Process(target=_raw_receiver, args=(child, to_file, size, chunk))
    proc.start()
    port = parent.recv()
    with socket.create_connection((HOST, port)) as s, open(path, "rb") as f:
        start = time.perf_counter()
        while True:
            data = f.read(chunk)
            if not data:
                break
            s.sendall(data)
        s.recv(1)
        elapsed = time.perf_counter() - start
    proc.join()
    if to_file:
        os.remove(to_file)
    return elapsed


# -- latency probe (its own process) ----------------------------------------------------------

def _probe(port, stop_event, result_pipe):
    async def run():
        sender = await common.open_session(port, "probe-send", register=True)
        receiver = await common.open_session(port, "probe-recv", register=True)
        samples = []
        decoder = common.FrameDecoder()
        loop = asyncio.get_running_loop()

        def received(data):
            now = time.time()
            for payload in decoder.feed(data):
                if payload.startswith(b'{"type":"message"'):
                    obj = common.decode_object(payload)
                    text = obj["msg"].get("text", "")
                    if text.startswith("probe "):
                        sent = float(text.split()[1])
                        samples.append((sent, (now - sent) * 1000))
        receiver.fast = received
        n = 0
        while not stop_event.is_set():
            n += 1
            sender.send({"type": "send", "id": f"p{n}", "to": "#lobby",
                         "text": f"probe {time.time():.6f}", "cid": f"probe-{os.getpid()}-{n}"})
            await asyncio.sleep(PROBE_INTERVAL)
        await asyncio.sleep(0.5)
        result_pipe.send(samples)
        loop.stop()
    asyncio.run(run())


def _sync_probe(directory, stop_event, result_pipe):
    """What a commit costs on this disk, apart from the server: 4 KiB written and
    ``fdatasync``-ed every PROBE_INTERVAL in the server's data directory (the database's
    commit is one such write and sync)."""
    path = os.path.join(directory, "sync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    samples, n = [], 0
    block = b"x" * 4096
    while not stop_event.is_set():
        start = time.time()
        os.pwrite(fd, block, (n % 16) * 4096)
        os.fdatasync(fd)
        samples.append((start, (time.time() - start) * 1000))
        n += 1
        time.sleep(PROBE_INTERVAL)
    os.close(fd)
    os.remove(path)
    result_pipe.send(samples)


def by_phase(samples, marks):
    """:func:`latency` of ``samples`` when idle, during the upload and during the download."""
    return {"idle": latency(samples, *marks["idle"]),
            "during_upload": latency(samples, *marks["upload"]),
            "during_download": latency(samples, *marks["download"])}


def latency(samples, start, end):
    values = sorted(lat for sent, lat in samples if start <= sent < end)
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_ms": round(percentile(values, 50), 2),
            "p99_ms": round(percentile(values, 99), 2), "max_ms": round(values[-1], 2)}


# -- transfers through the server (Twisted, in this process) ---------------------------------

def transfers(port, path, size, sha, download_dir, server_pid, chunk):
    from twisted.internet import defer, endpoints, reactor, task

    from chat.client.core import ChatClient
    from chat.client.listener import ClientListener
    from chat.client.transfers import TransferState

    marks = {}

    cpu = {}

    class Marks(ClientListener):
        def on_transfer(self, t):
            key = f"{t.direction}_{t.state.value}"
            if key not in marks:
                marks[key] = time.time()
                # CPU seconds of the server and of this client (all threads) at each mark
                cpu[key] = (common.cpu_seconds(server_pid), common.own_cpu_seconds(),
                            common.cpu_times(server_pid), common.own_cpu_times())

    peak = {"rss": 0}

    def poll_rss():
        peak["rss"] = max(peak["rss"], rss_kib(server_pid))

    @defer.inlineCallbacks
    def main(_reactor):
        ep = endpoints.TCP4ClientEndpoint(reactor, HOST, port)
        client = ChatClient(ep.connect, reactor, Marks(), client_name="bench-files")
        client.files.chunk = chunk
        yield client.login("bench-files", PASSWORD, register=True)
        yield task.deferLater(reactor, 3.0, lambda: None)     # idle phase for the probe
        out = {"idle": (time.time() - 3.0, time.time())}
        poller = task.LoopingCall(poll_rss)
        before = rss_kib(server_pid)
        peak["rss"] = before
        poller.start(0.02)
        up = client.send_file("#lobby", str(path))
        yield up.finished
        assert up.state is TransferState.DONE, up.error
        done_up = time.time()
        out["upload"] = (marks["up_sending"], done_up)
        out["hashing"] = (marks["up_hashing"], marks["up_sending"])
        out["rss_upload"] = (before, peak["rss"])
        yield task.deferLater(reactor, 1.0, lambda: None)
        before = rss_kib(server_pid)
        peak["rss"] = before
        start = time.time()
        down = client.download(up.file_id, str(download_dir))
        yield down.finished
        assert down.state is TransferState.DONE, down.error
        out["download"] = (start, time.time())
        cpu["down_end"] = (common.cpu_seconds(server_pid), common.own_cpu_seconds(),
                           common.cpu_times(server_pid), common.own_cpu_times())

        def spent(start, end):
            a, b = cpu[start], cpu[end]
            return {"server": round(b[0] - a[0], 2), "client": round(b[1] - a[1], 2),
                    "server_user_sys": [round(b[2][i] - a[2][i], 2) for i in (0, 1)],
                    "client_user_sys": [round(b[3][i] - a[3][i], 2) for i in (0, 1)]}
        out["cpu"] = {"upload": spent("up_sending", "up_done"),
                      "download": spent("down_waiting", "down_end")}
        out["rss_download"] = (before, peak["rss"])
        poller.stop()
        out["downloaded_sha_ok"] = down.sha256 == sha
        os.remove(down.path)
        client.close()
        results.update(out)

    results = {}
    failures = []

    def run(r):
        d = main(r)
        d.addErrback(lambda f: failures.append(f.getTraceback()))
        return d
    try:
        task.react(run, [])
    except SystemExit:
        pass
    if failures:
        raise RuntimeError(failures[0])
    return results


def run_transfers_process(port, path, size, sha, download_dir, server_pid, pipe, nice, chunk):
    import traceback
    os.nice(nice)
    try:
        pipe.send(transfers(port, path, size, sha, download_dir, server_pid, chunk))
    except BaseException:
        pipe.send({"error": traceback.format_exc()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--server-args", default="",
                        help="more server options, e.g. --server-args=--lite")
    parser.add_argument("--chunk-kib", type=int, default=256,
                        help="data per body frame of the upload (the server sends 256 KiB)")
    parser.add_argument("--spy", metavar="FILE",
                        help="sample the server with py-spy during the transfers into FILE")
    parser.add_argument("--spy-client", metavar="FILE",
                        help="sample the transfer client with py-spy into FILE")
    parser.add_argument("--client-nice", type=int, default=0,
                        help="run the file client at this nice level (a stand-in for another "
                             "machine: on 2 cores it competes with the server otherwise)")
    parser.add_argument("--timeline", metavar="FILE",
                        help="write every probe message's send time and latency, with the "
                             "phases' times, to FILE (JSON)")
    args = parser.parse_args()
    size = args.size_mib * MiB
    tmp = Path(tempfile.mkdtemp(prefix="bench-files-", dir=os.environ.get("BENCH_TMP")))
    try:
        path = tmp / "payload.bin"
        print(f"writing {args.size_mib} MiB of random bytes to {path} ...", flush=True)
        sha = make_file(path, size)
        raw_mem = raw_copy(path, size)
        raw_disk = raw_copy(path, size, to_file=tmp / "raw-copy.bin")
        print(f"raw loopback copy: {size / raw_mem / 1e6:.0f} MB/s into memory, "
              f"{size / raw_disk / 1e6:.0f} MB/s into a file (fsync)", flush=True)
        data_dir = tmp / "server"
        server = ServerProcess.chat(data_dir, extra=common.fast_hash_args() + [
            "--max-file-size", str(size + MiB), "--quota", str(4 * size + MiB)]
            + args.server_args.split())
        server.start()
        try:
            stop = multiprocessing.Event()
            probe_parent, probe_child = multiprocessing.Pipe()
            probe = multiprocessing.Process(target=_probe, args=(server.port, stop, probe_child))
            probe.start()
            sync_parent, sync_child = multiprocessing.Pipe()
            sync_probe = multiprocessing.Process(target=_sync_probe,
                                                 args=(str(data_dir), stop, sync_child))
            sync_probe.start()
            time.sleep(1.0)
            parent, child = multiprocessing.Pipe()
            worker = multiprocessing.Process(target=run_transfers_process, args=(
                server.port, path, size, sha, tmp / "downloads", server.pid, child,
                args.client_nice, args.chunk_kib * 1024))
            spies = []
            worker.start()
            for pid, out in ((server.pid, args.spy), (worker.pid, args.spy_client)):
                if out:
                    spies.append(common.PySpy(pid, out))
                    spies[-1].start()
            marks = parent.recv()
            for spy in spies:
                spy.stop()
            worker.join()
            if "error" in marks:
                stop.set()
                probe.join()
                sync_probe.join()
                raise RuntimeError("the transfers failed:\n" + marks["error"])
            stop.set()
            samples = probe_parent.recv()
            probe.join()
            syncs = sync_parent.recv()
            sync_probe.join()
        finally:
            server.stop()
        # the machine's speed drifts within a minute (shared cores): the reference is measured
        # again after the transfers, and each transfer compared with the mean of the two
        raw_mem_after = raw_copy(path, size)
        print(f"raw loopback copy after the transfers: {size / raw_mem_after / 1e6:.0f} MB/s "
              f"into memory", flush=True)
        raw_mem_mean = (raw_mem + raw_mem_after) / 2
        up_s = marks["upload"][1] - marks["upload"][0]
        down_s = marks["download"][1] - marks["download"][0]
        report = {
            "machine": common.machine_info(),
            "size_bytes": size,
            "upload_chunk_kib": args.chunk_kib,
            "raw_loopback_MBps": {"memory": round(size / raw_mem / 1e6),
                                  "memory_after": round(size / raw_mem_after / 1e6),
                                  "memory_mean": round(size / raw_mem_mean / 1e6),
                                  "file_fsync": round(size / raw_disk / 1e6)},
            "hashing_s": round(marks["hashing"][1] - marks["hashing"][0], 2),
            "upload": {"seconds": round(up_s, 2), "MBps": round(size / up_s / 1e6),
                       "of_raw_file_copy": round(raw_disk / up_s, 2),
                       "of_raw_memory_copy": round(raw_mem_mean / up_s, 2),
                       "server_rss_before_MiB": round(marks["rss_upload"][0] / 1024, 1),
                       "server_rss_peak_MiB": round(marks["rss_upload"][1] / 1024, 1)},
            "download": {"seconds": round(down_s, 2), "MBps": round(size / down_s / 1e6),
                         "of_raw_file_copy": round(raw_disk / down_s, 2),
                         "of_raw_memory_copy": round(raw_mem_mean / down_s, 2),
                         "server_rss_before_MiB": round(marks["rss_download"][0] / 1024, 1),
                         "server_rss_peak_MiB": round(marks["rss_download"][1] / 1024, 1),
                         "sha256_ok": marks["downloaded_sha_ok"]},
            "chat_latency": by_phase(samples, marks),
            "disk_sync_ms": by_phase(syncs, marks),
        }
        if args.timeline:
            # each probe message (sent at, ms) beside the phases: a pause shows when it came
            common.write_json(Path(args.timeline), {
                "phases": {k: marks[k] for k in ("idle", "hashing", "upload", "download")},
                "probe_samples": samples})
        out = Path(__file__).resolve().parent / "results"
        out.mkdir(exist_ok=True)
        stamp = time.strftime('%Y%m%d-%H%M%S')
        print(f"upload body frames of {args.chunk_kib} KiB")
        for key in ("upload", "download"):
            r = report[key]
            print(f"{key:8}: {r['MBps']:5} MB/s = {r['of_raw_file_copy']:.0%} of the raw copy "
                  f"into a file, {r['of_raw_memory_copy']:.0%} of the raw copy into memory "
                  f"(mean of before and after); "
                  f"server RSS {r['server_rss_before_MiB']} -> {r['server_rss_peak_MiB']} MiB")
        print(f"hashing before the upload: {report['hashing_s']} s")
        report["cpu_seconds_server_client"] = marks["cpu"]
        for key in ("upload", "download"):
            c = marks["cpu"][key]
            print(f"CPU seconds {key:8}: server {c['server']} (user, sys {c['server_user_sys']}), "
                  f"client {c['client']} (user, sys {c['client_user_sys']})")
        for phase, lat in report["chat_latency"].items():
            print(f"chat latency {phase:16}: {lat}")
        for phase, lat in report["disk_sync_ms"].items():
            print(f"4 KiB write + fdatasync {phase:16}: {lat}")
        # the receiver's SHA-256 is one sequential stream, whatever the code around it; and
        # both ends' CPU time shares the machine's cores
        hash_MBps = size / (marks["hashing"][1] - marks["hashing"][0]) / 1e6
        raw_MBps = size / raw_mem_mean / 1e6
        cores = os.cpu_count() or 1
        report["ceilings_MBps"] = {"sha256_one_stream": round(hash_MBps)}
        print(f"ceiling: SHA-256 of the file in one stream {hash_MBps:.0f} MB/s = "
              f"{hash_MBps / raw_MBps:.0%} of the raw copy into memory")
        for key in ("upload", "download"):
            c = marks["cpu"][key]
            cpu_MBps = size / ((c["server"] + c["client"]) / cores) / 1e6
            report["ceilings_MBps"][f"{key}_cpu_on_{cores}_cores"] = round(cpu_MBps)
            print(f"ceiling: {key} CPU time ({c['server'] + c['client']:.2f} s) spread over "
                  f"{cores} cores without a gap {cpu_MBps:.0f} MB/s = "
                  f"{cpu_MBps / raw_MBps:.0%} of the raw copy into memory")
        common.write_json(out / f"files-{stamp}.json", report)
    finally:
        common.remove_dir(tmp)


if __name__ == "__main__":
    main()
