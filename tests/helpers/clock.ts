// A clock a test can move: passed to buildApp as its `clock`, so token,
// session and lock expiry can be reached without waiting.
import type { Clock } from '../../src/lib/clock.ts'

export type TestClock = Clock & { advance(ms: number): void; reset(): void }

export function testClock(): TestClock {
  let offset = 0
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      offset += ms
    },
    reset() {
      offset = 0
    },
  }
}
