// The time auth decisions are made at (token, session and lock expiry, the
// refresh grace, one-time tokens). buildApp takes a clock and the api reads
// only that one, so a test passes a clock it can move and production code
// needs no switch for it.
export type Clock = { now(): number }

export const systemClock: Clock = { now: () => Date.now() }
