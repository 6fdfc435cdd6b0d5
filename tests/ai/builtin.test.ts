// AI replies end to end with the builtin provider: users act through the API
// (the api dispatches the jobs to Redis), a real worker process runs them, and
// the customer reads the thread back through the API. Auto mode posts a public
// reply citing the matching article (and emails it to the requester, threaded
// under the ticket); draft mode an internal note the customer never sees; with
// no article that matches well enough, the hand-off reply; on demand with AI
// replies off, an internal draft.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Child, freePort, spawnNode } from '../fixtures/processes.ts'
import { useTestApp } from '../helpers/app.ts'
import { staleSearchVectors } from '../helpers/search-vectors.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'
import { waitForJob } from '../jobs/seed.ts'
import { api, INVOICE_ARTICLE, PASSWORD_ARTICLE } from './arrange.ts'

const sink = await startSmtpSink()
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent' } })
const { call, setMode, article, openTicket, messages, aiJobs } = api(ctx)
let worker: Child

/** Each test's own tenant, with the two published articles every test answers from. */
async function tenantWithArticles(): Promise<{ acme: TestTenant; kb: { id: string } }> {
  const acme = await createTestTenant(ctx)
  const kb = await article(acme, PASSWORD_ARTICLE.title, PASSWORD_ARTICLE.body)
  await article(acme, INVOICE_ARTICLE.title, INVOICE_ARTICLE.body)
  return { acme, kb }
}

beforeAll(async () => {
  worker = spawnNode('workers/main.ts', {
    NODE_ENV: 'test',
    DATABASE_URL: ctx.database.url,
    REDIS_URL: ctx.config.REDIS_URL!,
    REDIS_PREFIX: ctx.config.REDIS_PREFIX,
    SMTP_URL: sink.url,
    APP_URL: 'https://help.example.test',
    WORKER_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
  })
  await worker.waitForLine(/"worker started"/)
})
afterAll(async () => {
  worker?.kill()
  await sink.close()
})

/** Waits for every AI job of the ticket to finish; returns the last one's row. */
async function settle(ticketId: string) {
  const jobs = await aiJobs(ticketId)
  expect(jobs.length).toBeGreaterThan(0)
  let last: Awaited<ReturnType<typeof waitForJob>> | undefined
  for (const job of jobs) last = await waitForJob(ctx.sql, job.id)
  return last!
}

