// The signed-in user's profile: PATCH /v1/auth/me changes the name; PUT and
// DELETE /v1/auth/me/avatar set and remove an avatar, which must be a PNG,
// JPEG, GIF or WebP by its bytes (never SVG or HTML, whatever the client says)
// of at most 2 MiB; any signed-in caller reads it at the user's avatarUrl.
// Replacing or removing an avatar leaves no old file behind.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { bearer, cookieHeader, logIn, type SignedIn, signUp } from '../helpers/auth.ts'
import { fileForm, type MultipartBody, multipart, PNG } from '../helpers/multipart.ts'
import { createTestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } })
const { app } = ctx

const TWO_MIB = 2 * 1024 * 1024
const JPEG = Buffer.concat([
  Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
  randomBytes(200),
  Buffer.from('ffd9', 'hex'),
])
const GIF = Buffer.concat([
  Buffer.from('GIF89a'),
  Buffer.from('01000100800000', 'hex'),
  randomBytes(40),
])
const WEBP = (() => {
  const body = Buffer.concat([Buffer.from('WEBPVP8 '), randomBytes(60)])
  const size = Buffer.alloc(4)
  size.writeUInt32LE(body.length)
  return Buffer.concat([Buffer.from('RIFF'), size, body])
})()

function putAvatar(headers: Record<string, string>, body: MultipartBody) {
  return app.inject({
    method: 'PUT',
    url: '/v1/auth/me/avatar',
    headers: { ...headers, ...body.headers },
    payload: body.payload,
  })
}

function me(user: SignedIn) {
  return app.inject({ url: '/v1/auth/me', headers: bearer(user.accessToken) })
}

/** The avatar files stored for a user. */
function avatarFiles(userId: string): string[] {
  const dir = join(ctx.config.STORAGE_DIR, 'users', userId)
  return existsSync(dir) ? readdirSync(dir).sort() : []
}

async function withAvatar(user: SignedIn, image = PNG) {
  const res = await putAvatar(bearer(user.accessToken), fileForm('me.png', image))
  expect(res.statusCode, res.body).toBe(200)
  return res.json() as { avatarUrl: string }
}

describe('PATCH /v1/auth/me', () => {
  it('changes the name and answers the user as GET /v1/auth/me shows it', async () => {
    const user = await signUp(app, { name: 'Ada' })
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(user.accessToken),
      payload: { name: '  Ada Lovelace  ' },
    })
    expect(res.statusCode, res.body).toBe(200)
    const shown = (await me(user)).json().user
    expect(res.json()).toEqual(shown)
    expect(shown).toMatchObject({ id: user.user.id, name: 'Ada Lovelace', avatarUrl: null })
    // Login answers the same shape.
    expect((await logIn(app, user.email)).user).toEqual(shown)
  })

  it.each([
    ['an empty name', { name: '' }],
    ['a blank name', { name: '   ' }],
    ['a name of 201 characters', { name: 'x'.repeat(201) }],
    ['an unknown field', { name: 'Ada', isPlatformAdmin: true }],
    ['no name', {}],
  ])('refuses %s with 400, changing nothing', async (_case, payload) => {
    const user = await signUp(app, { name: 'Unchanged' })
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(user.accessToken),
      payload,
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('validation_failed')
    expect((await me(user)).json().user).toMatchObject({
      name: 'Unchanged',
      isPlatformAdmin: false,
    })
  })

  it('takes exactly 200 characters', async () => {
    const user = await signUp(app)
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: bearer(user.accessToken),
      payload: { name: 'y'.repeat(200) },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json().name).toHaveLength(200)
  })

  it('is for a signed-in user: no credential is 401, an API key 403', async () => {
    const t = await createTestTenant(ctx)
    const key = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: t.owner.headers,
      payload: { name: 'Key', permissions: ['tickets:read'] },
    })
    const anonymous = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      payload: { name: 'Nobody' },
    })
    expect(anonymous.statusCode).toBe(401)
    const byKey = await app.inject({
      method: 'PATCH',
      url: '/v1/auth/me',
      headers: { authorization: `Bearer ${key.json().key}` },
      payload: { name: 'A key' },
    })
    expect(byKey.statusCode).toBe(403)
    expect(byKey.json().code).toBe('user_required')
  })
})

