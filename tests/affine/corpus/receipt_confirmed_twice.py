"""A receipt resolved twice: confirmed, then forfeited."""
# runtime: AffineViolation
import impl

session = impl.Session(100)
b, receipt = session.take().reserve(40)
refund = receipt.confirm(25)
b = refund.apply_to(b)
receipt.forfeit()  # expect: AFF001
