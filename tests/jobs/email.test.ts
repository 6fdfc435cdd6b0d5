// Every email template, end to end through runJob (the code the worker and
// local mode both run) to a real SMTP server on loopback: right recipient,
// subject and link, and the link's token is one the database knows by hash;
// ticket emails are threaded under the ticket and their link opens the ticket.
import { afterAll, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/jobs/email/email-processor.ts'
import { processors } from '../../src/jobs/processors.ts'
import { runJob } from '../../src/jobs/run-job.ts'
import { hashToken } from '../../src/lib/tokens.ts'
import { useTestApp } from '../helpers/app.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { type Actor, createTestTenant } from '../helpers/tenancy.ts'
import { jobRow, queueJob, seedInvitation, seedTenant, seedUser, tokenFrom } from './seed.ts'

const sink = await startSmtpSink()
const ctx = await useTestApp({
  env: {
    SMTP_URL: sink.url,
    APP_URL: 'https://app.example.test/desk',
    INBOUND_DOMAIN: 'in.deskpilot.test',
    LOG_LEVEL: 'silent',
    // Every test signs up a tenant of its own: more than the default 20 a minute.
    AUTH_RATE_LIMIT_MAX: '1000',
  },
})
afterAll(async () => {
  closeSmtpTransports()
  await sink.close()
})
const deps = {
  database: ctx.app.database,
  config: ctx.config,
  storage: ctx.app.storage,
  log: ctx.app.log,
  processors,
}

async function send(actor: Actor, method: string, url: string, payload?: object) {
  const res = await ctx.app.inject({
    method: method as 'GET',
    url,
    headers: actor.headers,
    payload,
  })
  expect(res.statusCode, res.body).toBeLessThan(300)
  return res.json()
}

/** The email's ticket link, followed through the API as its recipient. */
async function followTicketLink(text: string, actor: Actor, ticketId: string) {
  const link = /https:\/\/app\.example\.test\/desk\/tickets\/[^\s]+/.exec(text)?.[0]
  expect(link).toBeDefined()
  const url = new URL(link!)
  const id = url.pathname.split('/').at(-1)
  expect(id).toBe(ticketId)
  const res = await ctx.app.inject({
    method: 'GET',
    url: `/v1/tickets/${id}`,
    headers: { ...actor.headers, 'x-tenant-id': url.searchParams.get('tenant')! },
  })
  expect(res.statusCode).toBe(200)
}

async function lastEmail() {
  const messages = await sink.waitFor(sink.messages.length)
  return messages.at(-1)!
}

/** A customer's new ticket in a tenant of its own, its ticket-created job, and the agents it mails (in send order). */
async function ticketCreatedJob() {
  const acme = await createTestTenant(ctx)
  const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
    subject: 'Broken',
    body: 'It broke.',
  })
  const [row] = await ctx.sql<{ id: string }[]>`select id from jobs where type = 'email'
    and payload->>'template' = 'ticket-created' and payload->>'ticketId' = ${ticket.id}`
  const job = { id: row!.id, queue: 'email' as const, tenantId: acme.id }
  const agents = (
    await ctx.sql<{ email: string }[]>`select email from users
      where id in ${ctx.sql([acme.owner.userId, acme.admin.userId, acme.agent.userId])}
      order by email`
  ).map((u) => u.email)
  return { job, agents }
}

