// Mail in through POST /v1/inbound/email, end to end on the real app: a
// customer's mail opens a ticket as its contact, a reply threads by the ids
// Deskpilot sent (or by the subject token, only from the requester), a
// Message-ID seen before writes nothing, machine mail is recorded and never
// answered, mail to a closed ticket opens a follow-up, and bad mail changes
// nothing: no row, no file.
import { readdirSync } from 'node:fs'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeSmtpTransports } from '../../src/jobs/email/email-processor.ts'
import { processors } from '../../src/jobs/processors.ts'
import { runJob } from '../../src/jobs/run-job.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { startSmtpSink } from '../helpers/smtp-sink.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const TOKEN = 'inbound-token-for-tests-0123456789abcdef'
const DOMAIN = 'in.deskpilot.test'
const sink = await startSmtpSink()
const ctx = await useTestApp({
  env: {
    SMTP_URL: sink.url,
    INBOUND_DOMAIN: DOMAIN,
    INBOUND_EMAIL_TOKEN: TOKEN,
    INBOUND_MAX_BYTES: String(2 * 1024 * 1024),
    LOG_LEVEL: 'silent',
    AUTH_RATE_LIMIT_MAX: '1000',
  },
})
afterAll(async () => {
  closeSmtpTransports()
  await sink.close()
})

let acme: TestTenant
let other: TestTenant
beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

type Options = ConstructorParameters<typeof MailComposer>[0]

function compose(options: Options): Promise<Buffer> {
  return new MailComposer({
    from: 'Jane Doe <jane@example.com>',
    to: `${acme.slug}@${DOMAIN}`,
    subject: 'Printer jams',
    text: 'The printer jams on page 2.',
    ...options,
  })
    .compile()
    .build()
}

function post(raw: Buffer | string, headers: Record<string, string> = {}, query = '') {
  return ctx.app.inject({
    method: 'POST',
    url: `/v1/inbound/email${query}`,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'message/rfc822',
      ...headers,
    },
    payload: raw,
  })
}

async function messagesOf(ticketId: string) {
  return ctx.sql<{ id: string; body: string; author_type: string; contact_id: string | null }[]>`
    select id, body, author_type, contact_id from messages
    where ticket_id = ${ticketId} order by created_at, id`
}

async function numberOf(ticketId: string): Promise<number> {
  const [row] = await ctx.sql<
    { number: number }[]
  >`select number from tickets where id = ${ticketId}`
  if (!row) throw new Error(`no ticket ${ticketId}`)
  return row.number
}

function storedFiles(): string[] {
  const dir = ctx.config.STORAGE_DIR
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
  } catch {
    return []
  }
}

