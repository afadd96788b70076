"""Consumed on one path, used after the paths join."""
# runtime: AffineViolation
import sys

import impl

session = impl.Session(100)
b = session.take()
urgent = len(sys.argv) >= 0
if urgent:
    rest = b.spend(60)
else:
    rest = None
print(b.available)  # expect: AFF002
