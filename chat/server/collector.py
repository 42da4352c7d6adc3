"""Keeping Python's cyclic garbage collector out of chat latency.

A full collection walks every object the collector tracks, and a server that has just started
holds some 50,000 of them: modules, classes, functions, the loaded state. bench/files.py saw
one full collection on the reactor thread take 22-27 ms in the middle of a 1 GiB download (the
stream's objects had triggered it), and that was the download's chat p99: 29-36 ms against
7.4-8.8 ms once those objects were frozen (docs/BENCHMARKS.md, section 5).

What exists once the server is ready lives as long as the process, so it is moved out of the
collector's sight (``gc.freeze``): later collections walk only what was made since.
"""

import gc


def freeze_startup_objects(collector=gc) -> int:
    """Collect what start-up left behind, then exempt the survivors from every later
    collection; returns how many objects were frozen."""
    collector.collect()
    collector.freeze()
    return collector.get_freeze_count()
