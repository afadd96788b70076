"""A receipt confirmed on one path only."""
# runtime: ResourceWarning
import impl


def call(b: impl.Budget, ok: bool) -> impl.Budget:
    b, receipt = b.reserve(30)  # expect: AFF007
    if ok:
        b = receipt.confirm(20).apply_to(b)
    return b


session = impl.Session(100)
left = call(session.take(), False)
