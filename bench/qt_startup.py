"""Start-up of the desktop client: from starting the process to a visible login window.

Each run starts a fresh process of the real program (the ``chat-qt`` entry point,
``chat.qtclient.main:main``, with argv ``chat-qt --settings FILE``; the settings file has a
language saved, as after a first start, so the login window is what comes up) on Qt's
``offscreen`` platform (``--platform xcb`` under ``xvfb-run`` works too). The clock starts
just before the process is spawned and stops when the login window has been painted for the
first time (seen by an application-wide event filter on the program's QApplication: the
child hands main() a subclass that installs it; the program is not changed). PyQt6 itself is
imported by the child before main() runs, which both trees pay alike. The child then reports the time and its
own CPU time (user + system, ``getrusage``) at that moment, waits until the reactor and the
session (the client core) are loaded too (a login could go out: "client core loaded at"),
and exits.

Several trees can be compared in one run: ``--tree NAME=PATH`` (repeatable) or ``--rev NAME=REV``
(a commit exported with ``git archive`` into a temporary folder). Runs alternate between the
trees (A B A B ...), so that the machine's noise (2 shared cores) hits all of them alike.
Median, min and max of the wall time and the median CPU time are printed per tree.

    python bench/qt_startup.py                      # this tree, 15 runs
    python bench/qt_startup.py --rev old=HEAD~3 --tree new=. --runs 15
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The child: python -c CHILD REPORT_FILE; sys.path[0] is the tree under test (cwd).
CHILD = r"""
import os, resource, sys, time
report = sys.argv[1]
sys.argv = ["chat-qt", "--settings", os.environ["BENCH_SETTINGS"]]

painted = []

def done(kind):
    if painted:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    painted.append("%r %r %r" % (time.monotonic(), usage.ru_utime, usage.ru_stime))
    ready(kind)

def ready(kind):
    # then until a login can go out: the reactor and the session (the client core) loaded
    if "twisted.internet.reactor" in sys.modules and "chat.qtclient.session" in sys.modules:
        with open(report, "w") as f:
            f.write("%s %r %s\n" % (painted[0], time.monotonic(), kind))
        os._exit(0)
    from PyQt6.QtCore import QTimer
    QTimer.singleShot(5, lambda: ready(kind))

from PyQt6 import QtWidgets
from PyQt6.QtCore import QEvent, QObject


class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and type(obj).__name__ == "LoginWindow":
            done(obj.windowTitle())
        return False


class WatchedApplication(QtWidgets.QApplication):
    def __init__(self, *args):
        super().__init__(*args)
        self._bench_watch = Watch()
        self.installEventFilter(self._bench_watch)


QtWidgets.QApplication = WatchedApplication      # what main() makes

import chat
assert os.path.dirname(os.path.dirname(os.path.abspath(chat.__file__))) == os.getcwd(), chat.__file__
from chat.qtclient.main import main
main()
"""


def export_rev(rev: str, into: str) -> str:
    """The tree of commit ``rev`` in a new folder under ``into``."""
    path = tempfile.mkdtemp(prefix="tree-", dir=into)
    archive = subprocess.run(["git", "-C", REPO, "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", path], input=archive, check=True)
    return path


def one_run(tree: str, work: str, platform: str, timeout: float) -> dict:
    report = os.path.join(work, "report.txt")
    if os.path.exists(report):
        os.remove(report)
    home = tempfile.mkdtemp(prefix="home-", dir=work)
    settings = os.path.join(home, "chat-qt.ini")
    with open(settings, "w") as f:
        f.write("[General]\nlanguage=en\n")
    env = dict(os.environ)
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"), BENCH_SETTINGS=settings,
               QT_QPA_PLATFORM=platform, PYTHONPATH=tree)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, report], cwd=tree, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise SystemExit(f"no login window within {timeout} s in {tree}:\n{err.decode()}")
    shutil.rmtree(home, ignore_errors=True)
    if not os.path.exists(report):
        raise SystemExit(f"the child of {tree} reported nothing:\n{err.decode()}")
    with open(report) as f:
        shown, utime, stime, loaded, title = f.read().split(" ", 4)
    return {"wall": float(shown) - start, "cpu": float(utime) + float(stime),
            "ready": float(loaded) - start, "title": title.strip()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--rev", action="append", default=[], metavar="NAME=REV")
    parser.add_argument("--runs", type=int, default=15, help="runs per tree")
    parser.add_argument("--platform", default="offscreen", help="QT_QPA_PLATFORM")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="qt-startup-")
    try:
        trees = []
        for spec in args.rev:
            name, _, rev = spec.partition("=")
            commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", rev],
                                    check=True, capture_output=True, text=True).stdout.strip()
            trees.append((f"{name} ({commit})", export_rev(rev, work)))
        for spec in args.tree:
            name, _, path = spec.partition("=")
            trees.append((name, os.path.abspath(path)))
        if not trees:
            trees.append(("this tree", REPO))
        for _, path in trees:             # a first run each: the page cache warmed alike
            one_run(path, work, args.platform, args.timeout)
        results = {name: [] for name, _ in trees}
        for i in range(args.runs):
            for name, path in trees:
                results[name].append(one_run(path, work, args.platform, args.timeout))
        summary = {}
        print(f"start to a painted login window, {args.runs} runs per tree, alternating, "
              f"QT_QPA_PLATFORM={args.platform}")
        for name, runs in results.items():
            wall = [r["wall"] for r in runs]
            cpu = [r["cpu"] for r in runs]
            ready = [r["ready"] for r in runs]
            summary[name] = {"median_s": statistics.median(wall), "min_s": min(wall),
                             "max_s": max(wall), "median_cpu_s": statistics.median(cpu),
                             "median_ready_s": statistics.median(ready), "runs": wall}
            print(f"  {name:24s} median {statistics.median(wall):.3f} s "
                  f"(min {min(wall):.3f}, max {max(wall):.3f}); CPU median "
                  f"{statistics.median(cpu):.3f} s; client core loaded at "
                  f"{statistics.median(ready):.3f} s; window {runs[0]['title']!r}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(summary, f, indent=1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
