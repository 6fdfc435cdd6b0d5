// One delivery attempt against real HTTP receivers on 127.0.0.1: what is sent
// (Standard Webhooks headers, a body receivers verify), how each answer is
// judged, the deadline, the 1 KiB excerpt, and where a delivery may connect.
import { request as httpRequest } from 'node:http'
import type { LookupFunction } from 'node:net'
import { Readable } from 'node:stream'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { webhookAgent } from '../../src/lib/webhooks/agents.ts'
import { deliverWebhook, parseRetryAfter, USER_AGENT } from '../../src/lib/webhooks/deliver.ts'
import { createWebhookSecret } from '../../src/lib/webhooks/secrets.ts'
import { checkWebhookUrl } from '../../src/lib/webhooks/url-rules.ts'
import { plainHeaders, type Receiver, startReceiver } from './receiver.ts'

const local = { allowHttp: true, allowPrivateNetworks: true }
const publicOnly = { allowHttp: true, allowPrivateNetworks: false }

let receiver: Receiver | undefined
afterEach(async () => {
  await receiver?.close()
  receiver = undefined
})

function message(url: string, secrets = [createWebhookSecret()]) {
  return {
    url,
    secrets,
    id: 'evt_01JEZ8Q3W9Y6',
    type: 'ticket.created',
    timestamp: new Date('2026-12-05T10:00:00.000Z'),
    data: { ticket: { id: 't1', subject: 'Printer on fire' } },
  }
}

/** A resolver that answers 127.0.0.1 for every name, as a hostile DNS record would. */
const resolvesToLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

describe('deliverWebhook: what the receiver gets', () => {
  it('POSTs {type, timestamp, data} with the Standard Webhooks headers, verifiable with the secret', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(204).end())
    const secret = createWebhookSecret()
    const sentAt = new Date()
    const result = await deliverWebhook(message(receiver.url(), [secret]), {
      ...local,
      now: () => sentAt,
    })
    expect(result).toMatchObject({ ok: true, statusCode: 204, final: true, responseExcerpt: '' })
    expect(result.error).toBeUndefined()
    expect(result.latencyMs).toBeGreaterThanOrEqual(0)

    expect(receiver.requests).toHaveLength(1)
    const got = receiver.requests[0]!
    expect(got.method).toBe('POST')
    expect(got.path).toBe('/hook')
    expect(got.headers['content-type']).toBe('application/json')
    expect(got.headers['user-agent']).toBe(USER_AGENT)
    expect(got.headers['webhook-id']).toBe('evt_01JEZ8Q3W9Y6')
    expect(got.headers['webhook-timestamp']).toBe(String(Math.floor(sentAt.getTime() / 1000)))
    expect(JSON.parse(got.body)).toEqual({
      type: 'ticket.created',
      timestamp: '2026-12-05T10:00:00.000Z',
      data: { ticket: { id: 't1', subject: 'Printer on fire' } },
    })
    // As a receiver verifies: the raw body and the headers. The event is three
    // days old, but the signed timestamp is the attempt's, so it is fresh.
    expect(new Webhook(secret).verify(got.body, plainHeaders(got.headers))).toEqual(
      JSON.parse(got.body),
    )
    expect(() =>
      new Webhook(createWebhookSecret()).verify(got.body, plainHeaders(got.headers)),
    ).toThrow(/No matching signature/)
  })

  it('carries two signatures during a rotation, each verifying with its own secret', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'))
    const current = createWebhookSecret()
    const previous = createWebhookSecret()
    const result = await deliverWebhook(message(receiver.url(), [current, previous]), local)
    expect(result.ok).toBe(true)
    const got = receiver.requests[0]!
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2)
    for (const secret of [current, previous]) {
      expect(() => new Webhook(secret).verify(got.body, plainHeaders(got.headers))).not.toThrow()
    }
  })
})

describe('deliverWebhook: a bad call', () => {
  it('rejects, sending nothing, when it has no secret or a malformed one', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    await expect(deliverWebhook(message(receiver.url(), []), local)).rejects.toThrow(
      /at least one secret/,
    )
    await expect(deliverWebhook(message(receiver.url(), ['whsec_%%%']), local)).rejects.toThrow()
    expect(receiver.connections()).toBe(0)
  })
})