describe('mail in over HTTP', () => {
  it('opens a ticket for the sender, keeps the original and the attachments', async () => {
    const raw = await compose({
      messageId: `<first-${acme.slug}@example.com>`,
      text: 'The printer jams on page 2.\n\n-- \nJane\nExample Inc.',
      attachments: [{ filename: 'jam.txt', content: 'paper everywhere' }],
    })
    const res = await post(raw)
    expect(res.statusCode, res.body).toBe(202)
    const { ticketId, messageId, created } = res.json()
    expect(created).toBe(true)
    const ticket = await ctx.app.inject({
      method: 'GET',
      url: `/v1/tickets/${ticketId}`,
      headers: acme.agent.headers,
    })
    expect(ticket.json()).toMatchObject({
      subject: 'Printer jams',
      status: 'new',
      requester: { email: 'jane@example.com', name: 'Jane Doe' },
    })
    const [message] = await messagesOf(ticketId)
    expect(message).toMatchObject({ id: messageId, author_type: 'customer' })
    // The signature is cut; the whole original is kept beside it.
    expect(message?.body).toBe('The printer jams on page 2.')
    const files = await ctx.sql<{ filename: string; content_type: string }[]>`
      select filename, content_type from attachments where message_id = ${messageId} order by filename`
    expect(files.map((f) => f.filename)).toEqual(['jam.txt', 'original.eml'])
    expect(files.find((f) => f.filename === 'original.eml')?.content_type).toBe('message/rfc822')
    // The agents are told, as for a customer's ticket through the API.
    const [job] = await ctx.sql`select 1 from jobs where payload->>'template' = 'ticket-created'
      and payload->>'ticketId' = ${ticketId}`
    expect(job).toBeDefined()
  })

  it('the same Message-ID again answers 200 with the first result and writes nothing', async () => {
    const raw = await compose({ messageId: `<dup-${acme.slug}@example.com>` })
    const first = await post(raw)
    expect(first.statusCode).toBe(202)
    const before = await tenantDigest(ctx.sql, acme.id)
    const files = storedFiles().length
    const again = await post(raw)
    expect(again.statusCode).toBe(200)
    expect(again.json()).toEqual(first.json())
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
    expect(storedFiles()).toHaveLength(files)
  })

  it('ten concurrent deliveries of one mail make one ticket', async () => {
    const raw = await compose({ messageId: `<race-${acme.slug}@example.com>` })
    const results = await Promise.all(Array.from({ length: 10 }, () => post(raw)))
    expect(results.map((r) => r.statusCode).sort()).toEqual([
      200, 200, 200, 200, 200, 200, 200, 200, 200, 202,
    ])
    expect(new Set(results.map((r) => r.json().ticketId)).size).toBe(1)
  })

  it('round trip: the agent reply is mailed with the token and Reply-To, and the answer continues the ticket', async () => {
    const opened = await post(await compose({ messageId: `<trip-${acme.slug}@example.com>` }))
    const { ticketId } = opened.json()
    const reply = await ctx.app.inject({
      method: 'POST',
      url: `/v1/tickets/${ticketId}/messages`,
      headers: acme.agent.headers,
      payload: { body: 'Try the rear tray.' },
    })
    expect(reply.statusCode).toBe(201)
    const [job] = await ctx.sql<{ id: string }[]>`select id from jobs
      where payload->>'template' = 'ticket-reply' and payload->>'messageId' = ${reply.json().id}`
    const deps = {
      database: ctx.app.database,
      config: ctx.config,
      log: ctx.app.log,
      processors,
      storage: ctx.app.storage,
    }
    await runJob(deps, { id: job!.id, queue: 'email', tenantId: acme.id })
    const mail = (await sink.waitFor(sink.messages.length)).at(-1)!
    expect(mail.to).toEqual(['jane@example.com'])
    expect(mail.headers.get('reply-to')).toBe(`${acme.slug}@${DOMAIN}`)
    expect(mail.subject).toContain(`[${acme.slug} #`)
    const sentId = mail.headers.get('message-id')!
    // Jane answers from her mail client: In-Reply-To names what Deskpilot sent.
    const answer = await compose({
      messageId: `<answer-${acme.slug}@example.com>`,
      subject: `Re: ${mail.subject}`,
      inReplyTo: sentId,
      references: [sentId],
      text: 'That worked, thanks!\n\nOn Mon, Dec 7, 2026, Acme wrote:\n> Try the rear tray.',
    })
    const continued = await post(answer)
    expect(continued.statusCode, continued.body).toBe(202)
    expect(continued.json()).toMatchObject({ ticketId, created: false })
    const fromJane = (await messagesOf(ticketId)).filter((m) => m.author_type === 'customer')
    expect(fromJane.at(-1)?.body).toBe('That worked, thanks!')
  })

  it('the subject token threads only mail from the requester', async () => {
    const opened = await post(await compose({ messageId: `<tok-${acme.slug}@example.com>` }))
    const { ticketId } = opened.json()
    const number = await numberOf(ticketId)
    const subject = `Re: Printer jams [${acme.slug} #${number}]`
    const fromJane = await post(
      await compose({ messageId: `<tok2-${acme.slug}@example.com>`, subject }),
    )
    expect(fromJane.json()).toMatchObject({ ticketId, created: false })
    const fromMallory = await post(
      await compose({
        from: 'mallory@example.net',
        messageId: `<tok3-${acme.slug}@example.com>`,
        subject,
      }),
    )
    expect(fromMallory.statusCode).toBe(202)
    expect(fromMallory.json().created).toBe(true)
    expect(fromMallory.json().ticketId).not.toBe(ticketId)
  })

  it("mail on a merged ticket's thread lands on the ticket it was merged into", async () => {
    const source = (await post(await compose({ messageId: `<src-${acme.slug}@x>` }))).json()
    const target = (
      await post(await compose({ messageId: `<tgt-${acme.slug}@x>`, subject: 'Printer, again' }))
    ).json()
    const merged = await ctx.app.inject({
      method: 'POST',
      url: `/v1/tickets/${target.ticketId}/merge`,
      headers: acme.agent.headers,
      payload: { sourceIds: [source.ticketId] },
    })
    expect(merged.statusCode, merged.body).toBe(200)
    const number = await numberOf(source.ticketId)
    const later = await post(
      await compose({
        messageId: `<src2-${acme.slug}@x>`,
        subject: `Re: Printer jams [${acme.slug} #${number}]`,
      }),
    )
    expect(later.json()).toMatchObject({ ticketId: target.ticketId, created: false })
  })

  it('mail on a closed ticket opens a follow-up', async () => {
    const opened = await post(await compose({ messageId: `<closed-${acme.slug}@example.com>` }))
    const { ticketId } = opened.json()
    await ctx.sql`update tickets set status = 'closed' where id = ${ticketId}`
    const number = await numberOf(ticketId)
    const later = await post(
      await compose({
        messageId: `<closed2-${acme.slug}@example.com>`,
        subject: `Again [${acme.slug} #${number}]`,
      }),
    )
    expect(later.json().created).toBe(true)
    const [row] = await ctx.sql<{ follow_up_of_id: string }[]>`
      select follow_up_of_id from tickets where id = ${later.json().ticketId}`
    expect(row?.follow_up_of_id).toBe(ticketId)
  })

  it("a customer's mail asks for an AI reply as an API message does; machine mail never does", async () => {
    const tenant = await createTestTenant(ctx)
    await ctx.sql`update tenants set settings = settings || '{"aiReplyMode":"draft"}' where id = ${tenant.id}`
    const to = `${tenant.slug}@${DOMAIN}`
    const aiJobs = async () =>
      (
        await ctx.sql`select count(*)::int as n from jobs
          where tenant_id = ${tenant.id} and type = 'ai-reply'`
      )[0]?.n
    const opened = await post(await compose({ to, messageId: `<ai1-${tenant.slug}@x>` }))
    expect(opened.statusCode).toBe(202)
    expect(await aiJobs()).toBe(1)
    const number = await numberOf(opened.json().ticketId)
    const followUp = await post(
      await compose({
        to,
        messageId: `<ai2-${tenant.slug}@x>`,
        subject: `Re: [${tenant.slug} #${number}]`,
      }),
    )
    expect(followUp.json().created).toBe(false)
    expect(await aiJobs()).toBe(2)
    const vacation = await post(
      await compose({
        to,
        messageId: `<ai3-${tenant.slug}@x>`,
        subject: `Out of office [${tenant.slug} #${number}]`,
        headers: { 'Auto-Submitted': 'auto-replied' },
      }),
    )
    expect(vacation.json()).toEqual({ ignored: 'auto_reply' })
    expect(await aiJobs()).toBe(2)
  })

  it('auto-replies, bounces and loops are recorded as ignored, and never open a ticket', async () => {
    const cases: [Options, string][] = [
      [{ headers: { 'Auto-Submitted': 'auto-replied' } }, 'auto_reply'],
      [{ from: 'MAILER-DAEMON@example.com' }, 'bounce'],
      [{ headers: { 'X-Deskpilot-Loop': 'deskpilot.local' } }, 'loop'],
    ]
    for (const [options, why] of cases) {
      const before =
        await ctx.sql`select count(*)::int as n from tickets where tenant_id = ${acme.id}`
      const res = await post(await compose({ messageId: `<m-${why}-${acme.slug}@x>`, ...options }))
      expect(res.statusCode).toBe(202)
      expect(res.json()).toEqual({ ignored: why })
      const after =
        await ctx.sql`select count(*)::int as n from tickets where tenant_id = ${acme.id}`
      expect(after[0]?.n).toBe(before[0]?.n)
      const [recorded] = await ctx.sql`select ignored from email_messages
        where tenant_id = ${acme.id} and email_id = ${`m-${why}-${acme.slug}@x`}`
      expect(recorded?.ignored).toBe(why)
    }
  })

  it('takes the tenant from ?recipient=, and a message for no tenant is 404 unknown_recipient', async () => {
    const raw = await compose({ to: 'someone@example.org', messageId: `<rcpt-${other.slug}@x>` })
    const unknown = await post(raw)
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().code).toBe('unknown_recipient')
    const routed = await post(raw, {}, `?recipient=${other.slug}@${DOMAIN}`)
    expect(routed.statusCode).toBe(202)
    const [row] = await ctx.sql`select tenant_id from tickets where id = ${routed.json().ticketId}`
    expect(row?.tenant_id).toBe(other.id)
  })

  it('a 500-recipient message is taken in once', async () => {
    const many = Array.from({ length: 500 }, (_, i) => `person${i}@example.org`)
    const res = await post(
      await compose({
        to: [`${acme.slug}@${DOMAIN}`, ...many],
        messageId: `<many-${acme.slug}@x>`,
      }),
    )
    expect(res.statusCode, res.body).toBe(202)
  })
})

