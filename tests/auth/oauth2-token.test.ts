// POST /v1/auth/token as an OAuth2 client (and Swagger UI's Authorize button)
// uses it, and as an attacker probes it: the password and refresh grants with
// form bodies, RFC 6749 error bodies, the JSON login's lockout, limits and
// audit events, rotation reuse, and the oauth2 scheme in the OpenAPI document.
import { describe, expect, it } from 'vitest'
import { createTestApp, useTestApp } from '../helpers/app.ts'
import { bearer, signUp, uniqueEmail } from '../helpers/auth.ts'

const ctx = await useTestApp({
  env: { AUTH_RATE_LIMIT_MAX: '1000', LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '15' },
})
const { app } = ctx
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

function token(fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/v1/auth/token',
    headers: { ...FORM, ...headers },
    payload: new URLSearchParams(fields).toString(),
  })
}
const password = (username: string, pw: string) =>
  token({ grant_type: 'password', username, password: pw })

function expectOAuthError(res: Awaited<ReturnType<typeof token>>, status: number, error: string) {
  expect(res.statusCode, res.body).toBe(status)
  expect(res.headers['content-type']).toMatch(/^application\/json/)
  expect(res.headers['cache-control']).toBe('no-store')
  const body = res.json()
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description'])
  expect(body.error).toBe(error)
  expect(typeof body.error_description).toBe('string')
  return body as { error: string; error_description: string }
}

async function counts() {
  const [row] = await ctx.sql<{ sessions: number; events: number }[]>`
    select (select count(*)::int from sessions) as sessions,
           (select count(*)::int from audit_events) as events`
  return row!
}

describe('password grant', () => {
  it('answers the RFC 6749 token response, never cached, with a working access token', async () => {
    const s = await signUp(app)
    // What Swagger UI sends: an empty scope and a Basic header for an empty client.
    const res = await token(
      { grant_type: 'password', username: s.email, password: s.password, scope: '' },
      { authorization: `Basic ${Buffer.from(':').toString('base64')}` },
    )
    expect(res.statusCode, res.body).toBe(200)
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers.pragma).toBe('no-cache')
    expect(res.headers['set-cookie']).toBeUndefined()
    const body = res.json()
    expect(Object.keys(body).sort()).toEqual([
      'access_token',
      'expires_in',
      'refresh_token',
      'token_type',
    ])
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 })
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(body.access_token) })
    expect(me.statusCode).toBe(200)
    expect(me.json().user.id).toBe(s.user.id)
    const logins = await ctx.sql`
      select 1 from audit_events where action = 'auth.login' and actor_user_id = ${s.user.id}`
    expect(logins).toHaveLength(1)
  })

  it('a wrong password and an unknown user are the same invalid_grant, and audited', async () => {
    const s = await signUp(app)
    const wrong = expectOAuthError(
      await password(s.email, 'not the password'),
      400,
      'invalid_grant',
    )
    const unknown = expectOAuthError(
      await password(uniqueEmail('nobody'), 'not the password'),
      400,
      'invalid_grant',
    )
    expect(unknown).toEqual(wrong)
    const failed = await ctx.sql`
      select data->>'reason' as reason from audit_events
      where action = 'auth.login_failed' and actor_user_id = ${s.user.id}`
    expect(failed.map((f) => f.reason)).toEqual(['wrong_password'])
  })

  it('locks like the JSON login: one count per address across both doors', async () => {
    for (const email of [(await signUp(app)).email, uniqueEmail('nobody')]) {
      expectOAuthError(await password(email, 'wrong password one'), 400, 'invalid_grant')
      const json = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email, password: 'wrong password two' },
      })
      expect(json.statusCode).toBe(401)
      expectOAuthError(await password(email, 'wrong password three'), 400, 'invalid_grant')
      const locked = await password(email, 'a long enough test passphrase 42')
      const body = expectOAuthError(locked, 400, 'invalid_grant')
      expect(body.error_description).toMatch(/try again later/)
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(890)
      const viaJson = await app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email, password: 'a long enough test passphrase 42' },
      })
      expect(viaJson.statusCode).toBe(423)
    }
  })

  it("shares the JSON login's per-email limit, answering 429 temporarily_unavailable", async () => {
    const limited = await createTestApp({ env: { AUTH_RATE_LIMIT_MAX: '3' } })
    try {
      const email = uniqueEmail('target')
      const attempt = (remoteAddress: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/v1/auth/token',
          headers: FORM,
          remoteAddress,
          payload: new URLSearchParams({
            grant_type: 'password',
            username: email,
            password: 'a wrong password entirely',
          }).toString(),
        })
      const viaJson = await limited.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        remoteAddress: '10.1.0.1',
        payload: { email, password: 'a wrong password entirely' },
      })
      expect(viaJson.statusCode).toBe(401)
      expect((await attempt('10.1.0.2')).statusCode).toBe(400)
      expect((await attempt('10.1.0.3')).statusCode).toBe(400)
      // The fourth try at one address, from a fourth IP: the shared per-email limit.
      const sprayed = await attempt('10.1.0.4')
      expectOAuthError(sprayed, 429, 'temporarily_unavailable')
      expect(Number(sprayed.headers['retry-after'])).toBeGreaterThan(0)
    } finally {
      await limited.close()
    }
  })
})

