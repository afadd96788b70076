"""A refund never applied: its money stays outstanding for good (the session
under-spends)."""
# runtime: refund
import impl

session = impl.Session(100)
b, receipt = session.take().reserve(40)
refund = receipt.confirm(25)  # expect: AFF007
