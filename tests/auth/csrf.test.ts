// The CSRF matrix of API.md's cookie paragraph. The API is api.example.com,
// the SPA app.example.com (an allowed origin on another subdomain of the same
// site); acme.example.com is a sibling tenant subdomain: same-site, but not
// allowed. Every refused request must also change nothing.
import { beforeEach, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { bearer, cookieHeader, logIn, type SignedIn, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    PUBLIC_URL: 'https://api.example.com',
    CORS_ORIGINS: 'https://app.example.com',
  },
})
const { app } = ctx
const SPA = { origin: 'https://app.example.com', 'sec-fetch-site': 'same-site' }

let victim: SignedIn
let otherSession: SignedIn

beforeEach(async () => {
  victim = await signUp(app)
  otherSession = await logIn(app, victim.email)
})

/** The state change under test: revoking the victim's other session. */
function revokeOthers(headers: Record<string, string>, payload?: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/sessions/revoke-others',
    headers: { ...cookieHeader(victim.cookies), ...headers },
    ...(payload === undefined ? {} : { payload }),
  })
}

async function expectUnchanged() {
  const me = await app.inject({ url: '/v1/auth/me', headers: bearer(otherSession.accessToken) })
  expect(me.statusCode).toBe(200)
}

async function expectCsrfFailed(response: Awaited<ReturnType<typeof revokeOthers>>) {
  expect(response.statusCode).toBe(403)
  expect(response.json().code).toBe('csrf_failed')
  await expectUnchanged()
}

describe('cookie-authenticated state changes', () => {
  it('are refused without X-CSRF-Token', async () => {
    await expectCsrfFailed(await revokeOthers(SPA))
  })

  it("are refused with another session's token (or a planted csrf cookie)", async () => {
    await expectCsrfFailed(await revokeOthers({ ...SPA, 'x-csrf-token': otherSession.csrfToken }))
    await expectCsrfFailed(await revokeOthers({ ...SPA, 'x-csrf-token': 'forged' }))
  })

  it('are refused from a foreign origin', async () => {
    await expectCsrfFailed(
      await revokeOthers({
        origin: 'https://evil.example.org',
        'sec-fetch-site': 'cross-site',
        'x-csrf-token': victim.csrfToken,
      }),
    )
    await expectCsrfFailed(await revokeOthers({ origin: 'null', 'x-csrf-token': victim.csrfToken }))
  })

  it('are refused from a sibling tenant subdomain although it is same-site', async () => {
    await expectCsrfFailed(
      await revokeOthers({
        origin: 'https://acme.example.com',
        'sec-fetch-site': 'same-site',
        'x-csrf-token': victim.csrfToken,
      }),
    )
  })

  it('are refused with Sec-Fetch-Site: cross-site even from an allowed origin', async () => {
    await expectCsrfFailed(
      await revokeOthers({
        origin: 'https://app.example.com',
        'sec-fetch-site': 'cross-site',
        'x-csrf-token': victim.csrfToken,
      }),
    )
  })

  it('are refused with neither Origin nor Sec-Fetch-Site', async () => {
    await expectCsrfFailed(await revokeOthers({ 'x-csrf-token': victim.csrfToken }))
    await expectCsrfFailed(
      await revokeOthers({ 'sec-fetch-site': 'same-site', 'x-csrf-token': victim.csrfToken }),
    )
  })

  it('are refused as text/plain (415)', async () => {
    const response = await revokeOthers(
      { ...SPA, 'x-csrf-token': victim.csrfToken, 'content-type': 'text/plain' },
      '{}',
    )
    expect(response.statusCode).toBe(415)
    await expectUnchanged()
  })

  it('DELETE is checked too', async () => {
    const response = await app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${await sessionIdOf(otherSession)}`,
      headers: { ...cookieHeader(victim.cookies), ...SPA },
    })
    await expectCsrfFailed(response)
  })

  it('succeed from the allowed origin on another subdomain with the right token', async () => {
    const response = await revokeOthers({ ...SPA, 'x-csrf-token': victim.csrfToken })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ revoked: 1 })
  })

  it("succeed from the API's own origin", async () => {
    const response = await revokeOthers(
      {
        origin: 'https://api.example.com',
        'sec-fetch-site': 'same-origin',
        'x-csrf-token': victim.csrfToken,
        'content-type': 'application/json; charset=utf-8',
      },
      '{}',
    )
    expect(response.statusCode).toBe(200)
  })

  it('safe methods need no token', async () => {
    const me = await app.inject({ url: '/v1/auth/me', headers: cookieHeader(victim.cookies) })
    expect(me.statusCode).toBe(200)
  })
})

describe('Bearer requests', () => {
  it('need none of it, and a Bearer header wins over a cookie', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/auth/sessions/revoke-others',
      headers: {
        ...bearer(victim.accessToken),
        ...cookieHeader(otherSession.cookies),
        origin: 'https://evil.example.org',
      },
    })
    expect(response.statusCode).toBe(200)
    // The Bearer's session survived; the cookie's was the "other" one.
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(victim.accessToken) })
    expect(me.statusCode).toBe(200)
  })
})

describe('login CSRF', () => {
  const login = (headers: Record<string, string>, payload?: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      headers,
      payload: payload ?? JSON.stringify({ email: victim.email, password: victim.password }),
    })

  it('refuses a foreign origin and cross-site fetches, and non-JSON bodies', async () => {
    const json = { 'content-type': 'application/json' }
    expect((await login({ ...json, origin: 'https://evil.example.org' })).statusCode).toBe(403)
    expect((await login({ ...json, 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403)
    const form = await login(
      { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://app.example.com' },
      'email=a&password=b',
    )
    expect(form.statusCode).toBe(415)
  })

  it('lets the SPA and non-browser clients log in', async () => {
    const json = { 'content-type': 'application/json' }
    expect((await login({ ...json, ...SPA })).statusCode).toBe(200)
    expect((await login(json)).statusCode).toBe(200)
  })

  it('refuses a refresh by cookie from a foreign or unidentified origin', async () => {
    const refresh = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        headers: { ...cookieHeader(victim.cookies), ...headers },
      })
    expect(
      (await refresh({ origin: 'https://acme.example.com', 'sec-fetch-site': 'same-site' }))
        .statusCode,
    ).toBe(403)
    expect((await refresh({})).statusCode).toBe(403)
    expect((await refresh(SPA)).statusCode).toBe(200)
  })
})

async function sessionIdOf(s: SignedIn): Promise<string> {
  const payload = s.accessToken.split('.')[1] as string
  return JSON.parse(Buffer.from(payload, 'base64url').toString()).sid
}
