// The /v1/webhooks routes as a tenant's admin and as an attacker would use
// them: the secret shown once and sealed at rest, URLs that may not reach
// inside refused with nothing written, webhooks:manage required, another
// tenant's endpoints indistinguishable from none, no field the body may not
// set; and the deliveries every event writes in its own transaction, one per
// active endpoint whose filter takes it.
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } })
let acme: TestTenant
let globex: TestTenant

beforeAll(async () => {
  ;[acme, globex] = await Promise.all([createTestTenant(ctx), createTestTenant(ctx)])
})

function call(actor: Actor, method: string, url: string, payload?: unknown) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

async function createHook(actor: Actor, body: Record<string, unknown>) {
  const res = await call(actor, 'POST', '/v1/webhooks', body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; secret: string; active: boolean }
}

const rowCount = async (table: 'webhook_endpoints' | 'webhook_deliveries', tenantId: string) => {
  const [row] = await ctx.sql.unsafe<{ n: number }[]>(
    `select count(*)::int as n from ${table} where tenant_id = $1`,
    [tenantId],
  )
  return row!.n
}

describe('webhook endpoints', () => {
  it('answers the secret once, keeps it sealed, and audits the change', async () => {
    const res = await call(acme.admin, 'POST', '/v1/webhooks', {
      url: 'https://crm.example.com/hooks/deskpilot',
      events: ['ticket.created'],
      description: 'CRM',
    })
    expect(res.statusCode, res.body).toBe(201)
    const created = res.json()
    expect(res.headers.location).toBe(`/v1/webhooks/${created.id}`)
    expect(created).toMatchObject({
      url: 'https://crm.example.com/hooks/deskpilot',
      events: ['ticket.created'],
      active: true,
      description: 'CRM',
      disabledReason: null,
      previousSecretExpiresAt: null,
    })
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)

    const shown = (await call(acme.admin, 'GET', `/v1/webhooks/${created.id}`)).json()
    expect(shown).not.toHaveProperty('secret')
    const list = (await call(acme.admin, 'GET', '/v1/webhooks')).json()
    expect(list.data.map((w: { id: string }) => w.id)).toContain(created.id)
    expect(JSON.stringify(list)).not.toContain(created.secret.slice(6))

    const [row] = await ctx.sql<{ secret: string }[]>`
      select secret from webhook_endpoints where id = ${created.id}`
    expect(row!.secret).toMatch(/^v1\./)
    expect(row!.secret).not.toContain(created.secret.slice(6))
    const [audit] = await ctx.sql<{ action: string }[]>`
      select action from audit_events where target_id = ${created.id}`
    expect(audit?.action).toBe('webhook.created')
  })

  it.each([
    ['plain http', 'http://crm.example.com/hook'],
    ['loopback', 'https://127.0.0.1/hook'],
    ['localhost', 'https://localhost:8443/hook'],
    ['a private network', 'https://10.1.2.3/hook'],
    ['cloud metadata', 'https://169.254.169.254/latest/meta-data'],
    ['IPv6 loopback', 'https://[::1]/hook'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/hook'],
    ['credentials', 'https://user:pass@crm.example.com/hook'],
    ['another scheme', 'ftp://crm.example.com/hook'],
  ])('refuses %s with 422 invalid_webhook_url and writes nothing', async (_what, url) => {
    const before = await rowCount('webhook_endpoints', acme.id)
    const res = await call(acme.admin, 'POST', '/v1/webhooks', { url, events: ['*'] })
    expect(res.statusCode, res.body).toBe(422)
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(res.json()).toMatchObject({ code: 'invalid_webhook_url' })
    expect(await rowCount('webhook_endpoints', acme.id)).toBe(before)
  })

  it('refuses a PATCH to a forbidden URL and keeps the old one', async () => {
    const hook = await createHook(acme.admin, { url: 'https://a.example.com/h', events: ['*'] })
    const res = await call(acme.admin, 'PATCH', `/v1/webhooks/${hook.id}`, {
      url: 'https://192.168.1.1/h',
    })
    expect(res.statusCode).toBe(422)
    const shown = (await call(acme.admin, 'GET', `/v1/webhooks/${hook.id}`)).json()
    expect(shown.url).toBe('https://a.example.com/h')
  })

  it('takes no field a client may not set (no mass assignment)', async () => {
    for (const extra of [
      { secret: 'whsec_mine' },
      { tenantId: globex.id },
      { disabledReason: null },
    ]) {
      const res = await call(acme.admin, 'POST', '/v1/webhooks', {
        url: 'https://a.example.com/h',
        events: ['*'],
        ...extra,
      })
      expect(res.statusCode, JSON.stringify(extra)).toBe(400)
    }
    const unknownType = await call(acme.admin, 'POST', '/v1/webhooks', {
      url: 'https://a.example.com/h',
      events: ['ticket.exploded'],
    })
    expect(unknownType.statusCode).toBe(400)
  })

  it('needs webhooks:manage', async () => {
    const hook = await createHook(acme.admin, { url: 'https://a.example.com/h', events: ['*'] })
    for (const actor of [acme.agent, acme.customer]) {
      for (const [method, url] of [
        ['GET', '/v1/webhooks'],
        ['POST', '/v1/webhooks'],
        ['GET', `/v1/webhooks/${hook.id}`],
        ['POST', `/v1/webhooks/${hook.id}/rotate-secret`],
        ['GET', `/v1/webhooks/${hook.id}/deliveries`],
      ] as const) {
        const body =
          method === 'POST' ? { url: 'https://b.example.com/h', events: ['*'] } : undefined
        const res = await call(actor, method, url, body)
        expect(res.statusCode, `${method} ${url}`).toBe(403)
      }
    }
  })

  it("answers another tenant's endpoint exactly as one that does not exist", async () => {
    const theirs = await createHook(globex.admin, { url: 'https://g.example.com/h', events: ['*'] })
    const missing = '0193a0ca-0000-7000-8000-000000000000'
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['PATCH', '', { active: false }],
      ['DELETE', '', undefined],
      ['POST', '/rotate-secret', undefined],
      ['POST', '/test', undefined],
      ['GET', '/deliveries', undefined],
      ['POST', `/deliveries/${missing}/redeliver`, undefined],
    ] as const) {
      const cross = await call(acme.admin, method, `/v1/webhooks/${theirs.id}${path}`, body)
      const none = await call(acme.admin, method, `/v1/webhooks/${missing}${path}`, body)
      expect(cross.statusCode, `${method} ${path}`).toBe(404)
      const { requestId: _a, instance: _b, ...crossBody } = cross.json()
      const { requestId: _c, instance: _d, ...noneBody } = none.json()
      expect(crossBody).toEqual(noneBody)
    }
    const [row] = await ctx.sql<{ active: boolean; secret: string }[]>`
      select active, secret from webhook_endpoints where id = ${theirs.id}`
    expect(row!.active).toBe(true)
    expect(await rowCount('webhook_deliveries', globex.id)).toBe(0)
  })

  it('rotates the secret: a new one shown once, the old one kept for 24 hours', async () => {
    const hook = await createHook(acme.admin, { url: 'https://a.example.com/h', events: ['*'] })
    const res = await call(acme.admin, 'POST', `/v1/webhooks/${hook.id}/rotate-secret`)
    expect(res.statusCode, res.body).toBe(200)
    const rotated = res.json()
    expect(rotated.secret).toMatch(/^whsec_/)
    expect(rotated.secret).not.toBe(hook.secret)
    const expires = Date.parse(rotated.previousSecretExpiresAt)
    expect(Math.abs(expires - Date.now() - 24 * 3600_000)).toBeLessThan(60_000)
  })

  it('turns an endpoint off and on; on again clears why Deskpilot had turned it off', async () => {
    const hook = await createHook(acme.admin, { url: 'https://a.example.com/h', events: ['*'] })
    await ctx.sql`update webhook_endpoints set active = false, failing_since = now() - interval '4 days',
                  disabled_reason = 'failing' where id = ${hook.id}`
    const res = await call(acme.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { active: true })
    expect(res.json()).toMatchObject({ active: true, disabledReason: null, failingSince: null })
  })

  it('deletes an endpoint with its deliveries', async () => {
    const hook = await createHook(acme.admin, { url: 'https://a.example.com/h', events: ['*'] })
    expect((await call(acme.admin, 'DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(204)
    expect((await call(acme.admin, 'GET', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404)
    expect((await call(acme.admin, 'DELETE', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404)
  })
})

describe('deliveries written with their event', () => {
  it('one delivery and one job per active endpoint whose filter takes the event', async () => {
    const tenant = await createTestTenant(ctx)
    const all = await createHook(tenant.admin, { url: 'https://a.example.com/all', events: ['*'] })
    const created = await createHook(tenant.admin, {
      url: 'https://a.example.com/created',
      events: ['ticket.created'],
    })
    await createHook(tenant.admin, { url: 'https://a.example.com/c', events: ['contact.created'] })
    await createHook(tenant.admin, {
      url: 'https://a.example.com/off',
      events: ['*'],
      active: false,
    })
    const ticket = await call(tenant.agent, 'POST', '/v1/tickets', {
      subject: 'Printer on fire',
      body: 'It smokes',
      requester: { email: 'grace@example.com' },
    })
    expect(ticket.statusCode, ticket.body).toBe(201)
    const rows = await ctx.sql<
      { endpoint_id: string; type: string; state: string; event_id: string; job: string | null }[]
    >`select d.endpoint_id, d.type, d.state, d.event_id,
             (select j.type from jobs j where j.id = d.id) as job
      from webhook_deliveries d where d.tenant_id = ${tenant.id} order by d.type, d.endpoint_id`
    // The agent's new requester is a new contact: contact.created goes to "*" and to no other.
    const byType = (type: string) => rows.filter((r) => r.type === type).map((r) => r.endpoint_id)
    expect(byType('ticket.created').sort()).toEqual([all.id, created.id].sort())
    for (const row of rows) expect(row).toMatchObject({ state: 'pending', job: 'webhook' })
    const [event] = await ctx.sql<{ id: string }[]>`
      select id from events where tenant_id = ${tenant.id} and type = 'ticket.created'`
    expect(rows.find((r) => r.type === 'ticket.created')?.event_id).toBe(event!.id)
  })

  it('turning an endpoint off cancels its deliveries still waiting; later events make none', async () => {
    const tenant = await createTestTenant(ctx)
    const hook = await createHook(tenant.admin, { url: 'https://a.example.com/all', events: ['*'] })
    await call(tenant.agent, 'POST', '/v1/tickets', { subject: 'One', body: 'b' })
    const off = await call(tenant.admin, 'PATCH', `/v1/webhooks/${hook.id}`, { active: false })
    expect(off.json()).toMatchObject({ active: false })
    const states = async () =>
      (
        await ctx.sql<{ state: string }[]>`
          select state from webhook_deliveries where endpoint_id = ${hook.id}`
      ).map((r) => r.state)
    const before = await states()
    expect(before.length).toBeGreaterThan(0)
    expect(new Set(before)).toEqual(new Set(['cancelled']))
    await call(tenant.agent, 'POST', '/v1/tickets', { subject: 'Two', body: 'b' })
    expect(await states()).toHaveLength(before.length)
  })

  it('a change refused writes no event and no delivery', async () => {
    const tenant = await createTestTenant(ctx)
    await createHook(tenant.admin, { url: 'https://a.example.com/all', events: ['*'] })
    const before = await rowCount('webhook_deliveries', tenant.id)
    const refused = await call(tenant.agent, 'POST', '/v1/tickets', {
      subject: 'x',
      body: 'y',
      requesterId: '0193a0ca-0000-7000-8000-000000000000',
    })
    expect(refused.statusCode).toBe(422)
    expect(await rowCount('webhook_deliveries', tenant.id)).toBe(before)
  })

  it('the deliveries log answers newest first, each with its attempts', async () => {
    const tenant = await createTestTenant(ctx)
    const hook = await createHook(tenant.admin, { url: 'https://a.example.com/all', events: ['*'] })
    await call(tenant.agent, 'POST', '/v1/tickets', { subject: 'One', body: 'b' })
    await call(tenant.agent, 'POST', '/v1/tickets', { subject: 'Two', body: 'b' })
    const page = await call(tenant.admin, 'GET', `/v1/webhooks/${hook.id}/deliveries?limit=1`)
    expect(page.statusCode, page.body).toBe(200)
    const first = page.json()
    expect(first.data).toHaveLength(1)
    expect(first.data[0]).toMatchObject({ state: 'pending', attempts: [] })
    expect(['ticket.created', 'message.created']).toContain(first.data[0].type)
    const next = await call(
      tenant.admin,
      'GET',
      `/v1/webhooks/${hook.id}/deliveries?limit=1&cursor=${first.nextCursor}`,
    )
    expect(next.json().data[0].id).not.toBe(first.data[0].id)
  })
})