describe('who may post mail', () => {
  it('refuses no token, a wrong token and a user token; an API key needs email:ingest', async () => {
    const raw = await compose({ messageId: `<auth-${acme.slug}@x>` })
    const weak = await ctx.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Reader', permissions: ['tickets:read'] },
    })
    const tickets = async () =>
      (await ctx.sql`select count(*)::int as n from tickets where tenant_id = ${acme.id}`)[0]?.n
    const before = await tenantDigest(ctx.sql, acme.id)
    const ticketsBefore = await tickets()
    expect((await post(raw, { authorization: '' })).statusCode).toBe(401)
    const wrong = await post(raw, {
      authorization: 'Bearer wrong-token-0123456789abcdef0123456789',
    })
    expect(wrong.statusCode).toBe(401)
    expect((await post(raw, { ...acme.agent.headers })).statusCode).toBe(403)
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
    // A key without email:ingest (its use is recorded on the key, nothing else).
    const refused = await post(raw, {
      authorization: `Bearer ${weak.json().key}`,
      'x-tenant-id': acme.slug,
    })
    expect(refused.statusCode).toBe(403)
    expect(await tickets()).toBe(ticketsBefore)
    const gateway = await ctx.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: acme.owner.headers,
      payload: { name: 'Gateway', permissions: ['email:ingest'] },
    })
    // Another tenant named in X-Tenant-ID: 404, as on every tenant route, and B is untouched.
    const otherBefore = await tenantDigest(ctx.sql, other.id)
    const crossing = await post(await compose({ messageId: `<cross-${acme.slug}@x>` }), {
      authorization: `Bearer ${gateway.json().key}`,
      'x-tenant-id': other.slug,
    })
    expect(crossing.statusCode).toBe(404)
    expect(await tenantDigest(ctx.sql, other.id)).toBe(otherBefore)
    // The key's tenant, whatever the mail's recipient says.
    const other_raw = await compose({
      to: `${other.slug}@${DOMAIN}`,
      messageId: `<key-${acme.slug}@x>`,
    })
    const ok = await post(other_raw, {
      authorization: `Bearer ${gateway.json().key}`,
      'x-tenant-id': acme.slug,
    })
    expect(ok.statusCode, ok.body).toBe(202)
    const [row] = await ctx.sql`select tenant_id from tickets where id = ${ok.json().ticketId}`
    expect(row?.tenant_id).toBe(acme.id)
  })
})

