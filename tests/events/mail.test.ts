// Mail in writes its events through the same functions as the API: a new
// sender's mail is contact.created, ticket.created and message.created in the
// mail's transaction; a Message-ID seen before writes none.
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { useTestApp } from '../helpers/app.ts'
import { createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const TOKEN = 'inbound-token-for-event-tests-0123456789'
const DOMAIN = 'in.deskpilot.test'
const ctx = await useTestApp({
  env: { INBOUND_DOMAIN: DOMAIN, INBOUND_EMAIL_TOKEN: TOKEN, LOG_LEVEL: 'silent' },
})
let acme: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

function post(raw: Buffer) {
  return ctx.app.inject({
    method: 'POST',
    url: '/v1/inbound/email',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'message/rfc822' },
    payload: raw,
  })
}

describe('events of mail in', () => {
  it('a new sender: contact, ticket and message events; the same mail again: none', async () => {
    const raw = await new MailComposer({
      from: 'Jane Doe <jane@example.com>',
      to: `${acme.slug}@${DOMAIN}`,
      subject: 'Printer jams',
      text: 'The printer jams on page 2.',
      messageId: '<jam-1@example.com>',
    })
      .compile()
      .build()
    const first = await post(raw)
    expect(first.statusCode, first.body).toBe(202)
    const rows = await ctx.sql<
      { type: string; sequence: number; data: Record<string, Record<string, unknown>> }[]
    >`
      select type, sequence::int as sequence, data from events
      where tenant_id = ${acme.id} order by sequence`
    expect(rows.map((r) => [r.type, r.sequence])).toEqual([
      ['contact.created', 1],
      ['ticket.created', 2],
      ['message.created', 3],
    ])
    expect(rows[0]!.data.contact).toMatchObject({ email: 'jane@example.com' })
    expect(rows[1]!.data.ticket).toMatchObject({ subject: 'Printer jams' })
    expect(rows[2]!.data.message).toMatchObject({ authorType: 'customer', internal: false })

    const again = await post(raw)
    expect(again.statusCode, again.body).toBe(200)
    const [count] = await ctx.sql<{ n: number }[]>`
      select count(*)::int as n from events where tenant_id = ${acme.id}`
    expect(count!.n).toBe(3)
  })
})
