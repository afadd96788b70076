"""A pool reservation whose result is thrown away: forfeited when collected."""
# runtime: ResourceWarning
import impl

pool = impl.BudgetPool(100)
pool.reserve(30)  # expect: AFF008
