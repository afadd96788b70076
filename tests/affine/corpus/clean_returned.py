"""Handles returned to the caller: the caller resolves them."""
# runtime: clean
import impl


def reserve_for_call(b: impl.Budget) -> tuple[impl.Budget, impl.Receipt]:
    b, receipt = b.reserve(30)
    return b, receipt


def open_reservation(pool: impl.BudgetPool) -> impl.Reservation:
    return pool.reserve(10)


session = impl.Session(100)
b, receipt = reserve_for_call(session.take())
b = receipt.confirm(20).apply_to(b)
pool = impl.BudgetPool(50)
res = open_reservation(pool)
res.commit(5)