describe('deliverWebhook: how answers are judged', () => {
  it('2xx is success, with the answer in the excerpt', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end('{"received":true}'))
    const result = await deliverWebhook(message(receiver.url()), local)
    expect(result).toMatchObject({
      ok: true,
      statusCode: 200,
      final: true,
      responseExcerpt: '{"received":true}',
    })
  })

  it('503 is retryable, with its Retry-After in seconds', async () => {
    receiver = await startReceiver((_req, res) =>
      res.writeHead(503, { 'retry-after': '120' }).end('down for maintenance'),
    )
    const result = await deliverWebhook(message(receiver.url()), local)
    expect(result).toMatchObject({
      ok: false,
      statusCode: 503,
      final: false,
      retryAfterMs: 120_000,
      responseExcerpt: 'down for maintenance',
    })
    expect(result.error).toMatch(/503/)
  })

  it('429 is retryable, with a Retry-After given as an HTTP date', async () => {
    const at = new Date(Date.now() + 90_000)
    receiver = await startReceiver((_req, res) =>
      res.writeHead(429, { 'retry-after': at.toUTCString() }).end(),
    )
    const result = await deliverWebhook(message(receiver.url()), local)
    expect(result.final).toBe(false)
    expect(result.statusCode).toBe(429)
    expect(result.retryAfterMs).toBeGreaterThan(80_000)
    expect(result.retryAfterMs).toBeLessThanOrEqual(90_000)
  })

  it('408 and 500 are retryable, without a Retry-After', async () => {
    for (const status of [408, 500, 502]) {
      receiver = await startReceiver((_req, res) => res.writeHead(status).end())
      const result = await deliverWebhook(message(receiver.url()), local)
      expect(result, String(status)).toMatchObject({ ok: false, statusCode: status, final: false })
      expect(result.retryAfterMs).toBeUndefined()
      await receiver.close()
      receiver = undefined
    }
  })

  it('400, 401, 404 and 410 are final', async () => {
    for (const status of [400, 401, 404, 410]) {
      receiver = await startReceiver((_req, res) =>
        res.writeHead(status, { 'retry-after': '5' }).end('nope'),
      )
      const result = await deliverWebhook(message(receiver.url()), local)
      expect(result, String(status)).toMatchObject({
        ok: false,
        statusCode: status,
        final: true,
        responseExcerpt: 'nope',
      })
      expect(result.retryAfterMs).toBeUndefined()
      await receiver.close()
      receiver = undefined
    }
  })

  it('a 302 is not followed: one request, a final failure naming where it pointed', async () => {
    receiver = await startReceiver((req, res) => {
      if (req.url === '/hook') res.writeHead(302, { location: '/elsewhere' }).end()
      else res.writeHead(200).end()
    })
    const result = await deliverWebhook(message(receiver.url()), local)
    expect(result).toMatchObject({ ok: false, statusCode: 302, final: true })
    expect(result.error).toMatch(/redirect to \/elsewhere not followed/)
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook'])
  })

  it('keeps only the first KiB of a big answer and drops the rest unread', async () => {
    let finished: boolean | undefined
    receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.on('close', () => {
        finished = res.writableFinished
      })
      // 256 MiB, produced only as fast as the client reads it.
      let sent = 0
      Readable.from(
        (function* () {
          while (sent < 256 * 1024 * 1024) {
            sent += 65_536
            yield Buffer.alloc(65_536, 'x')
          }
        })(),
      ).pipe(res)
    })
    const result = await deliverWebhook(message(receiver.url()), local)
    expect(result.ok).toBe(true)
    expect(result.responseExcerpt).toBe('x'.repeat(1024))
    await expect.poll(() => finished).toBe(false)
  })

  it('cuts the excerpt at 1 KiB without splitting a character', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end(`a${'é'.repeat(1000)}`))
    const result = await deliverWebhook(message(receiver.url()), local)
    // 1 byte + 511 two-byte characters = 1023 bytes; the 512th would straddle the limit.
    expect(result.responseExcerpt).toBe(`a${'é'.repeat(511)}`)
  })
})

