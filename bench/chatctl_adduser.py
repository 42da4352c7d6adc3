"""How long ``chatctl adduser`` takes, the way scripts make accounts: the password on stdin,
against a running server (through its control socket) and on a stopped server's data dir.

    .venv/bin/python bench/chatctl_adduser.py [--n 20] [--hash-time 3 --hash-memory 65536]

Starts ``twistd -n chatserver`` on a fresh data directory, runs ``chatctl adduser`` N times
one after the other, then stops the server and runs N more on the stopped data directory.
Reports, per call, the wall time (median and max) and the CPU seconds of the chatctl
process (its own user + system time, from ``resource.getrusage(RUSAGE_CHILDREN)``) and, for
the running server, the server's CPU seconds per account (argon2 hashing is most of it).
"""

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHATCTL = [sys.executable, "-m", "chat.ctl"]
TWISTD = [sys.executable, "-c", "import sys; from twisted.scripts.twistd import run; "
          "sys.argv[0] = 'twistd'; sys.exit(run())"]


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_many(data_dir: str, prefix: str, n: int, env) -> tuple[list, float]:
    walls = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for i in range(n):
        start = time.monotonic()
        done = subprocess.run(CHATCTL + ["--data-dir", data_dir, "adduser", f"{prefix}{i}"],
                              input=f"bench-password-{i}\n".encode(), capture_output=True,
                              env=env)
        walls.append(time.monotonic() - start)
        if done.returncode != 0:
            raise SystemExit(f"chatctl failed: {done.stderr.decode()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return walls, cpu / n


def report(what: str, walls: list, cpu: float) -> None:
    print(f"{what}: wall median {statistics.median(walls) * 1000:.0f} ms, max "
          f"{max(walls) * 1000:.0f} ms; chatctl CPU {cpu * 1000:.0f} ms per call")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--hash-time", default="3")
    parser.add_argument("--hash-memory", default="65536")
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=ROOT)
    tmp = tempfile.mkdtemp(prefix="chatctl-bench-")
    data = os.path.join(tmp, "data")
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            TWISTD + ["-n", "--pidfile=", "--logfile=" + os.path.join(tmp, "server.log"),
                      "chatserver", "--port", f"tcp:{port}:interface=127.0.0.1",
                      "--data-dir", data, "--hash-time", args.hash_time,
                      "--hash-memory", args.hash_memory], env=env, cwd=tmp)
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(data, "control.sock")):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.05)
        server_before = proc_cpu(server.pid)
        walls, cpu = run_many(data, "run", args.n, env)
        server_cpu = (proc_cpu(server.pid) - server_before) / args.n
        report(f"running server (argon2 t={args.hash_time}, m={args.hash_memory} KiB)",
               walls, cpu)
        print(f"  server CPU {server_cpu * 1000:.0f} ms per account")
        server.terminate()
        server.wait(30)
        walls, cpu = run_many(data, "off", args.n, env)
        report("stopped server (hashing in chatctl, default argon2 cost)", walls, cpu)
    finally:
        shutil.rmtree(tmp, True)


if __name__ == "__main__":
    main()
