// What `npm run bench` loads: each api route next to its baseline route in
// bench/baseline.ts. `prepare` runs once before a route's rounds and returns
// the headers (a token, X-Tenant-ID) its requests need; `paths` spreads the
// requests over many rows (both targets get the same list, rewritten to their
// own path prefix).
import { randomBytes } from 'node:crypto'
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import type postgres from 'postgres'
import { type Receiver, startReceiver } from './receiver.ts'
import { BENCH_EMAIL, BENCH_PASSWORD, BENCH_SLUG, INBOUND_SUBJECT, seedBench } from './seed.ts'
import { BENCH_INBOUND_DOMAIN, BENCH_INBOUND_TOKEN } from './setup.ts'

export type BenchContext = {
  /** the api's base URL, e.g. to sign up and log in through the real routes */
  apiUrl: string
  /** a superuser connection to the bench database, for seeding rows directly */
  sql: postgres.Sql
}

export type BenchRoute = {
  name: string
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** path on the api */
  path: string
  /** path on the baseline server doing the same work the bare way */
  baselinePath: string
  headers?: Record<string, string>
  body?: string
  /** runs once before the rounds; what it returns is merged into `headers` */
  prepare?: (ctx: BenchContext) => Promise<{ headers?: Record<string, string> }>
  /** per-request paths, given the target's path (api or baseline) */
  paths?: (path: string) => string[]
  /** the body's Content-Type (application/json by default) */
  contentType?: string
  /** a fresh body for every request (instead of `body`) */
  makeBody?: () => string
  /** runs before every load of this route's api and baseline (warm-up and rounds) */
  beforeLoad?: (ctx: BenchContext) => Promise<void>
  /** runs once after the route's rounds */
  after?: (ctx: BenchContext) => Promise<void>
  /**
   * The name of another route whose api target is loaded in the same
   * interleaved rounds as this one's two; the summary prints this route's api
   * throughput as a ratio of that one's (e.g. a post with a webhook against
   * the same post without).
   */
  compareWith?: string
}

const seededHeaders = async ({ apiUrl, sql }: BenchContext) => ({
  headers: (await seedBench(apiUrl, sql)).headers,
})

/** The bench tenant's open tickets, for routes that take a ticket id. */
let ticketIds: string[] = []
const withTickets = async (ctx: BenchContext) => {
  const seeded = await seedBench(ctx.apiUrl, ctx.sql)
  const rows = await ctx.sql<{ id: string }[]>`
    select id from tickets where tenant_id = ${seeded.tenantId} and status not in ('closed')
    order by number limit 500`
  ticketIds = rows.map((r) => r.id)
  return { headers: seeded.headers }
}
const perTicket = (suffix: string) => (path: string) =>
  ticketIds.map((id) => path.replace(/tickets\/[^/]+.*$/, `tickets/${id}${suffix}`))

/**
 * The bench tenant's one webhook endpoint (every event type, on a loopback
 * receiver answering 200), made through POST /v1/webhooks by the first route
 * that needs it. No worker runs during the api bench, so nothing is delivered:
 * what the api pays is the delivery and job rows its event's statement writes.
 * It is active only while the webhook route's api and baseline load: every
 * other load, the plain message post's included, runs with it turned off, which the event
 * statement's fan-out skips as it would skip no endpoint at all.
 */
let receiver: Receiver | undefined
let endpointId: string | undefined
async function ensureWebhook(ctx: BenchContext): Promise<string> {
  if (endpointId) return endpointId
  const seeded = await seedBench(ctx.apiUrl, ctx.sql)
  receiver ??= await startReceiver()
  const res = await fetch(`${ctx.apiUrl}/v1/webhooks`, {
    method: 'POST',
    headers: { ...seeded.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, events: ['*'], description: 'bench receiver' }),
  })
  if (res.status !== 201)
    throw new Error(`webhook create failed: ${res.status} ${await res.text()}`)
  endpointId = ((await res.json()) as { id: string }).id
  return endpointId
}
const setWebhookActive = (active: boolean) => async (ctx: BenchContext) => {
  const seeded = await seedBench(ctx.apiUrl, ctx.sql)
  await ctx.sql`update webhook_endpoints set active = ${active}
    where tenant_id = ${seeded.tenantId}`
}

