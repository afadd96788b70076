"""Rust compile-fail: minting a budget without its authority (E0624, private
Budget::new): impl.Budget(...) outside impl."""
# runtime: TypeError
import impl

forged = impl.Budget(1_000_000)  # type: ignore[call-arg]  # expect: AFF006
