// AI per tenant: the settings routes as an admin and as an attacker would use
// them (the key write-only and sealed, base URLs that may not reach inside,
// ai:manage required), the tenant's own key and model used by its reply jobs
// against an OpenAI-compatible server on loopback, the platform's key never
// sent to a tenant's URL, every generation recorded, and the token budget.
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { Config } from '../../src/config.ts'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { useTestApp } from '../helpers/app.ts'
import { startLlmStub } from '../helpers/llm-stub.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'
import { api, runAiJob } from './arrange.ts'

const stub = await startLlmStub()
const platformKey = 'sk-platform-key-never-for-tenants'
const ctx = await useTestApp({
  env: {
    AUTH_RATE_LIMIT_MAX: '10000',
    AI_PROVIDER: 'builtin',
    AI_BASE_URL: 'https://api.openai.example/v1',
    AI_API_KEY: platformKey,
    AI_TIMEOUT_MS: '1000',
    AI_MAX_RETRIES: '0',
    // The stub listens on 127.0.0.1: tenants may point at private addresses here.
    AI_ALLOW_PRIVATE_NETWORKS: 'true',
  },
})
afterAll(() => stub.close())
beforeEach(() => stub.reset())
const { setMode, openTicket, aiJobs, article } = api(ctx)

function call(actor: Actor, method: string, url: string, payload?: unknown) {
  return ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  })
}

const run = (job: QueuedJob, config: Partial<Config> = {}) => runAiJob(ctx, job, config)

async function replyJob(t: TestTenant): Promise<QueuedJob> {
  const ticket = await openTicket(t.customer, 'Locked out', 'I forgot my password.')
  const [row] = await aiJobs(ticket.id)
  if (!row) throw new Error('no ai-reply job')
  return { id: row.id, queue: 'ai-reply', tenantId: t.id }
}

