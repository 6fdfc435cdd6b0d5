// The SMTP front door (`npm run mail-in`), a real smtp-server on loopback fed
// by a real SMTP client (nodemailer): RCPT TO is refused (550) for anything
// but a live tenant's address, oversized data is refused (552), a message
// that cannot be read is refused for good (550), and a good one lands in the
// same ingestion path as the HTTP hook.
import nodemailer from 'nodemailer'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { QueuedJob } from '../../src/jobs/outbox.ts'
import { closeReceiver, createSmtpReceiver, listen } from '../../src/mail-in/smtp-receiver.ts'
import { useTestApp } from '../helpers/app.ts'
import { tenantDigest } from '../helpers/row-digest.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const DOMAIN = 'in.deskpilot.test'
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent', AUTH_RATE_LIMIT_MAX: '1000' } })
const dispatched: QueuedJob[] = []
const announced: string[] = []
const receiver = createSmtpReceiver(
  {
    database: ctx.app.database,
    storage: ctx.app.storage,
    log: ctx.app.log,
    dispatch: async (jobs) => {
      dispatched.push(...jobs)
    },
    announce: (tenantId) => {
      announced.push(tenantId)
      ctx.app.eventSignal.publish(tenantId)
    },
  },
  {
    domain: DOMAIN,
    host: '127.0.0.1',
    port: 0,
    maxBytes: 64 * 1024,
    attachmentMaxBytes: 64 * 1024,
  },
)
const port = await listen(receiver, '127.0.0.1', 0)
afterAll(() => closeReceiver(receiver))

let acme: TestTenant
beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

function client() {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true })
}

type Refusal = { responseCode?: number; rejected?: string[] }

describe('mail-in', () => {
  it('takes in mail to a tenant address and opens a ticket', async () => {
    const info = await client().sendMail({
      from: 'Ada <ada@example.com>',
      to: `${acme.slug}@${DOMAIN}`,
      subject: 'By SMTP',
      text: 'Hello over SMTP.',
      messageId: `<smtp-${acme.slug}@example.com>`,
    })
    expect(info.accepted).toEqual([`${acme.slug}@${DOMAIN}`])
    const [ticket] = await ctx.sql<{ id: string; subject: string }[]>`
      select id, subject from tickets where tenant_id = ${acme.id} and subject = 'By SMTP'`
    expect(ticket).toBeDefined()
    expect(dispatched.some((j) => j.queue === 'email')).toBe(true)
    // Its events are announced to the live streams, after the commit.
    expect(announced).toContain(acme.id)
  })

  it('keeps serving after a sender resets its connection mid-session', async () => {
    const { connect } = await import('node:net')
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('data', () => resolve()))
    socket.write('EHLO reset.example\r\nMAIL FROM:<a@reset.example>\r\n')
    await new Promise((r) => setTimeout(r, 50))
    socket.resetAndDestroy()
    await new Promise((r) => setTimeout(r, 100))
    const sent = await client().sendMail({
      from: 'after@example.com',
      to: `${acme.slug}@${DOMAIN}`,
      subject: 'After a reset',
      text: 'Still here?',
    })
    expect(sent.accepted).toHaveLength(1)
  })

  it('refuses recipients that name no tenant with 550, before any data', async () => {
    const before = await tenantDigest(ctx.sql, acme.id)
    const err = (await client()
      .sendMail({
        from: 'ada@example.com',
        to: [`nobody-here@${DOMAIN}`, `${acme.slug}@elsewhere.example`],
        subject: 'x',
        text: 'y',
      })
      .catch((e: unknown) => e)) as Refusal
    expect(err.responseCode).toBe(550)
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('refuses data over the size limit with 552 and keeps nothing', async () => {
    const before = await tenantDigest(ctx.sql, acme.id)
    const err = (await client()
      .sendMail({
        from: 'ada@example.com',
        to: `${acme.slug}@${DOMAIN}`,
        subject: 'big',
        text: 'x'.repeat(200 * 1024),
      })
      .catch((e: unknown) => e)) as Refusal
    expect(err.responseCode).toBe(552)
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('refuses a message with no From for good (550)', async () => {
    const before = await tenantDigest(ctx.sql, acme.id)
    const err = (await client()
      .sendMail({
        envelope: { from: 'ada@example.com', to: [`${acme.slug}@${DOMAIN}`] },
        raw: 'To: someone@example.com\r\nSubject: no sender\r\n\r\nbody\r\n',
      })
      .catch((e: unknown) => e)) as Refusal
    expect(err.responseCode).toBe(550)
    expect(await tenantDigest(ctx.sql, acme.id)).toBe(before)
  })

  it('takes at most 100 recipients a message (452 past that)', async () => {
    const to = Array.from({ length: 101 }, () => `${acme.slug}@${DOMAIN}`).map((a, i) =>
      a.replace('@', `+${i}@`),
    )
    const info = await client().sendMail({
      from: 'ada@example.com',
      to,
      subject: 'many',
      text: 'hi',
    })
    expect(info.accepted).toHaveLength(100)
    expect(info.rejected).toHaveLength(1)
  })
})
