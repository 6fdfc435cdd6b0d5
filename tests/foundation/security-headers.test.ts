// The security headers are helmet's, computed once at start by running its
// middleware against a response that records them (src/plugins/security.ts):
// helmet has no API that returns them. The exact set is pinned here, so a helmet
// upgrade that writes its headers another way, or changes them, fails loudly
// instead of the api silently sending other headers or none.
import { describe, expect, it } from 'vitest'
import { securityHeaders } from '../../src/plugins/security.ts'

const CSP =
  "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';" +
  "frame-ancestors 'none';img-src 'self' data:;object-src 'none';script-src 'self';" +
  "script-src-attr 'none';style-src 'self' 'unsafe-inline'"

const ALWAYS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}

describe('security headers', () => {
  it('over plain HTTP (COOKIE_SECURE=false): no HSTS, no upgrade-insecure-requests', () => {
    expect(securityHeaders({ COOKIE_SECURE: false })).toEqual({
      ...ALWAYS,
      'content-security-policy': `${CSP};connect-src 'self'`,
    })
  })

  it('behind HTTPS (COOKIE_SECURE=true): HSTS for a year and upgrade-insecure-requests', () => {
    expect(securityHeaders({ COOKIE_SECURE: true })).toEqual({
      ...ALWAYS,
      'content-security-policy': `${CSP};upgrade-insecure-requests;connect-src 'self'`,
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    })
  })
})
