// Signup, login, me, refresh and logout by Bearer and by cookie; the cookies'
// attributes; sessions; unknown fields; the bootstrap admin.
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import {
  bearer,
  cookieHeader,
  logIn,
  responseCookies,
  signUp,
  uniqueEmail,
} from '../helpers/auth.ts'

const ctx = await useTestApp({
  env: {
    AUTH_RATE_LIMIT_MAX: '1000',
    ADMIN_EMAIL: 'root@example.com',
    ADMIN_PASSWORD: 'bootstrap admin password',
  },
})
const { app } = ctx
const browser = { origin: 'http://localhost:5173', 'sec-fetch-site': 'same-site' }

describe('by Bearer', () => {
  it('signs up, reads me, refreshes and logs out', async () => {
    const s = await signUp(app)
    expect(s.user.email).toBe(s.email)
    expect(s.accessToken.split('.')).toHaveLength(3)
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.statusCode).toBe(200)
    expect(me.json()).toMatchObject({
      user: { id: s.user.id, emailVerified: false },
      memberships: [],
    })

    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: s.refreshToken },
    })
    expect(refreshed.statusCode).toBe(200)
    const pair = refreshed.json()
    expect(pair.refreshToken).not.toBe(s.refreshToken)
    expect(pair.tokenType).toBe('Bearer')
    expect(refreshed.cookies).toHaveLength(0)

    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: bearer(pair.accessToken),
    })
    expect(out.statusCode).toBe(204)
    const after = await app.inject({ url: '/v1/auth/me', headers: bearer(pair.accessToken) })
    expect(after.statusCode).toBe(401)
    expect(after.headers['content-type']).toMatch(/application\/problem\+json/)
  })

  it('logs in with the email in any case', async () => {
    const s = await signUp(app)
    const again = await logIn(app, s.email.toUpperCase())
    expect(again.user.id).toBe(s.user.id)
  })

  it('signs up with a tenant and lists the membership in me', async () => {
    const slug = `acme-${Date.now().toString(36)}`
    const s = await signUp(app, { tenant: { name: 'Acme', slug } })
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    const [membership] = me.json().memberships
    expect(membership.tenant).toMatchObject({ name: 'Acme', slug })
    expect(membership.role.name).toBe('owner')
    expect(membership.permissions).toContain('tenant:manage')
  })

  it('queues a verification email in the outbox', async () => {
    const s = await signUp(app)
    const rows = await ctx.sql`select payload from jobs where payload->>'userId' = ${s.user.id}`
    expect(rows.map((r) => r.payload)).toEqual([{ template: 'verify-email', userId: s.user.id }])
  })

  it('refuses a taken email, weak passwords and unknown fields', async () => {
    const s = await signUp(app)
    const taken = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email: s.email.toUpperCase(), password: 'another long password 1', name: 'x' },
    })
    expect(taken.statusCode).toBe(409)
    for (const password of ['short', 'password1234', 'x'.repeat(257)]) {
      const weak = await app.inject({
        method: 'POST',
        url: '/v1/auth/signup',
        payload: { email: uniqueEmail(), password, name: 'x' },
      })
      expect(weak.statusCode).toBe(400)
    }
    const email = uniqueEmail()
    const same = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: { email, password: email, name: 'x' },
    })
    expect(same.json().code).toBe('weak_password')
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: {
        email: uniqueEmail(),
        password: 'a fine long password',
        name: 'x',
        isPlatformAdmin: true,
      },
    })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().code).toBe('validation_failed')
    const loginExtra = await app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { email: s.email, password: s.password, admin: true },
    })
    expect(loginExtra.statusCode).toBe(400)
  })
})