describe('deliverWebhook: the deadline', () => {
  it('a receiver that never answers times out, retryably, at the deadline', async () => {
    receiver = await startReceiver(() => {})
    const result = await deliverWebhook(message(receiver.url()), { ...local, timeoutMs: 300 })
    expect(result).toMatchObject({ ok: false, final: false })
    expect(result.statusCode).toBeUndefined()
    expect(result.error).toMatch(/timed out after 300 ms/)
    expect(result.latencyMs).toBeGreaterThanOrEqual(290)
    expect(result.latencyMs).toBeLessThan(2000)
  })

  it('a 2xx whose body trickles in is a success at the deadline, with what arrived', async () => {
    receiver = await startReceiver((_req, res) => {
      res.writeHead(200)
      res.write('partial ')
    })
    const result = await deliverWebhook(message(receiver.url()), { ...local, timeoutMs: 300 })
    expect(result).toMatchObject({ ok: true, statusCode: 200, final: true })
    expect(result.responseExcerpt).toBe('partial ')
    expect(result.latencyMs).toBeGreaterThanOrEqual(290)
    expect(result.latencyMs).toBeLessThan(2000)
  })

  it('a refused connection is a retryable network error', async () => {
    receiver = await startReceiver(() => {})
    const url = receiver.url()
    await receiver.close()
    receiver = undefined
    const result = await deliverWebhook(message(url), local)
    expect(result).toMatchObject({ ok: false, final: false })
    expect(result.error).toMatch(/ECONNREFUSED/)
  })
})