describe('PUT /v1/auth/me/avatar', () => {
  it.each([
    ['PNG', PNG, 'image/png'],
    ['JPEG', JPEG, 'image/jpeg'],
    ['GIF', GIF, 'image/gif'],
    ['WebP', WEBP, 'image/webp'],
  ])('takes a %s and serves it at avatarUrl to any signed-in user', async (_kind, image, type) => {
    const user = await signUp(app)
    // The client's word for the type counts for nothing.
    const res = await putAvatar(bearer(user.accessToken), fileForm('me', image, 'text/html'))
    expect(res.statusCode, res.body).toBe(200)
    const { avatarUrl } = res.json()
    expect(avatarUrl).toMatch(new RegExp(`^/v1/users/${user.user.id}/avatar\\?v=[0-9a-f-]{36}$`))
    expect((await me(user)).json().user.avatarUrl).toBe(avatarUrl)
    const stranger = await signUp(app)
    const image200 = await app.inject({ url: avatarUrl, headers: bearer(stranger.accessToken) })
    expect(image200.statusCode).toBe(200)
    expect(image200.rawPayload.equals(image)).toBe(true)
    expect(image200.headers['content-type']).toBe(type)
    expect(image200.headers['x-content-type-options']).toBe('nosniff')
    expect(image200.headers['cache-control']).toBe('private, max-age=86400')
    // Not for the anonymous.
    expect((await app.inject({ url: avatarUrl })).statusCode).toBe(401)
  })

  it.each([
    [
      'an SVG with a script',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      'image/svg+xml',
    ],
    ['an HTML page', '<!doctype html><script>alert(1)</script>', 'image/png'],
    ['a PDF', '%PDF-1.7\n1 0 obj\n<<>>\nendobj\n', 'image/png'],
  ])('refuses %s with 415 image_required, keeping the avatar it had', async (_c, content, type) => {
    const user = await signUp(app)
    const { avatarUrl } = await withAvatar(user)
    const files = avatarFiles(user.user.id)
    const res = await putAvatar(bearer(user.accessToken), fileForm('me.svg', content, type))
    expect(res.statusCode).toBe(415)
    expect(res.json().code).toBe('image_required')
    expect(avatarFiles(user.user.id)).toEqual(files)
    expect((await me(user)).json().user.avatarUrl).toBe(avatarUrl)
  })

  it('refuses an image over 2 MiB with 413, keeping nothing of it', async () => {
    const user = await signUp(app)
    const big = Buffer.concat([PNG, randomBytes(TWO_MIB)])
    const res = await putAvatar(bearer(user.accessToken), fileForm('big.png', big))
    expect(res.statusCode).toBe(413)
    expect(res.json().code).toBe('payload_too_large')
    expect(avatarFiles(user.user.id)).toEqual([])
    expect((await me(user)).json().user.avatarUrl).toBeNull()
  })

  it('replaces the avatar and deletes the old file', async () => {
    const user = await signUp(app)
    const first = await withAvatar(user)
    const [firstFile] = avatarFiles(user.user.id)
    const second = await withAvatar(user, JPEG)
    expect(second.avatarUrl).not.toBe(first.avatarUrl)
    const files = avatarFiles(user.user.id)
    expect(files).toHaveLength(1)
    expect(files).not.toContain(firstFile)
    expect(files[0]).toMatch(/\.jpg$/)
    // The old URL serves the current avatar.
    const old = await app.inject({ url: first.avatarUrl, headers: bearer(user.accessToken) })
    expect(old.headers['content-type']).toBe('image/jpeg')
  })

  it('refuses a body with more than the one file, keeping the avatar it had', async () => {
    const user = await signUp(app)
    const { avatarUrl } = await withAvatar(user)
    const files = avatarFiles(user.user.id)
    const res = await putAvatar(
      bearer(user.accessToken),
      multipart([
        { name: 'file', filename: 'a.png', content: PNG },
        { name: 'file', filename: 'b.png', content: PNG },
      ]),
    )
    expect(res.statusCode).toBe(400)
    expect(res.json().code).toBe('invalid_upload')
    expect(avatarFiles(user.user.id)).toEqual(files)
    expect((await me(user)).json().user.avatarUrl).toBe(avatarUrl)
  })

  it('refuses a body that is not multipart with 415', async () => {
    const user = await signUp(app)
    const res = await app.inject({
      method: 'PUT',
      url: '/v1/auth/me/avatar',
      headers: bearer(user.accessToken),
      payload: { file: PNG.toString('base64') },
    })
    expect(res.statusCode).toBe(415)
    expect(res.json().code).toBe('unsupported_media_type')
  })

  it('takes an upload from a cookie session with its CSRF token', async () => {
    const user = await signUp(app)
    const headers = {
      ...cookieHeader(user.cookies),
      origin: 'http://localhost:5173',
      'x-csrf-token': user.csrfToken,
    }
    const res = await putAvatar(headers, fileForm('me.png', PNG))
    expect(res.statusCode, res.body).toBe(200)
    const { 'x-csrf-token': _token, ...withoutToken } = headers
    const forged = await putAvatar(withoutToken, fileForm('me.png', PNG))
    expect(forged.json().code).toBe('csrf_failed')
    expect(avatarFiles(user.user.id)).toHaveLength(1)
  })
})

describe('DELETE /v1/auth/me/avatar', () => {
  it('removes the avatar and its file; the URL answers 404', async () => {
    const user = await signUp(app)
    const { avatarUrl } = await withAvatar(user)
    const res = await app.inject({
      method: 'DELETE',
      url: '/v1/auth/me/avatar',
      headers: bearer(user.accessToken),
    })
    expect(res.statusCode).toBe(204)
    expect((await me(user)).json().user.avatarUrl).toBeNull()
    expect(avatarFiles(user.user.id)).toEqual([])
    const gone = await app.inject({ url: avatarUrl, headers: bearer(user.accessToken) })
    expect(gone.statusCode).toBe(404)
    expect(gone.json().code).toBe('not_found')
    // Removing none is no error.
    const again = await app.inject({
      method: 'DELETE',
      url: '/v1/auth/me/avatar',
      headers: bearer(user.accessToken),
    })
    expect(again.statusCode).toBe(204)
  })
})

describe('GET /v1/users/{id}/avatar', () => {
  it('answers 404 for a user without an avatar and for no such user', async () => {
    const user = await signUp(app)
    for (const id of [user.user.id, '0193a0c4-0000-7000-8000-000000000000']) {
      const res = await app.inject({
        url: `/v1/users/${id}/avatar`,
        headers: bearer(user.accessToken),
      })
      expect(res.statusCode).toBe(404)
    }
  })
})