async function mailTo(address: string, subject: RegExp) {
  const until = Date.now() + 10_000
  for (;;) {
    const found = sink.messages.find((m) => m.to.includes(address) && subject.test(m.subject))
    if (found) return found
    if (Date.now() > until) throw new Error(`no email to ${address} matching ${subject}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('builtin AI replies', () => {
  it('auto mode: a public reply citing the matching article, emailed and threaded', async () => {
    const { acme, kb } = await tenantWithArticles()
    await setMode(acme, 'auto')
    const ticket = await openTicket(
      acme.customer,
      'Cannot log in',
      'I forgot my password and cannot log in. How do I reset it?',
    )
    const row = await settle(ticket.id)
    expect(row).toMatchObject({ state: 'succeeded', attempts: 1, error: null })

    const thread = await messages(acme.customer, ticket.id)
    const ai = thread.filter((m) => m.authorType === 'ai')
    expect(ai).toHaveLength(1)
    // Marked succeeded by the statement that stored the reply, with what it stored.
    expect(row.result).toEqual({
      messageId: ai[0]!.id,
      internal: false,
      provider: 'builtin',
      sources: [kb.id],
    })
    expect(row.finishedAt).not.toBeNull()
    expect(ai[0]).toMatchObject({
      internal: false,
      sources: [{ kind: 'kb_article', id: kb.id, title: PASSWORD_ARTICLE.title }],
    })
    expect(ai[0]!.body).toContain(`“${PASSWORD_ARTICLE.title}”`)
    expect(ai[0]!.body).toMatch(/Settings, choose Security, then click Reset password/)
    expect(ai[0]!.body).not.toContain(INVOICE_ARTICLE.title)

    // Stamps lastMessageAt, leaves the status for a human to move.
    const after = await call(acme.customer, 'GET', `/v1/tickets/${ticket.id}`)
    expect(after.status).toBe('new')
    expect(after.lastMessageAt > ticket.lastMessageAt).toBe(true)
    expect(await staleSearchVectors(ctx.sql, [ticket.id])).toEqual([])

    const reply = await mailTo(acme.customer.email, /^Re: /)
    expect(reply.subject).toBe(`Re: [${acme.slug} #${ticket.number}] Cannot log in`)
    expect(reply.text).toContain('Settings, choose Security')
    expect(reply.text).toContain(
      `https://help.example.test/tickets/${ticket.id}?tenant=${acme.slug}`,
    )
    const root = `<ticket-${ticket.id}@deskpilot.local>`
    expect(reply.headers.get('in-reply-to')).toBe(root)
    expect(reply.headers.get('references')).toBe(root)
    // The new ticket reaches each agent in a message of its own.
    for (const agent of [acme.owner.email, acme.admin.email, acme.agent.email]) {
      const created = await mailTo(agent, /New ticket: Cannot log in/)
      expect(created.to).toEqual([agent])
      expect(created.headers.get('references')).toBe(root)
      expect(created.headers.get('message-id')).not.toBe(reply.headers.get('message-id'))
    }
  })

  it('draft mode: an internal reply that the customer never sees', async () => {
    const { acme } = await tenantWithArticles()
    await setMode(acme, 'draft')
    const ticket = await openTicket(acme.customer, 'Password', 'How can I reset my password?')
    expect(await settle(ticket.id)).toMatchObject({ state: 'succeeded' })
    const customerView = await messages(acme.customer, ticket.id)
    expect(customerView.map((m) => m.authorType)).toEqual(['customer'])
    const agentView = await messages(acme.agent, ticket.id)
    const draft = agentView.find((m) => m.authorType === 'ai')
    expect(draft).toMatchObject({ internal: true, sources: [{ title: PASSWORD_ARTICLE.title }] })
    expect(await staleSearchVectors(ctx.sql, [ticket.id])).toEqual([])
  })

  it('no article matches well enough: the hand-off reply, citing nothing', async () => {
    const { acme } = await tenantWithArticles()
    await setMode(acme, 'auto')
    const unrelated = await openTicket(
      acme.customer,
      'Delivery',
      'My parcel never arrived at the warehouse in Lyon.',
    )
    // One shared term ("invoices") is not enough to answer from an article.
    const weak = await openTicket(acme.customer, 'Question', 'Where do I find old invoices?')
    for (const ticket of [unrelated, weak]) {
      await settle(ticket.id)
      const ai = (await messages(acme.customer, ticket.id)).filter((m) => m.authorType === 'ai')
      expect(ai).toHaveLength(1)
      expect(ai[0]!.sources).toEqual([])
      expect(ai[0]!.body).toMatch(/a human agent will follow up/)
    }
  })

  it('unpublished articles are never used', async () => {
    const { acme } = await tenantWithArticles()
    await setMode(acme, 'auto')
    await article(acme, 'Exporting tickets to CSV', 'Use Reports, then Export as CSV.', false)
    const ticket = await openTicket(acme.customer, 'Export', 'How do I export tickets to CSV?')
    await settle(ticket.id)
    const ai = (await messages(acme.customer, ticket.id)).find((m) => m.authorType === 'ai')
    expect(ai?.sources).toEqual([])
  })

  it('on demand with AI replies off: an internal draft for the agent who asked', async () => {
    const { acme } = await tenantWithArticles()
    await setMode(acme, 'off')
    const ticket = await openTicket(acme.customer, 'Reset', 'Reset password link please')
    expect(await aiJobs(ticket.id)).toHaveLength(0)
    const { jobId } = await call(acme.agent, 'POST', `/v1/tickets/${ticket.id}/ai-reply`)
    expect(await waitForJob(ctx.sql, jobId)).toMatchObject({ state: 'succeeded' })
    expect((await messages(acme.customer, ticket.id)).map((m) => m.authorType)).toEqual([
      'customer',
    ])
    const job = await call(acme.agent, 'GET', `/v1/jobs/${jobId}`)
    const draft = (await messages(acme.agent, ticket.id)).find((m) => m.authorType === 'ai')
    expect(draft).toMatchObject({ internal: true })
    expect(job.result).toMatchObject({ messageId: draft!.id, internal: true })
  })
})