describe('email jobs', () => {
  it('verify-email: sends a link whose token is stored hashed for 24 h; a resend invalidates it', async () => {
    const user = await seedUser(ctx.sql)
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'verify-email',
      userId: user.id,
    })
    expect((await runJob(deps, job)).outcome).toBe('succeeded')

    const mail = await lastEmail()
    expect(mail.to).toEqual([user.email])
    expect(mail.subject).toBe('Confirm your email address')
    expect(mail.headers.get('message-id')).toBe(`<${job.id}@deskpilot.local>`)
    // Marked as Deskpilot's own, so it never comes back in as a customer's mail.
    expect(mail.headers.get('x-deskpilot-loop')).toBe('deskpilot.local')
    expect(mail.headers.get('reply-to')).toBeUndefined()
    const token = tokenFrom(mail.text, 'https://app.example.test/desk/verify-email')
    expect(tokenFrom(mail.html, '/desk/verify-email')).toBe(token)
    // Names are user input: escaped in HTML, as is in text.
    expect(mail.html).toContain('Ada &lt;Admin&gt; &amp; Co')
    expect(mail.html).not.toContain('<Admin>')
    expect(mail.text).toContain('Hello Ada <Admin> & Co,')

    const [stored] = await ctx.sql`
      select purpose, used_at, extract(epoch from expires_at - created_at) / 3600 as hours
      from user_tokens
      where token_hash = ${hashToken(token)} and user_id = ${user.id}`
    expect(stored).toMatchObject({ purpose: 'verify_email', used_at: null })
    expect(Math.round(Number(stored?.hours))).toBe(24)
    const tokens = await ctx.sql`select 1 from user_tokens where user_id = ${user.id}`
    expect(tokens).toHaveLength(1)
    expect(await jobRow(ctx.sql, job.id)).toMatchObject({ state: 'succeeded', attempts: 1 })

    const again = await queueJob(ctx.app.database, null, 'email', {
      template: 'verify-email',
      userId: user.id,
    })
    await runJob(deps, again)
    const second = tokenFrom((await lastEmail()).text, '/verify-email')
    expect(second).not.toBe(token)
    const left = await ctx.sql<{ token_hash: string }[]>`
      select token_hash from user_tokens where user_id = ${user.id} and used_at is null`
    expect(left.map((r) => r.token_hash)).toEqual([hashToken(second)])
  })

  it('password-reset: a 30-minute token behind /reset-password', async () => {
    const user = await seedUser(ctx.sql, 'Grace')
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'password-reset',
      userId: user.id,
    })
    expect((await runJob(deps, job)).outcome).toBe('succeeded')
    const mail = await lastEmail()
    expect(mail.to).toEqual([user.email])
    expect(mail.subject).toBe('Reset your Deskpilot password')
    const token = tokenFrom(mail.text, 'https://app.example.test/desk/reset-password')
    const [stored] = await ctx.sql<{ purpose: string; minutes: number }[]>`
      select purpose, extract(epoch from expires_at - created_at) / 60 as minutes
      from user_tokens where token_hash = ${hashToken(token)}`
    expect(stored?.purpose).toBe('password_reset')
    expect(Math.round(Number(stored?.minutes))).toBe(30)
  })

  it('invitation: tenant-scoped job; sets the invitation token hash, keeps expires_at', async () => {
    const inviter = await seedUser(ctx.sql, 'Linus')
    const tenant = await seedTenant(ctx.sql, 'Acme <Support>')
    const invitation = await seedInvitation(ctx.sql, tenant, inviter.id)
    const [before] = await ctx.sql`select expires_at from invitations where id = ${invitation.id}`
    const job = await queueJob(ctx.app.database, tenant.id, 'email', {
      template: 'invitation',
      invitationId: invitation.id,
    })
    expect((await runJob(deps, job)).outcome).toBe('succeeded')

    const mail = await lastEmail()
    expect(mail.to).toEqual([invitation.email])
    expect(mail.subject).toBe("You're invited to join a team on Deskpilot")
    expect(mail.html).toContain(
      'The team&#39;s name, as the team itself chose it: “Acme &lt;Support&gt;”.',
    )
    expect(mail.text).toContain('Invited by a member of that team: “Linus”.')
    const token = tokenFrom(mail.text, 'https://app.example.test/desk/accept-invitation')
    const [after] = await ctx.sql`
      select token_hash, expires_at from invitations where id = ${invitation.id}`
    expect(after?.token_hash).toBe(hashToken(token))
    expect(after?.expires_at).toEqual(before?.expires_at)
  })

  it('invitation job of another tenant finds nothing: fails without retrying', async () => {
    const tenant = await seedTenant(ctx.sql)
    const other = await seedTenant(ctx.sql)
    const invitation = await seedInvitation(ctx.sql, tenant, null)
    const job = await queueJob(ctx.app.database, other.id, 'email', {
      template: 'invitation',
      invitationId: invitation.id,
    })
    const result = await runJob(deps, job)
    expect(result.outcome).toBe('failed')
    expect(await jobRow(ctx.sql, job.id)).toMatchObject({
      state: 'failed',
      attempts: 1,
      error: 'invitation not found',
    })
  })

  it('no subject line carries the tenant name as the platform speaking; bodies quote it', async () => {
    // A name with no link still reads as a notice from us when it heads a subject.
    const name = 'Your mailbox is suspended'
    const inviter = await seedUser(ctx.sql, 'Mallory')
    const tenant = await seedTenant(ctx.sql, name)
    const invitation = await seedInvitation(ctx.sql, tenant, inviter.id)
    const invited = await queueJob(ctx.app.database, tenant.id, 'email', {
      template: 'invitation',
      invitationId: invitation.id,
    })
    expect((await runJob(deps, invited)).outcome).toBe('succeeded')
    const invitationMail = await lastEmail()
    expect(invitationMail.subject).toBe("You're invited to join a team on Deskpilot")
    expect(invitationMail.text).toContain(`as the team itself chose it: “${name}”`)

    const acme = await createTestTenant(ctx)
    await ctx.sql`update tenants set name = ${name} where id = ${acme.id}`
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Printer',
      body: 'It stopped.',
    })
    const reply = await send(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Restart it.',
    })
    const rows = await ctx.sql<{ id: string }[]>`select id from jobs where type = 'email'
      and (payload->>'ticketId' = ${ticket.id} or payload->>'messageId' = ${reply.id})`
    expect(rows).toHaveLength(2)
    const before = sink.messages.length
    for (const row of rows) {
      const job = { id: row.id, queue: 'email' as const, tenantId: acme.id }
      expect((await runJob(deps, job)).outcome).toBe('succeeded')
    }
    // The reply to the requester, and the new ticket to each of the three agents.
    const ticketMails = (await sink.waitFor(before + 4)).slice(before)
    expect([...new Set(ticketMails.map((m) => m.subject))].sort()).toEqual(
      [
        `[${acme.slug} #${ticket.number}] New ticket: Printer`,
        `Re: [${acme.slug} #${ticket.number}] Printer`,
      ].sort(),
    )
    for (const mail of [invitationMail, ...ticketMails]) expect(mail.subject).not.toContain(name)
  })

  it('ticket-reply: an agent reply reaches the requester, threaded, with a working link', async () => {
    const acme = await createTestTenant(ctx)
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Printer <offline>',
      body: 'It stopped printing.',
    })
    const reply = await send(acme.agent, 'POST', `/v1/tickets/${ticket.id}/messages`, {
      body: 'Please restart it.\nThen try again.',
    })
    const [row] = await ctx.sql<{ id: string }[]>`select id from jobs
      where type = 'email' and payload->>'messageId' = ${reply.id}`
    const job = { id: row!.id, queue: 'email' as const, tenantId: acme.id }
    expect((await runJob(deps, job)).outcome).toBe('succeeded')

    const mail = await lastEmail()
    expect(mail.to).toEqual([acme.customer.email])
    expect(mail.subject).toBe(`Re: [${acme.slug} #${ticket.number}] Printer <offline>`)
    expect(mail.text).toContain('agent-')
    expect(mail.text).toMatch(/Please restart it.\r?\nThen try again./)
    expect(mail.html).toContain('Printer &lt;offline&gt;')
    expect(mail.headers.get('message-id')).toBe(`<${job.id}@deskpilot.local>`)
    expect(mail.headers.get('in-reply-to')).toBe(`<ticket-${ticket.id}@deskpilot.local>`)
    expect(mail.headers.get('references')).toBe(`<ticket-${ticket.id}@deskpilot.local>`)
    // The customer's answer by mail goes to the tenant's inbound address.
    expect(mail.headers.get('reply-to')).toBe(`${acme.slug}@in.deskpilot.test`)
    expect(mail.headers.get('x-deskpilot-loop')).toBe('deskpilot.local')
    await followTicketLink(mail.text, acme.customer, ticket.id)
  })

  it('ticket-created: the assignee only when there is one, else every active agent', async () => {
    const acme = await createTestTenant(ctx)
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Refund',
      body: 'I was charged twice.',
    })
    const jobFor = async (ticketId: string) => {
      const [row] = await ctx.sql<{ id: string }[]>`select id from jobs where type = 'email'
        and payload->>'template' = 'ticket-created' and payload->>'ticketId' = ${ticketId}`
      return { id: row!.id, queue: 'email' as const, tenantId: acme.id }
    }
    const job = await jobFor(ticket.id)
    const before = sink.messages.length
    expect((await runJob(deps, job)).outcome).toBe('succeeded')
    const agents = [acme.owner.email, acme.admin.email, acme.agent.email]
    // One message per agent, each naming only its own recipient.
    const all = (await sink.waitFor(before + agents.length)).slice(before)
    expect(all).toHaveLength(agents.length)
    expect(all.map((m) => m.to).sort()).toEqual(agents.sort().map((a) => [a]))
    for (const mail of all) {
      expect(mail.headers.get('to')).toBe(mail.to[0])
      expect(mail.headers.get('cc')).toBeUndefined()
      expect(mail.subject).toBe(`[${acme.slug} #${ticket.number}] New ticket: Refund`)
      expect(mail.text).toContain('I was charged twice.')
      expect(mail.headers.get('references')).toBe(`<ticket-${ticket.id}@deskpilot.local>`)
      // Agents' notifications carry no Reply-To: an agent answers in the app, not as a customer.
      expect(mail.headers.get('reply-to')).toBeUndefined()
      expect(mail.headers.get('x-deskpilot-loop')).toBe('deskpilot.local')
    }
    expect(new Set(all.map((m) => m.headers.get('message-id'))).size).toBe(agents.length)
    await followTicketLink(all[0]!.text, acme.agent, ticket.id)

    const second = await send(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Again',
      body: 'Hi',
    })
    await send(acme.admin, 'PATCH', `/v1/tickets/${second.id}`, { assigneeId: acme.agent.userId })
    await runJob(deps, await jobFor(second.id))
    expect((await lastEmail()).to).toEqual([acme.agent.email])
  })

  it('ticket-created: a retry after a failure part-way sends only to those not yet sent', async () => {
    const { job, agents } = await ticketCreatedJob()
    // Recipients go in address order (the database's collation); the last one's
    // mailbox refuses for now (451: try later).
    const refused = agents.at(-1)!
    sink.rejectRecipients.add(refused)
    sink.rejectRecipientCode = 451
    const before = sink.messages.length
    try {
      expect((await runJob(deps, job)).outcome).toBe('retry')
    } finally {
      sink.rejectRecipients.delete(refused)
      sink.rejectRecipientCode = 550
    }
    const firstRun = sink.messages.slice(before)
    expect(firstRun.map((m) => m.to)).toEqual(agents.slice(0, -1).map((a) => [a]))
    expect((await jobRow(ctx.sql, job.id))?.state).toBe('queued')

    expect((await runJob(deps, job)).outcome).toBe('succeeded')
    const retried = (await sink.waitFor(before + agents.length)).slice(before + firstRun.length)
    expect(retried.map((m) => m.to)).toEqual([[refused]])
    const stored = await jobRow(ctx.sql, job.id)
    expect(stored?.result).toMatchObject({ recipients: 3, sentNow: 1 })
    // The row records who was sent to by hash only, never by address.
    expect(JSON.stringify(stored?.result)).not.toContain('@')
  })

  it('ticket-created: a recipient refused for good (550) does not stop the others; the job fails at once', async () => {
    const { job, agents } = await ticketCreatedJob()
    const refused = agents[0]!
    sink.rejectRecipients.add(refused)
    const before = sink.messages.length
    try {
      expect((await runJob(deps, job)).outcome).toBe('failed')
    } finally {
      sink.rejectRecipients.delete(refused)
    }
    expect(sink.messages.slice(before).map((m) => m.to)).toEqual(agents.slice(1).map((a) => [a]))
    const stored = await jobRow(ctx.sql, job.id)
    expect(stored?.state).toBe('failed')
    expect(stored?.error).toContain('refused 1 of 3 recipients')
  })

  it('a ticket email job of another tenant finds nothing: fails without retrying', async () => {
    const acme = await createTestTenant(ctx)
    const other = await seedTenant(ctx.sql)
    const ticket = await send(acme.customer, 'POST', '/v1/tickets', { subject: 'x', body: 'y' })
    const job = await queueJob(ctx.app.database, other.id, 'email', {
      template: 'ticket-created',
      ticketId: ticket.id,
    })
    const sent = sink.messages.length
    expect((await runJob(deps, job)).outcome).toBe('failed')
    expect((await jobRow(ctx.sql, job.id))?.error).toBe('ticket not found')
    expect(sink.messages.length).toBe(sent)
  })

  it('a job whose row already succeeded is skipped: no second email', async () => {
    const user = await seedUser(ctx.sql)
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'password-reset',
      userId: user.id,
    })
    await runJob(deps, job)
    const sent = sink.messages.length
    expect((await runJob(deps, job)).outcome).toBe('skipped')
    expect(sink.messages.length).toBe(sent)
    expect((await jobRow(ctx.sql, job.id))?.attempts).toBe(1)
  })

  it('an SMTP failure leaves the row queued for a retry, with the error', async () => {
    const user = await seedUser(ctx.sql)
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'verify-email',
      userId: user.id,
    })
    const broken = { ...ctx.config, SMTP_URL: 'smtp://127.0.0.1:1' }
    const result = await runJob({ ...deps, config: broken }, job)
    expect(result.outcome).toBe('retry')
    const [row] = await ctx.sql`
      select state, attempts, error, run_at > now() as later from jobs where id = ${job.id}`
    expect(row).toMatchObject({ state: 'queued', attempts: 1, later: true })
    expect(row?.error).toMatch(/ECONNREFUSED/)
  })
})
