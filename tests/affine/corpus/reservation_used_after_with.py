"""A pool reservation used after its with block resolved it."""
# runtime: AffineViolation
import impl

pool = impl.BudgetPool(100)
with pool.reserve(30) as res:
    res.commit(20)
res.cancel()  # expect: AFF001
