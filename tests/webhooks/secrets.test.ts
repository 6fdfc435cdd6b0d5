// Signing secrets and the webhook-signature header, checked with the
// standardwebhooks package exactly as a receiver would verify them.
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { createWebhookSecret, isWebhookSecret, signatures } from '../../src/lib/webhooks/secrets.ts'

const body = JSON.stringify({
  type: 'ticket.created',
  timestamp: '2026-12-08T00:00:00.000Z',
  data: {},
})

function headersFor(signature: string, id: string, at: Date) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  }
}

describe('webhook secrets', () => {
  it('makes whsec_ secrets of 32 random bytes, different every time', () => {
    const a = createWebhookSecret()
    const b = createWebhookSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32)
    expect(a).not.toBe(b)
    expect(isWebhookSecret(a)).toBe(true)
    expect(isWebhookSecret('whsec_short')).toBe(false)
    expect(isWebhookSecret(a.slice(6))).toBe(false)
  })

  it('signs so that a receiver verifies with the secret, and not with another', () => {
    const secret = createWebhookSecret()
    const at = new Date()
    const header = signatures([secret], 'evt_1', at, body)
    expect(header).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(new Webhook(secret).verify(body, headersFor(header, 'evt_1', at))).toEqual(
      JSON.parse(body),
    )
    expect(() =>
      new Webhook(createWebhookSecret()).verify(body, headersFor(header, 'evt_1', at)),
    ).toThrow(/No matching signature/)
    // The id, the timestamp and the body are all signed.
    expect(() => new Webhook(secret).verify(body, headersFor(header, 'evt_2', at))).toThrow()
    expect(() => new Webhook(secret).verify(`${body} `, headersFor(header, 'evt_1', at))).toThrow()
    const later = new Date(at.getTime() + 2000)
    expect(() => new Webhook(secret).verify(body, headersFor(header, 'evt_1', later))).toThrow()
  })

  it('carries one signature per secret during a rotation, each verifying on its own', () => {
    const oldSecret = createWebhookSecret()
    const newSecret = createWebhookSecret()
    const at = new Date()
    const header = signatures([newSecret, oldSecret], 'evt_9', at, body)
    const parts = header.split(' ')
    expect(parts).toHaveLength(2)
    for (const part of parts) expect(part).toMatch(/^v1,/)
    expect(parts[0]).not.toBe(parts[1])
    for (const secret of [oldSecret, newSecret]) {
      expect(new Webhook(secret).verify(body, headersFor(header, 'evt_9', at))).toEqual(
        JSON.parse(body),
      )
    }
  })

  it('refuses to sign with no secret', () => {
    expect(() => signatures([], 'evt_1', new Date(), body)).toThrow(/at least one secret/)
  })
})
