// When a failed webhook delivery is tried again. Exponential backoff with
// jitter: a ceiling that doubles per attempt (30 s, 1 min, 2 min, ... up to 6 h)
// and a random wait in its upper half, so receivers coming back from an outage
// are not hit by every sender at once. Not "full" jitter (anywhere from zero to
// the ceiling): that lets an unlucky run of draws retry every second for the
// whole 3 days; here the waits still grow, and 3 days hold 22 to 34 attempts.
// The first retry comes within 30 s, retries go on for 3 days from the first
// attempt, the last one landing on that deadline. Retry-After, when the
// receiver sends one, is a floor: never sooner than it asks.

export interface BackoffPolicy {
  /** the ceiling of the first wait; doubles on each attempt */
  firstDelayMs: number
  /** no wait is longer */
  maxDelayMs: number
  /** no wait is shorter (a receiver is never hammered in a tight loop) */
  minDelayMs: number
  /** retries stop this long after the first attempt */
  giveUpAfterMs: number
}

export const giveUpAfterMs = 3 * 24 * 60 * 60 * 1000

export const WEBHOOK_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({
  firstDelayMs: 30_000,
  maxDelayMs: 6 * 60 * 60 * 1000,
  minDelayMs: 1_000,
  giveUpAfterMs,
})

/** The longest wait after `attempt` attempts (1 = after the first): 30 s, 1 min, 2 min, ... 6 h. */
export function delayCeiling(attempt: number, policy: BackoffPolicy = WEBHOOK_BACKOFF): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52)
  const ceiling = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** exponent)
  return Math.max(ceiling, policy.minDelayMs)
}

/**
 * How long to wait after `attempt` failed attempts before the next one. A
 * Retry-After (ms) raises the wait to at least that much, even past the 6 h
 * ceiling; nextAttemptAt decides whether that is still within the 3 days.
 */
export function nextAttemptDelay(
  attempt: number,
  retryAfterMs?: number,
  policy: BackoffPolicy = WEBHOOK_BACKOFF,
  random: () => number = Math.random,
): number {
  const ceiling = delayCeiling(attempt, policy)
  const floor = Math.max(policy.minDelayMs, ceiling / 2)
  const jittered = Math.round(floor + random() * (ceiling - floor))
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return jittered
  return Math.max(jittered, Math.ceil(retryAfterMs))
}

/**
 * When to try again (epoch ms) after `attempts` failed attempts, the first made
 * at `firstAttemptAt`; null when the 3 days are over, or when Retry-After asks
 * for a wait that ends after them. A wait crossing the deadline is cut to it, so
 * the last attempt happens at the end of the 3 days.
 */
export function nextAttemptAt(
  state: { attempts: number; firstAttemptAt: number; now: number; retryAfterMs?: number },
  policy: BackoffPolicy = WEBHOOK_BACKOFF,
  random: () => number = Math.random,
): number | null {
  const deadline = state.firstAttemptAt + policy.giveUpAfterMs
  if (state.now >= deadline) return null
  if (state.retryAfterMs !== undefined && state.now + state.retryAfterMs > deadline) return null
  const delay = nextAttemptDelay(state.attempts, state.retryAfterMs, policy, random)
  return Math.min(state.now + delay, deadline)
}