describe('AI settings', () => {
  it("shows the platform's settings until the tenant sets its own", async () => {
    const t = await createTestTenant(ctx)
    const res = await call(t.admin, 'GET', '/v1/ai/settings')
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      provider: 'builtin',
      baseUrl: 'https://api.openai.example/v1',
      apiKeyLast4: null,
      hasApiKey: true,
      monthlyTokenBudget: null,
      inherited: { provider: true, baseUrl: true, model: true, apiKey: true },
    })
  })

  it('keeps the key write-only and sealed, and audits the change without it', async () => {
    const t = await createTestTenant(ctx)
    const key = 'sk-tenant-secret-0123456789-abcd'
    const res = await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
      model: 'tenant-model',
      apiKey: key,
      monthlyTokenBudget: 100000,
    })
    expect(res.statusCode, res.body).toBe(200)
    expect(res.json()).toMatchObject({
      provider: 'openai',
      baseUrl: stub.url,
      model: 'tenant-model',
      apiKeyLast4: 'abcd',
      hasApiKey: true,
      inherited: { provider: false, baseUrl: false, model: false, apiKey: false },
    })
    expect(res.body).not.toContain(key)
    const [row] = await ctx.sql<{ api_key: string }[]>`
      select api_key from ai_settings where tenant_id = ${t.id}`
    expect(row!.api_key).toMatch(/^v1\./)
    expect(row!.api_key).not.toContain(key.slice(3, 20))
    const audits = await ctx.sql<{ data: unknown }[]>`
      select data from audit_events where tenant_id = ${t.id} and action = 'ai.settings_changed'`
    expect(audits).toHaveLength(1)
    expect(JSON.stringify(audits)).not.toContain(key)

    // A PUT without apiKey keeps it; null removes it.
    const kept = await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
    })
    expect(kept.json()).toMatchObject({ apiKeyLast4: 'abcd', model: 'gpt-4o-mini' })
    const removed = await call(t.admin, 'PUT', '/v1/ai/settings', { apiKey: null })
    expect(removed.json()).toMatchObject({ apiKeyLast4: null, provider: 'builtin' })
  })

  it('needs ai:manage; an agent may list the models', async () => {
    const t = await createTestTenant(ctx)
    for (const [method, url] of [
      ['GET', '/v1/ai/settings'],
      ['PUT', '/v1/ai/settings'],
      ['POST', '/v1/ai/settings/test'],
      ['GET', '/v1/ai/generations'],
      ['GET', '/v1/ai/usage'],
    ] as const) {
      const res = await call(t.agent, method, url, method === 'PUT' ? {} : undefined)
      expect(res.statusCode, `${method} ${url}`).toBe(403)
    }
    const models = await call(t.agent, 'GET', '/v1/ai/models')
    expect(models.statusCode, models.body).toBe(200)
    expect(models.json()).toEqual({ data: [{ id: 'builtin' }] })
    expect((await call(t.customer, 'GET', '/v1/ai/models')).statusCode).toBe(403)
  })

  it("uses the tenant's key and model, and records the generation with its tokens", async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    const key = 'sk-tenant-a-key-0000000000-wxyz'
    await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
      model: 'tenant-model',
      apiKey: key,
    })
    const result = await run(await replyJob(t))
    expect(result.outcome).toBe('succeeded')
    const chat = stub.requests.find((r) => r.path === '/v1/chat/completions')!
    expect(chat.headers.authorization).toBe(`Bearer ${key}`)
    expect(chat.body.model).toBe('tenant-model')

    const list = await call(t.admin, 'GET', '/v1/ai/generations')
    expect(list.statusCode, list.body).toBe(200)
    expect(list.json().data).toEqual([
      expect.objectContaining({
        kind: 'reply',
        provider: 'openai',
        model: 'tenant-model',
        promptTokens: 1,
        completionTokens: 1,
        outcome: 'ok',
      }),
    ])
    const usage = await call(t.admin, 'GET', '/v1/ai/usage')
    expect(usage.json().data).toEqual([
      { kind: 'reply', model: 'tenant-model', calls: 1, promptTokens: 1, completionTokens: 1 },
    ])
  })

  it("retrieves by meaning too with the tenant's embedding model, through its key", async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    await article(
      t,
      'Resetting your password',
      'Open Settings, then Security, then Reset password.',
    )
    const key = 'sk-tenant-embeddings-000000-emb1'
    await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
      apiKey: key,
      embeddingModel: 'tenant-embedder',
    })
    const result = await run(await replyJob(t))
    expect(result.outcome).toBe('succeeded')
    const embeddings = stub.requests.filter((r) => r.path === '/v1/embeddings')
    expect(embeddings.length).toBeGreaterThan(0)
    for (const request of embeddings) {
      expect(request.body.model).toBe('tenant-embedder')
      expect(request.headers.authorization).toBe(`Bearer ${key}`)
    }
  })

  it("never sends the platform's key to a URL the tenant chose", async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    await call(t.admin, 'PUT', '/v1/ai/settings', { provider: 'openai', baseUrl: stub.url })
    const result = await run(await replyJob(t))
    expect(result.outcome).toBe('succeeded')
    const chat = stub.requests.find((r) => r.path === '/v1/chat/completions')!
    expect(chat.headers.authorization).toBeUndefined()
    expect(JSON.stringify(stub.requests)).not.toContain(platformKey)
  })

  it('tests the settings live, never echoing the key the provider quotes', async () => {
    const t = await createTestTenant(ctx)
    const key = 'sk-quoted-by-provider-1234567890'
    await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
      apiKey: key,
    })
    const good = await call(t.admin, 'POST', '/v1/ai/settings/test')
    expect(good.statusCode, good.body).toBe(200)
    expect(good.json()).toMatchObject({ ok: true, models: expect.any(Array) })
    stub.answer({
      kind: 'refuse',
      status: 401,
      body: { error: { message: `Incorrect API key provided: ${key}` } },
    })
    const bad = await call(t.admin, 'POST', '/v1/ai/settings/test')
    expect(bad.json()).toMatchObject({ ok: false, error: expect.stringContaining('401') })
    expect(bad.body).not.toContain(key)
  })

  it('ends the reply job with ai_budget_exceeded past the budget, audited, with no call', async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    await call(t.admin, 'PUT', '/v1/ai/settings', {
      provider: 'openai',
      baseUrl: stub.url,
      monthlyTokenBudget: 10,
    })
    await ctx.sql`insert into ai_generations (id, tenant_id, kind, provider, model, prompt_tokens,
                    completion_tokens, outcome)
                  values (gen_random_uuid(), ${t.id}, 'reply', 'openai', 'm', 8, 4, 'ok')`
    const result = await run(await replyJob(t))
    expect(result.outcome).toBe('failed')
    expect(stub.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0)
    const [audit] = await ctx.sql<{ data: { error: { code: string } } }[]>`
      select data from audit_events where tenant_id = ${t.id} and action = 'ai.reply_failed'`
    expect(audit!.data.error.code).toBe('ai_budget_exceeded')
  })
})

describe('AI base URLs a tenant may not use', () => {
  const strict = { AI_ALLOW_PRIVATE_NETWORKS: false } as Partial<Config>

  it.each([
    ['loopback', 'https://127.0.0.1/v1'],
    ['plain http', 'http://models.example.com/v1'],
    ['cloud metadata', 'https://169.254.169.254/v1'],
    ['a private network', 'https://10.0.0.7/v1'],
  ])(
    'refuses %s with 422 invalid_ai_base_url where private networks are not allowed',
    async (_w, url) => {
      const strictCtx = await strictApp()
      const t = await createTestTenant(strictCtx)
      const res = await strictCtx.app.inject({
        method: 'PUT',
        url: '/v1/ai/settings',
        headers: t.admin.headers,
        payload: { provider: 'openai', baseUrl: url },
      })
      expect(res.statusCode, res.body).toBe(422)
      expect(res.json().code).toBe('invalid_ai_base_url')
      const rows = await strictCtx.sql`select 1 from ai_settings where tenant_id = ${t.id}`
      expect(rows).toHaveLength(0)
    },
  )

  it('refuses at call time a private URL stored while it was allowed', async () => {
    const t = await createTestTenant(ctx)
    await setMode(t, 'auto')
    await call(t.admin, 'PUT', '/v1/ai/settings', { provider: 'openai', baseUrl: stub.url })
    const result = await run(await replyJob(t), strict)
    expect(result.outcome).not.toBe('succeeded')
    expect(stub.requests).toHaveLength(0)
  })
})

let strictContext: Awaited<ReturnType<typeof useTestApp>> | undefined
async function strictApp() {
  strictContext ??= await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '10000' } })
  return strictContext
}
