"""Budgets handed to sub-agents: each gets its own split, the parent keeps the rest."""
# runtime: clean
from concurrent.futures import ThreadPoolExecutor

import impl


def sub_agent(b: impl.Budget, calls: int) -> impl.Budget:
    for _ in range(calls):
        b, receipt = b.reserve(10)
        b = receipt.confirm(7).apply_to(b)
    return b


session = impl.Session(100)
search, rest = session.take().split(40)
summary, parent = rest.split(30)
with ThreadPoolExecutor(max_workers=2) as workers:
    a = workers.submit(sub_agent, search, 3)
    c = workers.submit(lambda: sub_agent(summary, 2))
    parent = parent.merge(a.result()).merge(c.result())
print(parent.available)
