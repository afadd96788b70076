"""Rust compile-fail: an unresolved receipt (the ReservationReceipt closure-return
contract, #[must_use]): reserved, never confirmed nor forfeited."""
# runtime: ResourceWarning
import impl


def call_model(b: impl.Budget) -> impl.Budget:
    b, receipt = b.reserve(30)  # expect: AFF007
    print("calling the model with", receipt.amount, "uc reserved")
    return b


session = impl.Session(100)
left = call_model(session.take())
