// The retry schedule of webhook deliveries: first retry within 30 s, no wait
// over 6 h, retries for 3 days, Retry-After as a floor; and a whole schedule run
// for real, in milliseconds, against a receiver that fails twice.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type BackoffPolicy,
  delayCeiling,
  giveUpAfterMs,
  nextAttemptAt,
  nextAttemptDelay,
  WEBHOOK_BACKOFF,
} from '../../src/lib/webhooks/backoff.ts'
import { deliverWebhook } from '../../src/lib/webhooks/deliver.ts'
import { createWebhookSecret } from '../../src/lib/webhooks/secrets.ts'
import { type Receiver, startReceiver } from './receiver.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Every attempt time of one delivery that always fails, from its first attempt at 0. */
function schedule(random: () => number, policy: BackoffPolicy = WEBHOOK_BACKOFF): number[] {
  const times = [0]
  for (;;) {
    const now = times.at(-1) as number
    const next = nextAttemptAt({ attempts: times.length, firstAttemptAt: 0, now }, policy, random)
    if (next === null) return times
    times.push(next)
  }
}

describe('the retry schedule', () => {
  it('retries first within 30 s, but not at once', () => {
    expect(giveUpAfterMs).toBe(3 * DAY)
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      const delay = nextAttemptDelay(1, undefined, WEBHOOK_BACKOFF, () => r)
      expect(delay).toBeLessThanOrEqual(30_000)
      expect(delay).toBeGreaterThanOrEqual(15_000)
    }
    for (let i = 0; i < 1000; i++) expect(nextAttemptDelay(1)).toBeLessThanOrEqual(30_000)
  })

  it('doubles its ceiling per attempt up to 6 h, and never goes down', () => {
    const ceilings = Array.from({ length: 40 }, (_, i) => delayCeiling(i + 1))
    expect(ceilings.slice(0, 4)).toEqual([30_000, 60_000, 120_000, 240_000])
    for (let i = 1; i < ceilings.length; i++) {
      expect(ceilings[i]).toBeGreaterThanOrEqual(ceilings[i - 1] as number)
    }
    expect(ceilings.at(-1)).toBe(6 * HOUR)
    expect(Math.max(...ceilings)).toBe(6 * HOUR)
    // Jitter stays under the ceiling, and spreads over it.
    const delays = Array.from({ length: 2000 }, () => nextAttemptDelay(20))
    expect(Math.max(...delays)).toBeLessThanOrEqual(6 * HOUR)
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(3 * HOUR)
    expect(Math.min(...delays)).toBeLessThan(3.5 * HOUR)
    expect(Math.max(...delays)).toBeGreaterThan(5.5 * HOUR)
  })

  it('keeps retrying for 3 days, the last attempt on the deadline, whatever the jitter', () => {
    for (const random of [() => 0, () => 0.5, () => 0.999999, Math.random]) {
      const times = schedule(random)
      expect(times.at(-1)).toBe(3 * DAY)
      for (let i = 1; i < times.length; i++) {
        const wait = (times[i] as number) - (times[i - 1] as number)
        expect(wait).toBeGreaterThan(0)
        expect(wait).toBeLessThanOrEqual(6 * HOUR)
      }
      // Not a flood, even when every draw is the shortest: a few dozen attempts.
      expect(times.length).toBeLessThanOrEqual(45)
      expect(times.length).toBeGreaterThanOrEqual(20)
    }
    // After the deadline, nothing more.
    expect(nextAttemptAt({ attempts: 30, firstAttemptAt: 0, now: 3 * DAY })).toBeNull()
  })

  it('honours Retry-After as a floor, past the 6 h ceiling too, and gives up if it ends after 3 days', () => {
    expect(nextAttemptDelay(1, 120_000, WEBHOOK_BACKOFF, () => 0.5)).toBe(120_000)
    expect(nextAttemptDelay(12, 8 * HOUR, WEBHOOK_BACKOFF, () => 0.5)).toBe(8 * HOUR)
    // A short Retry-After never makes the wait shorter than the schedule's own.
    const own = nextAttemptDelay(10, undefined, WEBHOOK_BACKOFF, () => 0.5)
    expect(nextAttemptDelay(10, 5_000, WEBHOOK_BACKOFF, () => 0.5)).toBe(own)
    expect(
      nextAttemptAt({ attempts: 1, firstAttemptAt: 0, now: 1000, retryAfterMs: 60_000 }),
    ).toBeGreaterThanOrEqual(61_000)
    expect(
      nextAttemptAt({ attempts: 5, firstAttemptAt: 0, now: 2 * DAY, retryAfterMs: 2 * DAY }),
    ).toBeNull()
  })
})

describe('a whole schedule, for real', () => {
  let receiver: Receiver | undefined
  afterEach(async () => {
    await receiver?.close()
  })

  it('retries a delivery with the same webhook-id until the receiver takes it', async () => {
    let calls = 0
    receiver = await startReceiver((_req, res) => {
      calls += 1
      if (calls === 1) res.writeHead(503, { 'retry-after': '0' }).end()
      else if (calls === 2) res.writeHead(429).end()
      else res.writeHead(200).end('thanks')
    })
    const fast: BackoffPolicy = {
      firstDelayMs: 5,
      maxDelayMs: 20,
      minDelayMs: 1,
      giveUpAfterMs: 2000,
    }
    const delivery = {
      url: receiver.url(),
      secrets: [createWebhookSecret()],
      id: 'evt_retry',
      type: 'ticket.updated',
      timestamp: new Date(),
      data: { ticket: { id: 't1' } },
    }
    const first = Date.now()
    const outcomes: boolean[] = []
    for (let attempts = 1; ; attempts++) {
      const result = await deliverWebhook(delivery, { allowHttp: true, allowPrivateNetworks: true })
      outcomes.push(result.ok)
      if (result.final) break
      const at = nextAttemptAt(
        { attempts, firstAttemptAt: first, now: Date.now(), retryAfterMs: result.retryAfterMs },
        fast,
      )
      expect(at).not.toBeNull()
      await sleep(Math.max(0, (at as number) - Date.now()))
    }
    expect(outcomes).toEqual([false, false, true])
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      'evt_retry',
      'evt_retry',
      'evt_retry',
    ])
    expect(Date.now() - first).toBeLessThan(2000)
  })
})
