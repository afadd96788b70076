"""Loops: a fresh session and budget per iteration, and a budget rebound in a loop."""
# runtime: clean
import impl

for task in ("search", "summarise", "review"):
    session = impl.Session(100)
    b = session.take()
    b = b.spend(10)
    print(task, b.available)

session = impl.Session(100)
b = session.take()
for _ in range(3):
    b, receipt = b.reserve(20)
    b = receipt.confirm(15).apply_to(b)
while b.available > 50:
    b = b.spend(10)
print(b.available)
