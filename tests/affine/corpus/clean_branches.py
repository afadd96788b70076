"""Every path rebinds or resolves."""
# runtime: clean
import sys

import impl


def call(b: impl.Budget, ok: bool) -> impl.Budget:
    b, receipt = b.reserve(30)
    if ok:
        refund = receipt.confirm(20)
        b = refund.apply_to(b)
    else:
        receipt.forfeit()
    return b


session = impl.Session(100)
b = session.take()
b = call(b, len(sys.argv) >= 0)
b = call(b, False)
if b.available > 10:
    b = b.spend(10)
elif b.available > 5:
    b = b.spend(5)
print(b.available)
