// Tenants and tenant resolution: creation, the caller's list, slugs, the
// current tenant, header and subdomain resolution, and no existence oracle.
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { createTestTenant, signUpUser } from '../helpers/tenancy.ts'

const ctx = await useTestApp({
  env: { BASE_DOMAIN: 'deskpilot.test', AUTH_RATE_LIMIT_MAX: '10000' },
})
const { app } = ctx
const acme = await createTestTenant(ctx, 'acme-corp')
const globex = await createTestTenant(ctx, 'globex-corp')

describe('tenants', () => {
  it('creates a tenant with the caller as owner and lists the caller’s tenants', async () => {
    const user = await signUpUser(ctx, 'founder')
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: user.headers,
      payload: { name: 'Initech', slug: 'initech' },
    })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json()).toMatchObject({
      name: 'Initech',
      slug: 'initech',
      settings: { aiReplyMode: 'off' },
    })
    const list = await app.inject({ url: '/v1/tenants', headers: user.headers })
    expect(list.json().data).toEqual([
      expect.objectContaining({
        slug: 'initech',
        role: expect.objectContaining({ name: 'owner' }),
      }),
    ])
    const again = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: user.headers,
      payload: { name: 'Other', slug: 'initech' },
    })
    expect(again.statusCode).toBe(409)
    expect(again.json().code).toBe('slug_taken')
  })

  it('rejects invalid and reserved slugs, and unknown fields', async () => {
    const user = await signUpUser(ctx, 'slugger')
    for (const slug of ['ab', 'Upper', '-dash', 'www', 'admin']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: user.headers,
        payload: { name: 'X', slug },
      })
      expect(res.statusCode, slug).toBe(400)
    }
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/tenants',
      headers: user.headers,
      payload: { name: 'X', slug: 'fine-slug', id: '00000000-0000-0000-0000-000000000000' },
    })
    expect(extra.statusCode).toBe(400)
    expect(extra.json().code).toBe('validation_failed')
  })

  it('reports slug availability', async () => {
    const check = async (slug: string) =>
      (await app.inject({ url: `/v1/tenants/slug-availability?slug=${slug}` })).json()
    expect(await check('acme-corp')).toEqual({
      slug: 'acme-corp',
      available: false,
      reason: 'taken',
    })
    expect(await check('www')).toEqual({ slug: 'www', available: false, reason: 'reserved' })
    expect(await check('no')).toMatchObject({ available: false, reason: 'invalid' })
    expect(await check('brand-new-co')).toEqual({ slug: 'brand-new-co', available: true })
  })

  it('reads and changes the current tenant, with tenant:manage', async () => {
    const read = await app.inject({ url: '/v1/tenant', headers: acme.agent.headers })
    expect(read.statusCode).toBe(200)
    expect(read.json()).toMatchObject({ id: acme.id, slug: 'acme-corp' })
    const denied = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: acme.agent.headers,
      payload: { settings: { aiReplyMode: 'auto' } },
    })
    expect(denied.statusCode).toBe(403)
    const changed = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: acme.admin.headers,
      payload: { settings: { aiReplyMode: 'draft' } },
    })
    expect(changed.statusCode).toBe(200)
    expect(changed.json().settings).toEqual({
      aiReplyMode: 'draft',
      aiTriage: 'off',
      customerPortal: 'invite',
    })
    const bad = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: acme.admin.headers,
      payload: { settings: { aiReplyMode: 'yolo' } },
    })
    expect(bad.statusCode).toBe(400)
  })

  it('resolves the tenant from the header (id or slug) or the subdomain; the header wins', async () => {
    const bySlug = await app.inject({ url: '/v1/tenant', headers: acme.owner.headers })
    expect(bySlug.json().id).toBe(acme.id)
    const byId = await app.inject({
      url: '/v1/tenant',
      headers: { ...acme.owner.headers, 'x-tenant-id': acme.id },
    })
    expect(byId.json().id).toBe(acme.id)
    const bySubdomain = await app.inject({
      url: '/v1/tenant',
      headers: {
        authorization: acme.owner.headers.authorization!,
        host: 'acme-corp.deskpilot.test',
      },
    })
    expect(bySubdomain.statusCode).toBe(200)
    expect(bySubdomain.json().id).toBe(acme.id)
    // Header and subdomain disagree: the header is followed.
    const disagree = await app.inject({
      url: '/v1/tenant',
      headers: {
        authorization: acme.owner.headers.authorization!,
        host: 'globex-corp.deskpilot.test',
        'x-tenant-id': 'acme-corp',
      },
    })
    expect(disagree.json().id).toBe(acme.id)
  })

  it('answers 400 tenant_required with no tenant, and the same 404 for unknown and foreign tenants', async () => {
    const none = await app.inject({
      url: '/v1/tenant',
      headers: { authorization: acme.owner.headers.authorization! },
    })
    expect(none.statusCode).toBe(400)
    expect(none.json().code).toBe('tenant_required')
    const foreign = await app.inject({
      url: '/v1/tenant',
      headers: { ...acme.owner.headers, 'x-tenant-id': 'globex-corp' },
    })
    const unknown = await app.inject({
      url: '/v1/tenant',
      headers: { ...acme.owner.headers, 'x-tenant-id': 'no-such-co' },
    })
    expect(foreign.statusCode).toBe(404)
    expect(unknown.statusCode).toBe(404)
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined })
    expect(strip(foreign.json())).toEqual(strip(unknown.json()))
    void globex
  })

  it('lets only an owner delete the tenant; afterwards it is gone for everyone', async () => {
    const doomed = await createTestTenant(ctx, 'doomed-co')
    const byAdmin = await app.inject({
      method: 'DELETE',
      url: '/v1/tenant',
      headers: doomed.admin.headers,
    })
    expect(byAdmin.statusCode).toBe(403)
    const byOwner = await app.inject({
      method: 'DELETE',
      url: '/v1/tenant',
      headers: doomed.owner.headers,
    })
    expect(byOwner.statusCode).toBe(204)
    const after = await app.inject({ url: '/v1/tenant', headers: doomed.owner.headers })
    expect(after.statusCode).toBe(404)
    const list = await app.inject({ url: '/v1/tenants', headers: doomed.owner.headers })
    expect(list.json().data).toEqual([])
  })
})
