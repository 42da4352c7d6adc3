"""Old tree vs new tree, alternately, with bench/fanout.py: did a change make fan-out slower?

The machine is shared and noisy, so two trees are never compared from runs made at different
times: this runs ``bench/fanout.py`` of tree A, then of tree B, then A again ... (``--rounds``
of each, interleaved), each run with its own fresh server started from that tree, and reports
per tree the median and range of deliveries/s, p99 latency, and server CPU per delivery
(server CPU seconds over the measured phase / deliveries, in microseconds).

Both trees run under this interpreter (the project's venv): the server process starts with its
tree as working directory, so that tree's ``chat`` package and twistd plugin are the ones
imported (checked before the first run: ``python -c`` in that directory, as the server is
started, must import that tree's ``chat/server/tap.py``).

    git worktree add /tmp/old-tree ca9aa4f
    .venv/bin/python bench/fanout_ab.py --old /tmp/old-tree --new . --rounds 3
    .venv/bin/python bench/fanout_ab.py --old /tmp/old-tree --new . --scenario latency

Anything after ``--`` goes to bench/fanout.py as it is.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def check_imports_from(tree: Path) -> None:
    found = subprocess.run([sys.executable, "-c", "import chat.server.tap as t; print(t.__file__)"],
                           cwd=tree, capture_output=True, text=True, check=True).stdout.strip()
    if Path(found).resolve() != tree / "chat" / "server" / "tap.py":
        raise SystemExit(f"a server started in {tree} would run {found}")


def run_once(tree: Path, scenario: str, extra: list) -> dict:
    with tempfile.TemporaryDirectory(prefix="fanout-ab-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, str(tree / "bench" / "fanout.py"), "--scenario", scenario,
               "--json", str(out), *extra]
        done = subprocess.run(cmd, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{tree}: fanout.py failed\n{done.stderr[-3000:]}")
        [result] = json.loads(out.read_text())["results"]
        return result


def summary(results: list) -> dict:
    rate = [r["deliveries_per_s"] for r in results]
    p99 = [r["latency_ms"]["p99"] for r in results]
    cpu_us = [r["server_cpu_s"] / r["delivered"] * 1e6 for r in results]
    lost = sum(r["lost"] + r["duplicates"] for r in results)
    med = statistics.median
    return {"runs": len(results), "deliveries_per_s": med(rate), "rate_range": [min(rate), max(rate)],
            "p99_ms": med(p99), "p99_range": [min(p99), max(p99)],
            "server_cpu_us_per_delivery": round(med(cpu_us), 3),
            "cpu_range": [round(min(cpu_us), 3), round(max(cpu_us), 3)], "lost_or_dup": lost,
            "each": [(r["deliveries_per_s"], r["latency_ms"]["p99"],
                      round(r["server_cpu_s"] / r["delivered"] * 1e6, 3)) for r in results]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the tree before the change")
    ap.add_argument("--new", type=Path, default=Path("."), help="the tree after it")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each tree (default 3)")
    ap.add_argument("--scenario", default="throughput", choices=["throughput", "latency"])
    ap.add_argument("--json", type=Path, help="write both trees' results here")
    ap.add_argument("fanout_args", nargs="*", help="after --: passed to bench/fanout.py")
    args = ap.parse_args(argv)
    trees = {"old": args.old.resolve(), "new": args.new.resolve()}
    for tree in trees.values():
        check_imports_from(tree)
    results = {name: [] for name in trees}
    for round_no in range(args.rounds):
        # alternate which tree goes first, so neither always runs on a warmer machine
        order = ["old", "new"] if round_no % 2 == 0 else ["new", "old"]
        for name in order:
            r = run_once(trees[name], args.scenario, args.fanout_args)
            results[name].append(r)
            print(f"round {round_no + 1} {name}: {r['deliveries_per_s']}/s p99 "
                  f"{r['latency_ms']['p99']} ms, server CPU {r['server_cpu_s']} s for "
                  f"{r['delivered']} deliveries", file=sys.stderr, flush=True)
    report = {name: summary(rs) for name, rs in results.items()}
    old, new = report["old"], report["new"]
    report["new_vs_old"] = {
        "deliveries_per_s": round(new["deliveries_per_s"] / old["deliveries_per_s"] - 1, 4),
        "p99_ms": round(new["p99_ms"] / old["p99_ms"] - 1, 4),
        "server_cpu_us_per_delivery": round(new["server_cpu_us_per_delivery"]
                                            / old["server_cpu_us_per_delivery"] - 1, 4)}
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"trees": {k: str(v) for k, v in trees.items()},
                                         "scenario": args.scenario, "report": report,
                                         "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
