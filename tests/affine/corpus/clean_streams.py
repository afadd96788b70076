"""Streams: chunks confirmed, the stream closed, its refund applied."""
# runtime: clean
import impl

session = impl.Session(100)
b, stream = session.take().reserve_stream(40)
for chunk in (5, 7, 9):
    stream.confirm_chunk(chunk)
b = stream.close().apply_to(b)
pool = impl.BudgetPool(100)
s2 = pool.reserve_stream(30)
s2.confirm_chunk(10)
s2.close()
b, rr = b.reserve_with_reasoning(10, 20)
b = rr.confirm(25).apply_to(b)
print(b.available, pool.available)
