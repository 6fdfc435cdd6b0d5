// Cross-site request checks for browser (cookie) requests, as API.md's cookie
// paragraph says. A cookie rides along on any request the browser makes, so a
// state-changing cookie request must prove it came from our own SPA:
//   - Sec-Fetch-Site: cross-site is refused outright;
//   - Origin, when present, must be exactly the API's own origin or one of
//     CORS_ORIGINS. A sibling tenant subdomain is *same-site*, so SameSite
//     cookies and Sec-Fetch-Site cannot stop it; only this exact allowlist can;
//   - neither Origin nor Sec-Fetch-Site → refused (every current browser sends
//     one of them on a POST; a request with neither is not our SPA);
//   - the body must be JSON (415 otherwise): HTML forms cannot send JSON, so
//     this closes the form-post route around CORS. Upload routes (config
//     `upload`, plugins/uploads.ts) take multipart/form-data instead, which a
//     form can send: there the X-CSRF-Token below is what stops a forged one;
//   - and the X-CSRF-Token header must be the session's token, an HMAC of the
//     session id, so a token of another session or a planted cookie fails.
// The API's own origin is PUBLIC_URL when set; otherwise it is derived from the
// request (protocol + Host). A forged Host does not help an attacker there: a
// browser only sends our cookies to our host, and its Origin is the page's.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { Forbidden, Problem } from '../lib/problems.ts'

export type OriginPolicy = { ownOrigin: string | null; allowed: ReadonlySet<string> }

function originOf(url: string): string | null {
  try {
    return new URL(url).origin
  } catch {
    return null
  }
}

export function originPolicy(config: Config): OriginPolicy {
  const allowed = new Set<string>()
  for (const o of config.CORS_ORIGINS) {
    const origin = originOf(o)
    if (origin) allowed.add(origin)
  }
  return { ownOrigin: config.PUBLIC_URL ? originOf(config.PUBLIC_URL) : null, allowed }
}

function ownOrigin(request: FastifyRequest, policy: OriginPolicy): string {
  return policy.ownOrigin ?? `${request.protocol}://${request.host}`
}

const csrfFailed = (detail: string) => new Forbidden('csrf_failed', detail)

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function hasBody(request: FastifyRequest): boolean {
  const length = header(request, 'content-length')
  return (
    (length !== undefined && length !== '0') || header(request, 'transfer-encoding') !== undefined
  )
}

/**
 * The Fetch Metadata, Origin and content-type checks. `requireSignal` demands
 * Origin or Sec-Fetch-Site (cookie requests); login and a refresh by body token
 * also accept non-browser clients, which send neither.
 */
export function checkRequestSource(
  request: FastifyRequest,
  policy: OriginPolicy,
  requireSignal: boolean,
): void {
  checkRequestOrigin(request, policy, requireSignal)
  const type = header(request, 'content-type')
  if (type !== undefined || hasBody(request)) {
    const media = (type ?? '').split(';')[0]?.trim().toLowerCase()
    const accepted = request.routeOptions.config?.upload
      ? 'multipart/form-data'
      : 'application/json'
    if (media !== accepted) {
      throw new Problem('unsupported_media_type', `Request bodies must be ${accepted}.`)
    }
  }
}

/**
 * The Fetch Metadata and Origin checks alone, for a route whose body is not
 * JSON by contract (the OAuth2 token endpoint's form body).
 */
export function checkRequestOrigin(
  request: FastifyRequest,
  policy: OriginPolicy,
  requireSignal: boolean,
): void {
  const site = header(request, 'sec-fetch-site')
  const origin = header(request, 'origin')
  if (site === 'cross-site') throw csrfFailed('Cross-site requests are refused.')
  if (origin !== undefined) {
    if (origin !== ownOrigin(request, policy) && !policy.allowed.has(origin)) {
      throw csrfFailed('This origin is not allowed.')
    }
  } else if (requireSignal && site !== 'same-origin' && site !== 'none') {
    // same-site without Origin would be a sibling subdomain we cannot identify.
    throw csrfFailed('The request carries no Origin.')
  }
}

export function csrfTokenFor(key: Buffer, sessionId: string): string {
  return createHmac('sha256', key).update(`csrf:${sessionId}`).digest('base64url')
}

/** Every check, including the session-bound X-CSRF-Token. */
export function checkCsrf(
  request: FastifyRequest,
  policy: OriginPolicy,
  key: Buffer,
  sessionId: string,
): void {
  checkRequestSource(request, policy, true)
  const presented = header(request, 'x-csrf-token')
  if (!presented) throw csrfFailed('The X-CSRF-Token header is missing.')
  const expected = Buffer.from(csrfTokenFor(key, sessionId))
  const given = Buffer.from(presented)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw csrfFailed('The X-CSRF-Token does not belong to this session.')
  }
}