describe('bad mail changes nothing', () => {
  const cases: [string, () => Promise<Buffer | string>, number, string][] = [
    ['no header section', async () => 'just some words with no header', 400, 'invalid_message'],
    ['no From', async () => 'To: x@y.z\r\nSubject: hi\r\n\r\nbody', 400, 'invalid_message'],
    [
      'a NUL in a header',
      async () => 'From: a@b.c\r\nSubject: x\u0000y\r\n\r\nbody',
      400,
      'invalid_message',
    ],
    [
      'a truncated multipart',
      async () =>
        (
          await compose({ attachments: [{ filename: 'a.bin', content: Buffer.alloc(4000, 7) }] })
        ).subarray(0, 600),
      202,
      '',
    ],
    [
      'too large',
      async () => Buffer.concat([await compose({}), Buffer.alloc(3 * 1024 * 1024, 97)]),
      413,
      'payload_too_large',
    ],
  ]
  it.each(cases)('%s', async (_name, make, status, code) => {
    const raw = await make()
    const before = await tenantDigest(ctx.sql, acme.id)
    const files = storedFiles().length
    const res = await post(raw)
    if (status !== 202) {
      expect(res.statusCode, res.body).toBe(status)
      expect(res.headers['content-type']).toContain('application/problem+json')
      expect(res.json().code).toBe(code)
      expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
      expect(storedFiles()).toHaveLength(files)
    } else {
      // What survives of a cut message (its headers and the start of its text) is taken in,
      // its original kept whole beside it.
      expect(res.statusCode, res.body).toBe(202)
      const [original] = await ctx.sql<{ size: number }[]>`
        select size::int from attachments
        where message_id = ${res.json().messageId} and filename = 'original.eml'`
      expect(original?.size).toBe(Buffer.byteLength(raw))
    }
  })

  it('a body that is not message/rfc822 is 415', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/inbound/email',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: { hello: 'world' },
    })
    expect(res.statusCode).toBe(415)
  })
})
