"""Shared by the Python benchmark scripts: run cases alternately, print medians."""
import statistics
import time


def alternate(cases, runs, title):
    """Runs every case of `cases` (name -> function) once per round, `runs`
    rounds, prints the median wall time of each and returns them (seconds)."""
    res = {k: [] for k in cases}
    for _ in range(runs):
        for k, f in cases.items():
            t0 = time.perf_counter()
            f()
            res[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in res.items()}
    print(f"{title}, {runs} alternating runs, median wall time:")
    for k, v in med.items():
        print(f"  {k:30} {v * 1000:9.2f} ms")
    return med
