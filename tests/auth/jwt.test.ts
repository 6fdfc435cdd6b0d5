// Access tokens as an attacker would try them: tampered, expired, wrong
// audience or issuer, alg none, another algorithm, a wrong key, a wrong type,
// a missing claim; each gets 401 problem+json. A key from JWT_PREVIOUS_SECRETS
// still verifies, by its kid.
import { createHmac, randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { bearer, type SignedIn, signUp } from '../helpers/auth.ts'

const OLD_SECRET = 'the-previous-signing-secret-still-accepted-0123456789'
const ctx = await useTestApp({
  env: { AUTH_RATE_LIMIT_MAX: '1000', JWT_PREVIOUS_SECRETS: OLD_SECRET },
})
const { app } = ctx
const SECRET = ctx.config.JWT_SECRET

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const kidOf = (secret: string) =>
  createHmac('sha256', secret).update('deskpilot:jwt-kid').digest('base64url').slice(0, 16)

function sign(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: string | null,
) {
  const input = `${b64(header)}.${b64(payload)}`
  const alg = header.alg === 'HS512' ? 'sha512' : 'sha256'
  const signature = key === null ? '' : createHmac(alg, key).update(input).digest('base64url')
  return `${input}.${signature}`
}

let s: SignedIn
let claims: Record<string, unknown>
let header: Record<string, unknown>

beforeAll(async () => {
  s = await signUp(app)
  const [h, p] = s.accessToken.split('.') as [string, string]
  header = JSON.parse(Buffer.from(h, 'base64url').toString())
  claims = JSON.parse(Buffer.from(p, 'base64url').toString())
})

async function me(token: string) {
  return app.inject({ url: '/v1/auth/me', headers: bearer(token) })
}

async function expectRefused(token: string) {
  const response = await me(token)
  expect(response.statusCode).toBe(401)
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
  expect(response.json()).toMatchObject({ status: 401, code: 'invalid_token' })
}

describe('access tokens', () => {
  it('carry the documented header and claims', () => {
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt', kid: kidOf(SECRET) })
    expect(claims).toMatchObject({ sub: s.user.id, iss: 'deskpilot', aud: 'deskpilot-api' })
    for (const claim of ['sid', 'jti', 'iat', 'exp']) expect(claims[claim]).toBeDefined()
    expect((claims.exp as number) - (claims.iat as number)).toBe(900)
  })

  it('a hand-made token with the right key and claims is accepted (the harness is sound)', async () => {
    const token = sign(header, { ...claims, jti: randomUUID() }, SECRET)
    expect((await me(token)).statusCode).toBe(200)
  })

  it('a key from JWT_PREVIOUS_SECRETS verifies by its kid', async () => {
    const token = sign({ ...header, kid: kidOf(OLD_SECRET) }, claims, OLD_SECRET)
    expect((await me(token)).statusCode).toBe(200)
    // ...but not under the current key's kid.
    await expectRefused(sign(header, claims, OLD_SECRET))
  })

  it('refuses a tampered payload', async () => {
    const [h, , sig] = s.accessToken.split('.')
    const forged = b64({ ...claims, sub: randomUUID() })
    await expectRefused(`${h}.${forged}.${sig}`)
  })

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000)
    await expectRefused(sign(header, { ...claims, iat: now - 1000, exp: now - 100 }, SECRET))
  })

  it('refuses a wrong audience or issuer', async () => {
    await expectRefused(sign(header, { ...claims, aud: 'another-api' }, SECRET))
    await expectRefused(sign(header, { ...claims, iss: 'someone-else' }, SECRET))
  })

  it('refuses alg none, another algorithm and a wrong key', async () => {
    await expectRefused(sign({ ...header, alg: 'none' }, claims, null))
    await expectRefused(sign({ ...header, alg: 'HS512' }, claims, SECRET))
    await expectRefused(sign(header, claims, 'a-wrong-key-of-sufficient-length-0123456789'))
    await expectRefused(sign({ ...header, kid: 'unknown-kid' }, claims, SECRET))
  })

  it('refuses another token type and missing claims', async () => {
    await expectRefused(sign({ ...header, typ: 'JWT' }, claims, SECRET))
    const { typ: _typ, ...untyped } = header
    await expectRefused(sign(untyped, claims, SECRET))
    for (const claim of ['sub', 'sid', 'jti', 'iat', 'exp']) {
      const { [claim]: _, ...rest } = claims
      await expectRefused(sign(header, rest, SECRET))
    }
    await expectRefused(sign(header, { ...claims, sid: 'not-a-uuid' }, SECRET))
  })

  it('refuses opaque tokens and malformed headers', async () => {
    await expectRefused(s.refreshToken)
    await expectRefused('dp_notakeyatall')
    const malformed = await app.inject({ url: '/v1/auth/me', headers: { authorization: 'Bearer' } })
    expect(malformed.statusCode).toBe(401)
    const basic = await app.inject({ url: '/v1/auth/me', headers: { authorization: 'Basic eDp5' } })
    expect(basic.statusCode).toBe(401)
  })

  it('refuses a token whose user does not own the session', async () => {
    const other = await signUp(app)
    await expectRefused(sign(header, { ...claims, sub: other.user.id }, SECRET))
  })
})