describe('by cookie', () => {
  it('signs up, reads me, changes state with the CSRF token, refreshes and logs out', async () => {
    const s = await signUp(app)
    const me = await app.inject({ url: '/v1/auth/me', headers: cookieHeader(s.cookies) })
    expect(me.statusCode).toBe(200)

    const csrf = await app.inject({ url: '/v1/auth/csrf', headers: cookieHeader(s.cookies) })
    expect(csrf.json().csrfToken).toBe(s.csrfToken)

    const other = await logIn(app, s.email)
    const revoke = await app.inject({
      method: 'POST',
      url: '/v1/auth/sessions/revoke-others',
      headers: { ...cookieHeader(s.cookies), ...browser, 'x-csrf-token': s.csrfToken },
    })
    expect(revoke.statusCode).toBe(200)
    expect(revoke.json()).toEqual({ revoked: 1 })
    const dead = await app.inject({ url: '/v1/auth/me', headers: bearer(other.accessToken) })
    expect(dead.statusCode).toBe(401)

    const refreshed = await app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: { ...cookieHeader(s.cookies), ...browser },
    })
    expect(refreshed.statusCode).toBe(200)
    const body = refreshed.json()
    expect(body.refreshToken).toBeUndefined()
    expect(body.accessToken).toBeUndefined()
    expect(body.csrfToken).toBe(s.csrfToken)
    const jar = { ...s.cookies, ...responseCookies(refreshed) }
    expect(jar.dp_refresh?.value).not.toBe(s.refreshToken)

    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { ...cookieHeader(jar), ...browser, 'x-csrf-token': s.csrfToken },
    })
    expect(out.statusCode).toBe(204)
    const cleared = responseCookies(out)
    expect(cleared.dp_access?.value).toBe('')
    expect(cleared.dp_refresh?.value).toBe('')
    const after = await app.inject({ url: '/v1/auth/me', headers: cookieHeader(jar) })
    expect(after.statusCode).toBe(401)
  })

  it('logs out with only the refresh cookie once the access cookie is gone', async () => {
    const s = await signUp(app)
    const { dp_refresh } = s.cookies
    const out = await app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { ...cookieHeader({ dp_refresh: dp_refresh! }), ...browser },
    })
    expect(out.statusCode).toBe(204)
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(s.accessToken) })
    expect(me.statusCode).toBe(401)
  })

  it('sets the cookies with the attributes API.md gives (COOKIE_SECURE=false)', async () => {
    const { cookies } = await signUp(app)
    expect(cookies.dp_access).toMatchObject({
      path: '/',
      httpOnly: true,
      sameSite: 'Lax',
      maxAge: 900,
    })
    expect(cookies.dp_access?.secure).toBeFalsy()
    expect(cookies.dp_refresh).toMatchObject({
      path: '/v1/auth',
      httpOnly: true,
      sameSite: 'Strict',
    })
    expect(cookies.dp_csrf?.httpOnly).toBeFalsy()
    expect(cookies.dp_csrf?.sameSite).toBe('Lax')
    for (const c of Object.values(cookies)) expect(c.domain).toBeUndefined()
  })
})

describe('sessions', () => {
  it('lists own sessions and revokes one; another user’s session is 404', async () => {
    const s = await signUp(app)
    const second = await logIn(app, s.email)
    const list = await app.inject({ url: '/v1/auth/sessions', headers: bearer(s.accessToken) })
    expect(list.statusCode).toBe(200)
    const { data, nextCursor } = list.json()
    expect(data).toHaveLength(2)
    expect(nextCursor).toBeNull()
    expect(data.filter((x: { current: boolean }) => x.current)).toHaveLength(1)
    const page = await app.inject({
      url: '/v1/auth/sessions?limit=1',
      headers: bearer(s.accessToken),
    })
    const next = await app.inject({
      url: `/v1/auth/sessions?limit=1&cursor=${page.json().nextCursor}`,
      headers: bearer(s.accessToken),
    })
    expect(next.json().data[0].id).not.toBe(page.json().data[0].id)

    const stranger = await signUp(app)
    const secondId = data.find((x: { current: boolean }) => !x.current).id
    const foreign = await app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${secondId}`,
      headers: bearer(stranger.accessToken),
    })
    expect(foreign.statusCode).toBe(404)
    const own = await app.inject({
      method: 'DELETE',
      url: `/v1/auth/sessions/${secondId}`,
      headers: bearer(s.accessToken),
    })
    expect(own.statusCode).toBe(204)
    const dead = await app.inject({ url: '/v1/auth/me', headers: bearer(second.accessToken) })
    expect(dead.statusCode).toBe(401)
    const audit = await ctx.sql`select action from audit_events where target_id = ${secondId}`
    expect(audit.map((r) => r.action)).toContain('auth.session_revoked')
  })
})

describe('bootstrap admin', () => {
  it('exists once, as platform admin, and can log in', async () => {
    const rows = await ctx.sql`select is_platform_admin from users where email = 'root@example.com'`
    expect(rows).toEqual([{ is_platform_admin: true }])
    const admin = await logIn(app, 'root@example.com', 'bootstrap admin password')
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(admin.accessToken) })
    expect(me.json().user.isPlatformAdmin).toBe(true)
  })
})
