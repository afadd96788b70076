"""Worker processes for the fleet stress tests, and the side log they keep.

A stress worker opens the pool itself and runs random operations for ``seconds``: reserve,
then commit / cancel / forfeit / abandon (let the lease lapse), sometimes settling by
id through a second handle. Before each commit it writes an intent line ``I id c``
to its side log, and after the store acknowledged it an ``A id c`` line (one
``os.write`` on an ``O_APPEND`` file each: a SIGKILL never leaves half a line).
After the run, an intent without an acknowledgement is resolved by asking the store
(a commit retried by id returns the outcome it had, or LeaseExpired if it never
applied), so the expected ``total_charged`` is exact whatever the kill points.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from pathlib import Path

import impl

LEASE = 1.0
"""Seconds: long enough for a settlement to arrive, short enough to wait out."""


def stress_worker(url: str, name: str, log: str, seed: int, seconds: float) -> None:
    rng = random.Random(seed)
    pool = impl.SharedPool.open(url, name)
    other = impl.SharedPool.open(url, name)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        r = rng.randint(1, 40)
        try:
            res = pool.reserve(r, lease=LEASE)
        except (impl.InsufficientBudget, impl.StoreUnavailable):
            continue
        if rng.random() < 0.3:
            time.sleep(rng.random() * 0.01)  # the LLM call
        how = rng.random()
        by = other if rng.random() < 0.3 else pool  # settled by id through another handle
        try:
            if how < 0.55:
                c = rng.randint(0, r)
                os.write(fd, f"I {res.id} {c}\n".encode())
                by.commit(res.id, c)
                os.write(fd, f"A {res.id} {c}\n".encode())
            elif how < 0.75:
                by.cancel(res.id)
            elif how < 0.9:
                by.forfeit(res.id)
            # else: abandoned; its lease forfeits it
        except (impl.LeaseExpired, impl.StoreUnavailable):
            pass  # a late settlement; a store slow past the timeout (safe to retry by id)
    os.close(fd)


def run_workers(url: str, name: str, logs: Path, n: int, seconds: float, kills: int,
                seed: int) -> list[int]:
    """Run ``n`` stress workers for ``seconds``, SIGKILL ``kills`` of them at random
    moments while they run; their exit codes."""
    rng = random.Random(seed)
    ctx = multiprocessing.get_context("fork")
    victims = set(rng.sample(range(n), kills))
    # a victim runs until it is killed, however late a loaded machine delivers the kill
    procs = [ctx.Process(target=stress_worker,
                         args=(url, name, str(logs / f"w{i}.log"), seed * 100 + i,
                               seconds * 30 if i in victims else seconds))
             for i in range(n)]
    for p in procs:
        p.start()
    t0 = time.monotonic()
    moments = sorted(rng.uniform(0.1, 0.8) * seconds for _ in range(kills))
    for i, at in zip(sorted(victims), moments, strict=True):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        pid = procs[i].pid
        if pid is not None:
            os.kill(pid, 9)
    for p in procs:
        p.join(timeout=120)
    return [p.exitcode if p.exitcode is not None else -999 for p in procs]


def read_logs(logs: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(intents, acknowledgements): reservation id -> charge, over every worker's log."""
    intents: dict[str, int] = {}
    acks: dict[str, int] = {}
    for f in logs.glob("w*.log"):
        for line in f.read_text().splitlines():
            kind, rid, c = line.split()
            (intents if kind == "I" else acks)[rid] = int(c)
    return intents, acks

