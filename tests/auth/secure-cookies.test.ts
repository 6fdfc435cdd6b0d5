// Cookies as a production deployment sets them (COOKIE_SECURE=true, API.md
// Cookies): `__Host-` names, so each is Secure, Path=/ and has no Domain (a
// sibling tenant subdomain can neither plant nor shadow them); HSTS on every
// answer; the cookie flow works under those names, an unprefixed planted
// cookie is ignored, and the OpenAPI document names the cookie that is set.
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Cookie, cookieHeader, responseCookies, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000', COOKIE_SECURE: 'true' } })
const { app } = ctx
const browser = { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' }
const NAMES = ['__Host-dp_access', '__Host-dp_refresh', '__Host-dp_csrf']

function expectHostCookie(cookie: Cookie | undefined) {
  expect(cookie).toBeDefined()
  expect(cookie?.secure).toBe(true)
  expect(cookie?.path).toBe('/')
  expect(cookie?.domain).toBeUndefined()
}

describe('COOKIE_SECURE=true', () => {
  it('sets __Host- cookies: Secure, Path=/, no Domain, with the documented flags', async () => {
    const { cookies } = await signUp(app)
    expect(Object.keys(cookies).sort()).toEqual([...NAMES].sort())
    for (const name of NAMES) expectHostCookie(cookies[name])
    expect(cookies['__Host-dp_access']).toMatchObject({ httpOnly: true, sameSite: 'Lax' })
    expect(cookies['__Host-dp_refresh']).toMatchObject({ httpOnly: true, sameSite: 'Strict' })
    expect(cookies['__Host-dp_csrf']?.httpOnly).toBeFalsy()
  })

  it('sends HSTS on every answer, errors included', async () => {
    for (const url of ['/health', '/v1/auth/me', '/no-such-route']) {
      const res = await app.inject({ url })
      expect(res.headers['strict-transport-security'], url).toBe(
        'max-age=31536000; includeSubDomains',
      )
    }
  })

  it('refreshes and logs out by those cookies; what it clears is __Host- too', async () => {
    const s = await signUp(app)
    const me = await app.inject({ url: '/v1/auth/me', headers: cookieHeader(s.cookies) })
    expect(me.statusCode).toBe(200)
    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: {
        ...cookieHeader({ r: s.cookies['__Host-dp_refresh']! }),
        ...browser,
      },
    })
    expect(refreshed.statusCode, refreshed.body).toBe(200)
    const rotated = responseCookies(refreshed)
    for (const name of NAMES) expectHostCookie(rotated[name])

    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: {
        ...cookieHeader(rotated),
        ...browser,
        'x-csrf-token': refreshed.json().csrfToken,
      },
    })
    expect(out.statusCode, out.body).toBe(204)
    const cleared = responseCookies(out)
    for (const name of NAMES) {
      expectHostCookie(cleared[name])
      expect(cleared[name]?.value).toBe('')
    }
  })

  it('ignores an unprefixed cookie, as a sibling subdomain could plant one', async () => {
    const s = await signUp(app)
    const planted = await app.inject({
      url: '/v1/auth/me',
      headers: { cookie: `dp_access=${s.cookies['__Host-dp_access']!.value}` },
    })
    expect(planted.statusCode).toBe(401)
    expect(planted.json().code).toBe('unauthorized')
  })

  it('the OpenAPI cookieAuth scheme names the access cookie that is set', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json()
    expect(doc.components.securitySchemes.cookieAuth).toMatchObject({
      type: 'apiKey',
      in: 'cookie',
      name: '__Host-dp_access',
    })
  })
})
