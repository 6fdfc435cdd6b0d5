// Arranges AI-reply scenarios through the API, as users would: the tenant's
// aiReplyMode (PATCH /v1/tenant), knowledge-base articles, tickets and
// messages; and reads back the ticket's AI jobs and messages.
import { expect } from 'vitest'
import type { Config } from '../../src/config.ts'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { processors } from '../../src/jobs/processors.ts'
import { runJob } from '../../src/jobs/run-job.ts'
import type { TestContext } from '../helpers/app.ts'
import type { Actor, TestTenant } from '../helpers/tenancy.ts'

export type MessageView = {
  id: string
  authorType: string
  body: string
  internal: boolean
  sources: { kind: string; id: string; title: string }[]
}

export function api(ctx: TestContext) {
  async function call(actor: Actor, method: string, url: string, payload?: unknown) {
    const res = await ctx.app.inject({
      method: method as 'GET',
      url,
      headers: actor.headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    })
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300)
    return res.json()
  }
  return {
    call,
    setMode(tenant: TestTenant, mode: 'off' | 'draft' | 'auto') {
      return call(tenant.owner, 'PATCH', '/v1/tenant', { settings: { aiReplyMode: mode } })
    },
    article(tenant: TestTenant, title: string, body: string, published = true) {
      return call(tenant.agent, 'POST', '/v1/kb/articles', {
        title,
        body,
        published,
      }) as Promise<{ id: string; title: string }>
    },
    openTicket(actor: Actor, subject: string, body: string) {
      return call(actor, 'POST', '/v1/tickets', { subject, body }) as Promise<{
        id: string
        number: number
        status: string
        lastMessageAt: string
      }>
    },
    post(actor: Actor, ticketId: string, body: string, internal = false) {
      return call(actor, 'POST', `/v1/tickets/${ticketId}/messages`, {
        body,
        ...(internal ? { internal } : {}),
      }) as Promise<MessageView>
    },
    async messages(actor: Actor, ticketId: string): Promise<MessageView[]> {
      return (await call(actor, 'GET', `/v1/tickets/${ticketId}/messages?limit=100`)).data
    },
    async aiJobs(ticketId: string) {
      return ctx.sql<{ id: string; tenant_id: string }[]>`
        select id, tenant_id from jobs
        where type = 'ai-reply' and payload->>'ticketId' = ${ticketId} order by created_at, id`
    },
  }
}

export const PASSWORD_ARTICLE = {
  title: 'How to reset your password',
  body:
    'Open Settings, choose Security, then click Reset password. A reset link arrives by ' +
    'email within five minutes; it works once and expires after thirty minutes.',
}

export const INVOICE_ARTICLE = {
  title: 'Changing the billing address on invoices',
  body: 'Owners can change the billing address under Billing → Invoices → Address.',
}

/** Runs an AI job through runJob, the code the worker runs per job, with config overrides. */
export function runAiJob(ctx: TestContext, job: QueuedJob, config: Partial<Config> = {}) {
  return runJob(
    {
      database: ctx.app.database,
      config: { ...ctx.config, ...config },
      storage: ctx.app.storage,
      log: ctx.app.log,
      processors,
    },
    job,
  )
}
