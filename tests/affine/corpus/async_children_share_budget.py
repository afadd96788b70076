"""The forgetful operator (paper section 4.3) with impl: one budget handed to three
asyncio children that each spend it. Rust rejects the move into a second future."""
# runtime: AffineViolation
import asyncio

import impl


async def child(b: impl.Budget) -> impl.Budget:
    await asyncio.sleep(0)
    return b.spend(23)


async def main() -> None:
    session = impl.Session(100)
    b = session.take()
    await asyncio.gather(child(b), child(b), child(b))  # expect: AFF004


asyncio.run(main())
