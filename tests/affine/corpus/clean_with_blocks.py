"""with blocks resolve what is left open, also when the body raises."""
# runtime: clean
import impl

pool = impl.BudgetPool(100)
with pool.reserve(30) as res:
    res.commit(20)
with pool.reserve(10):
    pass
session = impl.Session(100)
b, receipt = session.take().reserve(40)
with receipt:
    b = receipt.confirm(30).apply_to(b)
b, stream = b.reserve_stream(20)
with stream:
    stream.confirm_chunk(5)
    b = stream.close().apply_to(b)
try:
    with pool.reserve(5) as res:
        raise TimeoutError("the call timed out")
except TimeoutError:
    pass
print(b.available, pool.available)