describe('refresh grant', () => {
  it('rotates; a rotated token replayed revokes the session (invalid_grant, token_reused)', async () => {
    const s = await signUp(app)
    const first = await token({ grant_type: 'refresh_token', refresh_token: s.refreshToken })
    expect(first.statusCode, first.body).toBe(200)
    const next = first.json()
    expect(next.refresh_token).not.toBe(s.refreshToken)
    expect(next.token_type).toBe('Bearer')
    const second = await token({ grant_type: 'refresh_token', refresh_token: next.refresh_token })
    expect(second.statusCode).toBe(200)
    const newest = second.json()

    const replay = await token({ grant_type: 'refresh_token', refresh_token: s.refreshToken })
    const body = expectOAuthError(replay, 400, 'invalid_grant')
    expect(body.error_description).toMatch(/already used/)
    const dead = await token({ grant_type: 'refresh_token', refresh_token: newest.refresh_token })
    expectOAuthError(dead, 400, 'invalid_grant')
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(newest.access_token) })
    expect(me.statusCode).toBe(401)
    const [event] = await ctx.sql`
      select data->>'via' as via from audit_events
      where action = 'auth.token_reused' and actor_user_id = ${s.user.id} and tenant_id is null`
    expect(event?.via).toBe('refresh')
  })

  it('refuses an unknown refresh token', async () => {
    const res = await token({ grant_type: 'refresh_token', refresh_token: 'not-a-token' })
    expectOAuthError(res, 400, 'invalid_grant')
  })
})

describe('refusals, each writing nothing', () => {
  it('an unsupported grant, a bad content type, missing, unknown and repeated parameters', async () => {
    const s = await signUp(app)
    const before = await counts()
    expectOAuthError(
      await token({ grant_type: 'client_credentials', username: s.email, password: s.password }),
      400,
      'unsupported_grant_type',
    )
    // The same fields as JSON, and as text: not a token request.
    for (const [type, payload] of [
      [
        'application/json',
        JSON.stringify({ grant_type: 'password', username: s.email, password: s.password }),
      ],
      ['text/plain', `grant_type=password&username=${s.email}&password=x`],
    ] as const) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        headers: { 'content-type': type },
        payload,
      })
      expectOAuthError(res, 400, 'invalid_request')
    }
    expectOAuthError(
      await token({ grant_type: 'password', username: s.email }),
      400,
      'invalid_request',
    )
    expectOAuthError(await token({ grant_type: 'refresh_token' }), 400, 'invalid_request')
    expectOAuthError(
      await token({ grant_type: 'password', username: s.email, password: s.password, extra: '1' }),
      400,
      'invalid_request',
    )
    const repeated = await app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      headers: FORM,
      payload: `grant_type=password&username=${encodeURIComponent(s.email)}&password=a&password=${encodeURIComponent(s.password)}`,
    })
    expectOAuthError(repeated, 400, 'invalid_request')
    expectOAuthError(
      await token({
        grant_type: 'password',
        username: s.email,
        password: s.password,
        scope: 'admin',
      }),
      400,
      'invalid_scope',
    )
    expectOAuthError(
      await token(
        { grant_type: 'password', username: s.email, password: s.password },
        { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      ),
      400,
      'invalid_request',
    )
    expect(await counts()).toEqual(before)
  })
})

describe('OpenAPI', () => {
  it('declares the oauth2 password flow and offers it wherever a Bearer token is accepted', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json()
    expect(doc.components.securitySchemes.oauth2).toMatchObject({
      type: 'oauth2',
      flows: { password: { tokenUrl: '/v1/auth/token', scopes: {} } },
    })
    let bearerRoutes = 0
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const [method, op] of Object.entries(item as Record<string, { security?: object[] }>)) {
        const names = (op.security ?? []).flatMap((s) => Object.keys(s))
        if (!names.includes('bearerAuth')) continue
        bearerRoutes++
        expect(names, `${method} ${path}`).toContain('oauth2')
      }
    }
    expect(bearerRoutes).toBeGreaterThan(20)
    const tokenOp = doc.paths['/v1/auth/token'].post
    expect(Object.keys(tokenOp.requestBody.content)).toEqual(['application/x-www-form-urlencoded'])
    expect(tokenOp.security).toEqual([])
  })
})
