// One webhook delivery attempt: a signed POST, judged the way API.md promises.
// A 2xx within the deadline is success; a network error, a timeout, 408, 429
// or 5xx may be retried (with the receiver's Retry-After); anything else,
// redirects included (never followed), is final. Where it may connect is
// decided when connecting, after DNS, by agents.ts.
import { lookup as dnsLookup } from 'node:dns'
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { LookupFunction } from 'node:net'
import { filteringAgent, guardedLookup, isAddressRefusal, webhookAgent } from './agents.ts'
import { signatures } from './secrets.ts'
import { checkWebhookUrl, type WebhookUrlSettings } from './url-rules.ts'

export const USER_AGENT = 'Deskpilot-Webhooks/1'
export const EXCERPT_BYTES = 1024
export const DELIVERY_TIMEOUT_MS = 10_000

export interface WebhookMessage {
  url: string
  /** the endpoint's signing secrets: one, or two during a rotation */
  secrets: readonly string[]
  /** the event id, sent as `webhook-id`, the same on every attempt */
  id: string
  type: string
  /** when the event happened: the body's `timestamp` */
  timestamp: Date
  data: unknown
}

export interface DeliveryOptions extends WebhookUrlSettings {
  /** the whole attempt, from connecting to the last byte read (default 10 s) */
  timeoutMs?: number
  /** the attempt's time, sent (and signed) as `webhook-timestamp` */
  now?: () => Date
  /** a DNS resolver in place of dns.lookup; whatever it answers is still checked */
  lookup?: LookupFunction
}

export interface DeliveryResult {
  ok: boolean
  statusCode?: number
  error?: string
  latencyMs: number
  /** the first KiB of the answer, as text */
  responseExcerpt: string
  /** the receiver's Retry-After, in ms from now, on a retryable answer */
  retryAfterMs?: number
  /** no retry: success, or a failure a retry cannot fix */
  final: boolean
}

/** Retry-After as ms from now: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // Every HTTP-date form starts with the day's name; Date.parse alone takes "-5" as a year.
  if (!/^[A-Za-z]{3}/.test(text)) return undefined
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

/**
 * Makes one attempt at delivering a webhook. Whatever the network or the
 * receiver does is in the result; it rejects only on a bad call (no secret, a
 * secret that is not whsec_ base64, a header value Node refuses).
 */
export async function deliverWebhook(
  message: WebhookMessage,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const checked = checkWebhookUrl(message.url, options)
  if (!checked.ok) {
    return {
      ok: false,
      error: `invalid_webhook_url: ${checked.message}`,
      latencyMs: elapsed(),
      responseExcerpt: '',
      final: true,
    }
  }
  const url = checked.url
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS
  const sentAt = (options.now ?? (() => new Date()))()
  const body = JSON.stringify({
    type: message.type,
    timestamp: message.timestamp.toISOString(),
    data: message.data,
  })
  const headers = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': USER_AGENT,
    'webhook-id': message.id,
    'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    'webhook-signature': signatures(message.secrets, message.id, sentAt, body),
  }
  const protocol = url.protocol as 'http:' | 'https:'
  const lookup = guardedLookup(
    options.lookup ?? (dnsLookup as LookupFunction),
    options.allowPrivateNetworks,
  )

  return new Promise<DeliveryResult>((resolve) => {
    const controller = new AbortController()
    let timedOut = false
    let settled = false
    let response: IncomingMessage | undefined
    const excerpt: Buffer[] = []
    let excerptBytes = 0

    const timer = setTimeout(() => {
      timedOut = true
      controller.abort()
    }, timeoutMs)

    const settle = (outcome: Omit<DeliveryResult, 'latencyMs' | 'responseExcerpt'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // stream: true leaves out a character cut in half at the 1 KiB mark.
      const text = new TextDecoder().decode(Buffer.concat(excerpt), { stream: true })
      resolve({ ...outcome, latencyMs: elapsed(), responseExcerpt: text })
      // Whatever is left of the answer is dropped unread, and its connection with it.
      if (!response?.complete) req.destroy()
    }

    // The status decides, once it has arrived: a 2xx within the deadline is a
    // success even if the rest of the body is slow or cut off.
    const judgeResponse = () => {
      const res = response as IncomingMessage
      const status = res.statusCode ?? 0
      if (status >= 200 && status < 300)
        return settle({ ok: true, statusCode: status, final: true })
      if (status >= 300 && status < 400) {
        const location = res.headers.location ?? ''
        return settle({
          ok: false,
          statusCode: status,
          error: `redirect to ${location.slice(0, 200) || '(no location)'} not followed`,
          final: true,
        })
      }
      if (isRetryableStatus(status)) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'])
        return settle({
          ok: false,
          statusCode: status,
          error: `HTTP ${status}`,
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
          final: false,
        })
      }
      settle({ ok: false, statusCode: status, error: `HTTP ${status}`, final: true })
    }

    const send = protocol === 'https:' ? httpsRequest : httpRequest
    let req: ClientRequest

    const start = (freshConnection: boolean) => {
      const current = send({
        protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        // A new connection is made through a filtering agent too, one of its own.
        agent: freshConnection
          ? filteringAgent(protocol, options.allowPrivateNetworks, false)
          : webhookAgent(protocol, options.allowPrivateNetworks),
        lookup,
        signal: controller.signal,
      })
      req = current

      current.on('response', (res) => {
        response = res
        res.on('data', (chunk: Buffer) => {
          const room = EXCERPT_BYTES - excerptBytes
          if (room > 0) {
            const kept = chunk.subarray(0, room)
            excerpt.push(kept)
            excerptBytes += kept.length
          }
          if (excerptBytes >= EXCERPT_BYTES) judgeResponse()
        })
        res.on('end', judgeResponse)
        res.on('error', judgeResponse)
        res.on('aborted', judgeResponse)
      })

      current.on('error', (err) => {
        if (response) return judgeResponse()
        if (timedOut) {
          return settle({ ok: false, error: `timed out after ${timeoutMs} ms`, final: false })
        }
        if (isAddressRefusal(err)) {
          return settle({ ok: false, error: `address_not_allowed: ${err.message}`, final: true })
        }
        const code = (err as NodeJS.ErrnoException).code
        // A kept-alive connection the receiver closed while it sat idle fails at
        // once; that says nothing about the receiver, so try again on a new one.
        if (current.reusedSocket && code === 'ECONNRESET' && !freshConnection) {
          return start(true)
        }
        settle({ ok: false, error: code ? `${code}: ${err.message}` : err.message, final: false })
      })

      current.end(body)
    }

    start(false)
  })
}
