"""A closure that spends the budget is handed to an executor, then the budget is
spent again by its owner."""
# runtime: AffineViolation
from concurrent.futures import ThreadPoolExecutor

import impl

session = impl.Session(100)
b = session.take()
with ThreadPoolExecutor(max_workers=1) as pool:
    job = pool.submit(lambda: b.spend(10))
    job.result()
rest = b.spend(5)  # expect: AFF004