/**
 * A customer's mail as the inbound route takes it: 20 KB of text and a 100 KB
 * attachment, built once; each request gets a Message-ID of its own (the same
 * one again would be a duplicate, answered without writing) and a sender out
 * of 200, so contacts are both found and made.
 */
const MESSAGE_ID_SLOT = 'bench-message-id-slot'
const SENDER_SLOT = 'bench-sender-slot'
const mailTemplate = (
  await new MailComposer({
    from: `Customer <${SENDER_SLOT}@example.com>`,
    to: `${BENCH_SLUG}@${BENCH_INBOUND_DOMAIN}`,
    subject: INBOUND_SUBJECT,
    messageId: `<${MESSAGE_ID_SLOT}@example.com>`,
    text: 'The invoice total differs from the quote we agreed on last month, please check. '.repeat(
      256,
    ),
    attachments: [{ filename: 'error-log.bin', content: randomBytes(100 * 1024) }],
  })
    .compile()
    .build()
).toString('latin1')
let mailSerial = 0
function benchMail(): string {
  mailSerial++
  return mailTemplate
    .replace(MESSAGE_ID_SLOT, `${process.pid}.${Date.now()}.${mailSerial}`)
    .replace(SENDER_SLOT, `customer${mailSerial % 200}`)
}

const MESSAGE_POST = 'POST /v1/tickets/{id}/messages'
const MESSAGE_BODY = JSON.stringify({
  body: 'Thanks, we are looking into it and will update you shortly.',
})

export const routes: BenchRoute[] = [
  { name: 'GET /health', path: '/health', baselinePath: '/baseline/health' },
  {
    // Bounded by argon2id by design (the baseline verifies the same hash).
    name: 'POST /v1/auth/login',
    method: 'POST',
    path: '/v1/auth/login',
    baselinePath: '/baseline/login',
    body: JSON.stringify({ email: BENCH_EMAIL, password: BENCH_PASSWORD }),
    prepare: async (ctx) => {
      await seedBench(ctx.apiUrl, ctx.sql)
      return {}
    },
  },
  {
    name: 'GET /v1/auth/me',
    path: '/v1/auth/me',
    baselinePath: '/baseline/me',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/members',
    path: '/v1/members',
    baselinePath: '/baseline/members',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/tickets',
    path: '/v1/tickets',
    baselinePath: '/baseline/tickets',
    prepare: seededHeaders,
  },
  {
    name: 'GET /v1/tickets/{id}',
    path: '/v1/tickets/x',
    baselinePath: '/baseline/tickets/x',
    prepare: withTickets,
    paths: perTicket(''),
  },
  {
    name: MESSAGE_POST,
    method: 'POST',
    path: '/v1/tickets/x/messages',
    baselinePath: '/baseline/tickets/x/messages',
    body: MESSAGE_BODY,
    prepare: withTickets,
    paths: perTicket('/messages'),
    beforeLoad: setWebhookActive(false),
  },
  {
    // The same post with one active webhook endpoint taking every event: the
    // message.created event's statement also writes a delivery and its job.
    // Loaded in the same rounds as the plain post (compareWith), whose api
    // throughput the summary sets this one's against. The baseline runs its
    // same statements, which write the same delivery and job.
    name: `${MESSAGE_POST}, 1 webhook`,
    method: 'POST',
    path: '/v1/tickets/x/messages',
    baselinePath: '/baseline/tickets/x/messages',
    body: MESSAGE_BODY,
    prepare: async (ctx) => {
      await ensureWebhook(ctx)
      return withTickets(ctx)
    },
    paths: perTicket('/messages'),
    beforeLoad: setWebhookActive(true),
    after: setWebhookActive(false),
    compareWith: MESSAGE_POST,
  },
  {
    name: 'GET /v1/tickets?q=',
    path: '/v1/tickets?q=printer%20failing',
    baselinePath: '/baseline/tickets?q=printer%20failing',
    prepare: seededHeaders,
  },
  {
    // Parsing, threading, files and the ticket with its message, attachments and job.
    name: 'POST /v1/inbound/email',
    method: 'POST',
    path: '/v1/inbound/email',
    baselinePath: '/baseline/inbound/email',
    contentType: 'message/rfc822',
    headers: { authorization: `Bearer ${BENCH_INBOUND_TOKEN}` },
    makeBody: benchMail,
    prepare: async (ctx) => {
      await seedBench(ctx.apiUrl, ctx.sql)
      return {}
    },
  },
]
