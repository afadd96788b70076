"""Pickling a receipt (to hand it to another process) always raises."""
# runtime: AffineViolation
import pickle

import impl

session = impl.Session(100)
b, receipt = session.take().reserve(40)
with receipt:
    blob = pickle.dumps(receipt)  # expect: AFF005