describe('deliverWebhook: where it may connect', () => {
  it('refuses http unless allowHttp, before connecting', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const refused = await deliverWebhook(message(receiver.url()), {
      allowHttp: false,
      allowPrivateNetworks: true,
    })
    expect(refused).toMatchObject({ ok: false, final: true })
    expect(refused.error).toMatch(/^invalid_webhook_url: .*https/)
    expect(receiver.connections()).toBe(0)
    const allowed = await deliverWebhook(message(receiver.url()), local)
    expect(allowed.ok).toBe(true)
  })

  it('refuses a literal loopback URL without private networks, and reaches it with them', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const refused = await deliverWebhook(message(receiver.url()), publicOnly)
    expect(refused).toMatchObject({ ok: false, final: true })
    expect(refused.error).toMatch(/^invalid_webhook_url/)
    expect(receiver.connections()).toBe(0)
    expect((await deliverWebhook(message(receiver.url()), local)).ok).toBe(true)
  })

  it('refuses, when connecting, a hostname the URL rules allowed but DNS puts on loopback', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const url = `http://hooks.customer.example:${receiver.port}/hook`
    // The URL alone is fine: only the answer of DNS makes it loopback.
    expect(checkWebhookUrl(url, publicOnly).ok).toBe(true)
    const refused = await deliverWebhook(message(url), {
      ...publicOnly,
      lookup: resolvesToLoopback,
    })
    expect(refused).toMatchObject({ ok: false, final: true })
    expect(refused.statusCode).toBeUndefined()
    expect(refused.error).toMatch(/^address_not_allowed: .*127\.0\.0\.1/)
    expect(receiver.connections()).toBe(0)

    const allowed = await deliverWebhook(message(url), { ...local, lookup: resolvesToLoopback })
    expect(allowed).toMatchObject({ ok: true, statusCode: 200 })
    expect(receiver.requests[0]?.headers.host).toBe(`hooks.customer.example:${receiver.port}`)
  })

  it('refuses a DNS answer the agent would let through (IPv4-compatible ::7f00:1), by our own rules', async () => {
    const compatible: LookupFunction = (_hostname, options, callback) => {
      if (options.all) callback(null, [{ address: '::7f00:1', family: 6 }])
      else callback(null, '::7f00:1', 6)
    }
    const result = await deliverWebhook(message('https://hooks.customer.example/hook'), {
      allowHttp: false,
      allowPrivateNetworks: false,
      lookup: compatible,
    })
    expect(result).toMatchObject({ ok: false, final: true })
    expect(result.error).toMatch(/resolves to ::7f00:1, which webhooks may not reach/)
  })

  it('refuses a name whose DNS answer mixes a public and a private address', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const mixed: LookupFunction = (_hostname, options, callback) => {
      if (options.all) {
        callback(null, [
          { address: '93.184.215.14', family: 4 },
          { address: '127.0.0.1', family: 4 },
        ])
      } else callback(null, '127.0.0.1', 4)
    }
    const url = `http://hooks.customer.example:${receiver.port}/hook`
    const result = await deliverWebhook(message(url), { ...publicOnly, lookup: mixed })
    expect(result).toMatchObject({ ok: false, final: true })
    expect(result.error).toMatch(/^address_not_allowed: .*127\.0\.0\.1/)
    expect(receiver.connections()).toBe(0)
  })

  it('refuses the same over https, before any TLS handshake', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const url = `https://hooks.customer.example:${receiver.port}/hook`
    const refused = await deliverWebhook(message(url), {
      allowHttp: false,
      allowPrivateNetworks: false,
      lookup: resolvesToLoopback,
    })
    expect(refused).toMatchObject({ ok: false, final: true })
    expect(refused.error).toMatch(/^address_not_allowed/)
    expect(receiver.connections()).toBe(0)
  })

  it('connects through the filtering agent, whose connections are kept alive and reused', async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end('ok'))
    for (let i = 0; i < 3; i++) {
      expect((await deliverWebhook(message(receiver.url()), local)).ok).toBe(true)
    }
    expect(receiver.connections()).toBe(1)
    const pooled = Object.keys(webhookAgent('http:', true).freeSockets)
    expect(pooled.some((name) => name.startsWith(`127.0.0.1:${receiver?.port}:`))).toBe(true)
  })

  it('tries again on a new connection when a kept-alive one turns out closed', async () => {
    // The receiver drops each connection at its second request, as a server
    // closing an idle keep-alive connection does just as it is reused.
    const served = new WeakMap<object, number>()
    receiver = await startReceiver((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1
      served.set(req.socket, count)
      if (count > 1) req.socket.destroy()
      else res.writeHead(200).end('ok')
    })
    expect((await deliverWebhook(message(receiver.url()), local)).ok).toBe(true)
    const second = await deliverWebhook(message(receiver.url()), local)
    expect(second).toMatchObject({ ok: true, statusCode: 200 })
    expect(receiver.connections()).toBe(2)
    expect(receiver.requests).toHaveLength(3)
  })

  it("the agent itself refuses loopback after DNS and for literal IPs (request-filtering-agent's own check)", async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(200).end())
    const port = receiver.port
    const attempt = (hostname: string, allowPrivate: boolean) =>
      new Promise<string>((resolve) => {
        const req = httpRequest({
          hostname,
          port,
          path: '/',
          agent: webhookAgent('http:', allowPrivate),
          lookup: resolvesToLoopback,
        })
        req.on('response', (res) => {
          res.resume()
          resolve(`HTTP ${res.statusCode}`)
        })
        req.on('error', (err) => resolve(err.message))
        req.end()
      })
    // Its wording is what deliver.ts recognises as a refusal.
    expect(await attempt('hooks.customer.example', false)).toMatch(
      /^DNS lookup 127\.0\.0\.1.* is not allowed\. Because/,
    )
    expect(await attempt('127.0.0.1', false)).toMatch(/^DNS lookup 127\.0\.0\.1.* is not allowed/)
    expect(receiver.connections()).toBe(0)
    expect(await attempt('hooks.customer.example', true)).toBe('HTTP 200')
  })
})

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    const now = Date.parse('2026-12-08T00:00:00Z')
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter(' 30 ', now)).toBe(30_000)
    expect(parseRetryAfter('Tue, 08 Dec 2026 00:01:00 GMT', now)).toBe(60_000)
    expect(parseRetryAfter('Mon, 07 Dec 2026 23:00:00 GMT', now)).toBe(0)
    expect(parseRetryAfter(undefined, now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter('-5', now)).toBeUndefined()
  })
})
