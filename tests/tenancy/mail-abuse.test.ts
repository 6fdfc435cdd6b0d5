// The platform's mail as a spam and phishing relay, tried as the attacker did:
// a tenant named like a phishing message, a burst of invitations, the same
// address invited again and again. Names that read as links are refused; the
// quotas answer 429 with a stable code and Retry-After, and write nothing.
import { describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, signUpUser, uniqueEmail } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000', LOG_LEVEL: 'silent' } })
const { app } = ctx

const PHISHING_NAME = 'URGENT: your mailbox is suspended - verify at http://evil.test/login'

function invite(actor: Actor, email: string, roleId: string) {
  return app.inject({
    method: 'POST',
    url: '/v1/invitations',
    headers: actor.headers,
    payload: { email, roleId },
  })
}

async function writtenFor(tenantId: string) {
  const [row] = await ctx.sql<{ invitations: number; jobs: number }[]>`
    select (select count(*)::int from invitations where tenant_id = ${tenantId}) as invitations,
           (select count(*)::int from jobs where tenant_id = ${tenantId} and type = 'email'
              and payload->>'template' = 'invitation') as jobs`
  return row!
}

describe('tenant names', () => {
  it('refuses a name carrying a link or a domain, at creation, at signup and on rename', async () => {
    const user = await signUpUser(ctx, 'phisher')
    const refused = [
      PHISHING_NAME,
      'Verify at evil.test',
      'www.example',
      'Support HTTPS portal',
      'paypal[.]com',
      'ｅｖｉｌ．ｔｅｓｔ',
    ]
    for (const name of refused) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: user.headers,
        payload: { name, slug: `p-${Math.random().toString(36).slice(2, 10)}` },
      })
      expect(res.statusCode, name).toBe(422)
      expect(res.json()).toMatchObject({
        code: 'tenant_name_not_allowed',
        errors: [{ path: 'body/name' }],
      })
    }
    const kept = await ctx.sql`select 1 from tenants where name = any(${refused})`
    expect(kept).toHaveLength(0)

    const signup = await app.inject({
      method: 'POST',
      url: '/v1/auth/signup',
      payload: {
        email: uniqueEmail('signup-phisher'),
        password: 'correct horse battery staple 42',
        name: 'Mallory',
        tenant: { name: PHISHING_NAME, slug: 'mailbox-suspended' },
      },
    })
    expect(signup.statusCode).toBe(422)
    expect(signup.json()).toMatchObject({
      code: 'tenant_name_not_allowed',
      errors: [{ path: 'body/tenant/name' }],
    })
    const [account] = await ctx.sql`select 1 from users where name = 'Mallory'`
    expect(account).toBeUndefined()

    const acme = await createTestTenant(ctx)
    const rename = await app.inject({
      method: 'PATCH',
      url: '/v1/tenant',
      headers: acme.owner.headers,
      payload: { name: PHISHING_NAME },
    })
    expect(rename.statusCode).toBe(422)
    expect(rename.json().code).toBe('tenant_name_not_allowed')
    const [tenant] = await ctx.sql`select name from tenants where id = ${acme.id}`
    expect(tenant!.name).toBe(acme.slug)
  })

  it('still accepts ordinary names with dots and punctuation', async () => {
    const user = await signUpUser(ctx, 'founder')
    for (const name of ['Acme Inc.', 'St. Mary’s Clinic', 'R&D v2.1', 'Ça marche! S.A.']) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: user.headers,
        payload: { name, slug: `ok-${Math.random().toString(36).slice(2, 10)}` },
      })
      expect(res.statusCode, `${name}: ${res.body}`).toBe(201)
    }
  })
})

describe('invitation mail quotas', () => {
  it('30 invitations in a burst: the hourly quota (20) answers 429 with Retry-After for the rest', async () => {
    const acme = await createTestTenant(ctx)
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        invite(acme.admin, `victim-${i}@example.net`, acme.roles.customer),
      ),
    )
    const created = answers.filter((r) => r.statusCode === 201)
    const refused = answers.filter((r) => r.statusCode === 429)
    expect(created).toHaveLength(ctx.config.TENANT_MAIL_PER_HOUR)
    expect(refused).toHaveLength(30 - ctx.config.TENANT_MAIL_PER_HOUR)
    for (const res of refused) {
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json()).toMatchObject({ status: 429, code: 'mail_quota_exceeded' })
      const retryAfter = Number(res.headers['retry-after'])
      expect(retryAfter).toBeGreaterThan(3500)
      expect(retryAfter).toBeLessThanOrEqual(3600)
    }
    expect(await writtenFor(acme.id)).toEqual({
      invitations: ctx.config.TENANT_MAIL_PER_HOUR,
      jobs: ctx.config.TENANT_MAIL_PER_HOUR,
    })
  })

  it('the daily quota counts the whole day, not only the last hour', async () => {
    const acme = await createTestTenant(ctx)
    // Earlier today's invitations, each of which sent an email.
    await ctx.sql`
      insert into invitations (id, tenant_id, email, role_id, expires_at, created_at)
      select gen_random_uuid(), ${acme.id}, 'earlier-' || n || '@example.net', ${acme.roles.customer},
             now() + interval '6 days', now() - interval '3 hours'
      from generate_series(1, ${ctx.config.TENANT_MAIL_PER_DAY}) n`
    const res = await invite(acme.admin, 'one-more@example.net', acme.roles.customer)
    expect(res.statusCode).toBe(429)
    expect(res.json().code).toBe('mail_quota_exceeded')
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(20 * 3600)
    expect((await writtenFor(acme.id)).jobs).toBe(0)
  })

  it('5 invitations to one address: a cooldown, then a per-address daily quota', async () => {
    const acme = await createTestTenant(ctx)
    const victim = 'one-victim@example.net'
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await invite(acme.admin, victim, acme.roles.customer))
    expect(answers.map((r) => r.statusCode)).toEqual([201, 429, 429, 429, 429])
    for (const res of answers.slice(1)) {
      expect(res.json().code).toBe('invitation_cooldown')
      const retryAfter = Number(res.headers['retry-after'])
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(ctx.config.INVITE_COOLDOWN_SECONDS)
    }
    expect(await writtenFor(acme.id)).toEqual({ invitations: 1, jobs: 1 })
    // The same case and spacing tricks are the same address.
    const shouted = await invite(acme.admin, 'ONE-VICTIM@example.net', acme.roles.customer)
    expect(shouted.statusCode).toBe(429)

    // Past each cooldown, re-invites go out until the address's daily quota.
    const statuses: number[] = []
    for (let i = 1; i < 5; i++) {
      await ctx.sql`update invitations set created_at = created_at - interval '20 minutes'
                    where tenant_id = ${acme.id}`
      const res = await invite(acme.admin, victim, acme.roles.customer)
      statuses.push(res.statusCode)
      if (res.statusCode === 429) expect(res.json().code).toBe('mail_quota_exceeded')
    }
    const allowed = ctx.config.MAIL_PER_ADDRESS_PER_DAY
    expect(statuses).toEqual([...Array(allowed - 1).fill(201), ...Array(5 - allowed).fill(429)])
    expect(await writtenFor(acme.id)).toEqual({ invitations: allowed, jobs: allowed })

    // Another address of the same tenant is not held back by it.
    expect(
      (await invite(acme.admin, 'someone-else@example.net', acme.roles.agent)).statusCode,
    ).toBe(201)
  })
})
