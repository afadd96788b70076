"""Code that demonstrates a violation and catches it (tests, docs): a note, not a
finding."""
# runtime: clean
import impl

session = impl.Session(100)
b = session.take()
child, parent = b.split(30)
try:
    b.spend(1)  # note: AFF903
except impl.AffineViolation as e:
    print("as expected:", e)
parent = parent.merge(child)
