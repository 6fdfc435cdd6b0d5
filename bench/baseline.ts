// The bare baseline the api is measured against: a plain Fastify server with
// no plugins but @fastify/jwt, no logging and no hooks, one route per
// benchmarked api route. Routes that read the database verify the same JWT and
// run the same SQL with postgres.js (the list and ticket reads are built by the
// api's own query builders and sent the same pipelined way), so a ratio shows
// what our framework, guards and bookkeeping cost on top, not PostgreSQL's
// share. Started by bench/run.ts, which picks BASELINE_PORT and passes the
// api's JWT_SECRET and BENCH_DATABASE_URL.
import { mkdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import jwt from '@fastify/jwt'
import argon2 from 'argon2'
import { sql as drizzleSql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import Fastify from 'fastify'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../src/db/client.ts'
import { messages, tickets } from '../src/db/schema/helpdesk.ts'
import { readInScope } from '../src/db/scoped.ts'
import { isoTime } from '../src/db/sql-fragments.ts'
import { eventCtes } from '../src/domain/events/record.ts'
import type { Caller } from '../src/domain/tickets/caller.ts'
import { buildListQuery } from '../src/domain/tickets/ticket-list.ts'
import { ticketColumns, visibleTickets } from '../src/domain/tickets/ticket-views.ts'
import { queues } from '../src/jobs/queues.ts'
import { INBOUND_SUBJECT } from './seed.ts'

const app = Fastify({ logger: false })
const databaseUrl = process.env.BENCH_DATABASE_URL
const sql = databaseUrl
  ? postgres(databaseUrl, { max: 10, onnotice: () => {}, connection: { role: 'deskpilot_app' } })
  : undefined
const database = { sql } as unknown as DatabaseHandle
const dialect = new PgDialect()

await app.register(jwt, {
  secret: process.env.JWT_SECRET ?? 'baseline-secret-only-for-the-health-route',
  verify: { algorithms: ['HS256'], allowedIss: 'deskpilot', allowedAud: 'deskpilot-api' },
  sign: { algorithm: 'HS256', iss: 'deskpilot', aud: 'deskpilot-api', expiresIn: 900 },
})

type Claims = { sub: string; sid: string }
const TENANT_ID = process.env.BENCH_TENANT_ID ?? ''

/** What the api's caller would be for the bench owner (who sees everything). */
function ownerCaller(userId: string): Caller {
  return {
    tenantId: TENANT_ID,
    userId,
    principal: `user:${userId}`,
    seesAll: true,
    seesInternal: true,
    authorType: 'agent',
    can: () => true,
  }
}

app.get('/baseline/health', async () => ({ status: 'ok' }))

app.post<{ Body: { email: string; password: string } }>(
  '/baseline/login',
  async (request, reply) => {
    const [user] = await sql!<{ id: string; password_hash: string }[]>`
    select id, password_hash from users where lower(email) = ${request.body.email.toLowerCase()}`
    if (!user || !(await argon2.verify(user.password_hash, request.body.password))) {
      return reply.code(401).send({ code: 'invalid_credentials' })
    }
    return { accessToken: app.jwt.sign({ sub: user.id, sid: uuidv7() }) }
  },
)

app.get('/baseline/me', async (request) => {
  const claims = await request.jwtVerify<Claims>()
  const [user] = await sql!`select id, email, name from users where id = ${claims.sub}`
  return { user }
})

app.get('/baseline/members', async (request) => {
  await request.jwtVerify<Claims>()
  const rows = await readInScope(
    database,
    { tenantId: TENANT_ID },
    drizzleSql`select m.user_id as "userId", u.email, u.name, r.id as "roleId", r.name as "roleName",
      m.active, m.created_at as "joinedAt"
      from memberships m join users u on u.id = m.user_id
      join roles r on r.tenant_id = m.tenant_id and r.id = m.role_id
      where m.tenant_id = ${TENANT_ID}
      order by m.created_at, m.user_id limit 21`,
  )
  return { data: rows.slice(0, 20), nextCursor: null }
})

app.get<{ Querystring: { q?: string } }>('/baseline/tickets', async (request) => {
  const claims = await request.jwtVerify<Claims>()
  const query = { limit: 20, ...(request.query.q ? { q: request.query.q } : {}) }
  const { statement } = buildListQuery(ownerCaller(claims.sub), query)
  const rows = await readInScope(database, { tenantId: TENANT_ID }, statement)
  return { data: rows.slice(0, 20), nextCursor: null }
})

app.get<{ Params: { id: string } }>('/baseline/tickets/:id', async (request) => {
  const claims = await request.jwtVerify<Claims>()
  const [row] = await readInScope(
    database,
    { tenantId: TENANT_ID },
    drizzleSql`select ${ticketColumns} from ${tickets}
      where ${visibleTickets(ownerCaller(claims.sub))} and ${tickets.id} = ${request.params.id}`,
  )
  return row
})

// The same statements as the api's post of an agent's public reply: the
// ticket locked and read, then the message with its message.created event
// (the api's own eventCtes: the tenant's event counter, the event row, and a
// webhook delivery and its job per active endpoint that takes the event), the
// ticket's stamp (with the message's words) and the requester's email row,
// sent together. (The api's push of that job to Redis and its "new events"
// signal after the commit are its own bookkeeping.) The tenant is the one the
// request names in X-Tenant-ID (a slug, looked up once).
const messageColumns = drizzleSql`${messages.id} as "id", ${messages.ticketId} as "ticketId",
  ${messages.authorId} as "authorId", ${messages.authorType} as "authorType",
  ${messages.contactId} as "contactId", ${messages.body} as "body", ${messages.internal} as "internal",
  coalesce(${messages.sources}, '[]'::jsonb) as "sources", ${isoTime(messages.createdAt)} as "createdAt"`
const tenantIds = new Map<string, Promise<string>>()
function tenantOf(slug: string | string[] | undefined): Promise<string> {
  if (typeof slug !== 'string') return Promise.resolve(TENANT_ID)
  let id = tenantIds.get(slug)
  if (!id) {
    id = sql!<{ id: string }[]>`select id from tenants where slug = ${slug}`.then(
      ([row]) => row?.id ?? TENANT_ID,
    )
    tenantIds.set(slug, id)
  }
  return id
}
app.post<{ Params: { id: string }; Body: { body: string } }>(
  '/baseline/tickets/:id/messages',
  async (request, reply) => {
    const claims = await request.jwtVerify<Claims>()
    const tenantId = await tenantOf(request.headers['x-tenant-id'])
    const caller = { ...ownerCaller(claims.sub), tenantId }
    const ticketId = request.params.id
    const lock = dialect.sqlToQuery(
      drizzleSql`select ${ticketColumns},
        (select settings ->> 'aiReplyMode' from tenants where id = ${tenantId}) as "aiReplyMode"
        from ${tickets}
        where ${visibleTickets(caller)} and ${tickets.id} = ${ticketId}
        for update of ${tickets}`,
    )
    const messageId = uuidv7()
    const event = eventCtes(
      {
        tenantId,
        type: 'message.created',
        data: drizzleSql`jsonb_build_object('message', to_jsonb(written))`,
        ticketId,
        contactId: drizzleSql`(select ${tickets.requesterId} from ${tickets}
          where ${tickets.tenantId} = ${tenantId} and ${tickets.id} = ${ticketId})`,
        internal: false,
      },
      drizzleSql`written`,
    )
    const insert = dialect.sqlToQuery(
      drizzleSql`with written as (
          insert into messages (id, tenant_id, ticket_id, author_id, author_type, contact_id, body, internal)
          values (${messageId}, ${tenantId}, ${ticketId}, ${claims.sub}, 'agent', null, ${request.body.body}, false)
          returning ${messageColumns}),
        ${event}
        select * from written`,
    )
    const message = await sql!.begin(async (tx) => {
      await tx`select set_config('app.tenant_id', ${tenantId}, true)`
      await tx.unsafe(lock.sql, lock.params as never[], { prepare: true })
      const [[row]] = await Promise.all([
        tx.unsafe(insert.sql, insert.params as never[], { prepare: true }),
        tx`update tickets set version = version + 1, updated_at = now(),
            status = case when status in ('new', 'open') then 'pending' else status end,
            last_message_at = now(),
            (search_all, search_public) = (
              select ticket_search_append(search_all, b), ticket_search_append(search_public, b)
              from (select ${request.body.body}::text as b) m)
          where tenant_id = ${tenantId} and id = ${ticketId}`,
        tx`insert into jobs (id, tenant_id, type, payload, max_attempts)
          values (${uuidv7()}, ${tenantId}, 'email',
                  ${JSON.stringify({ template: 'ticket-reply', messageId })}::jsonb,
                  ${queues.email.maxAttempts})`,
      ])
      return row
    })
    return reply.code(201).send(message)
  },
)

// The same writes as the api's inbound mail, the bare way: no MIME parsing (the
// sender is read with a regular expression, the body is the 20 KB after the
// header), the two files (the original and a 100 KB attachment) written to
// disk, then one transaction: the email id, the contact, the numbered ticket
// with its search vectors, the message, the two attachment rows, the agents'
// notification job, and the email id's outcome.
const FILES_DIR = process.env.BENCH_FILES_DIR ?? join(tmpdir(), 'deskpilot-bench-files', 'baseline')
mkdirSync(FILES_DIR, { recursive: true })
app.addContentTypeParser(
  'message/rfc822',
  { parseAs: 'buffer', bodyLimit: 26_214_400 },
  (_r, body, done) => done(null, body),
)
app.post('/baseline/inbound/email', async (request, reply) => {
  if (request.headers.authorization !== `Bearer ${process.env.INBOUND_EMAIL_TOKEN}`) {
    return reply.code(401).send()
  }
  const raw = request.body as Buffer
  const text = raw.toString('latin1')
  const sender = /^From:.*<([^>]+)>/m.exec(text)?.[1]?.toLowerCase() ?? 'unknown@example.com'
  const emailId = /^Message-ID:\s*<([^>]+)>/im.exec(text)?.[1] ?? uuidv7()
  const headerEnd = text.indexOf('\r\n\r\n')
  const body = text.slice(headerEnd + 4, headerEnd + 4 + 20_480)
  const files = [uuidv7(), uuidv7()]
  await Promise.all([
    writeFile(join(FILES_DIR, files[0]!), raw),
    writeFile(join(FILES_DIR, files[1]!), raw.subarray(raw.length - 100 * 1024)),
  ])
  const result = await sql!.begin(async (tx) => {
    await tx`select set_config('app.tenant_id', ${TENANT_ID}, true)`
    const [claim] =
      await tx`insert into email_messages (id, tenant_id, email_id, direction, received_at)
      values (${uuidv7()}, ${TENANT_ID}, ${emailId}, 'in', now()) on conflict do nothing returning id`
    const [made] = await tx`insert into contacts (id, tenant_id, email, name)
      values (${uuidv7()}, ${TENANT_ID}, ${sender}, 'Customer') on conflict do nothing returning id`
    const [contact] = made
      ? [made]
      : await tx`select id from contacts where tenant_id = ${TENANT_ID} and email = ${sender}`
    const ticketId = uuidv7()
    await tx`with counter as (
        insert into ticket_counters (tenant_id, last_number) values (${TENANT_ID}, 1)
        on conflict (tenant_id) do update set last_number = ticket_counters.last_number + 1
        returning last_number),
      words as (select message_search_vector(${body}) as v)
      insert into tickets (id, tenant_id, number, subject, priority, requester_id, tags, search_public, search_all)
      select ${ticketId}, ${TENANT_ID}, counter.last_number, ${INBOUND_SUBJECT},
             'normal', ${contact!.id}, '{}', words.v, words.v
      from counter, words`
    const messageId = uuidv7()
    await tx`insert into messages (id, tenant_id, ticket_id, author_type, contact_id, body, internal)
      values (${messageId}, ${TENANT_ID}, ${ticketId}, 'customer', ${contact!.id}, ${body}, false)`
    await Promise.all([
      tx`insert into attachments (id, tenant_id, message_id, filename, content_type, size, sha256, storage_key, attached_at)
        values (${files[0]!}, ${TENANT_ID}, ${messageId}, 'original.eml', 'message/rfc822', ${raw.length}, '', ${files[0]!}, now()),
               (${files[1]!}, ${TENANT_ID}, ${messageId}, 'error-log.bin', 'application/octet-stream', ${100 * 1024}, '', ${files[1]!}, now())`,
      tx`insert into jobs (id, tenant_id, type, payload, max_attempts)
        values (${uuidv7()}, ${TENANT_ID}, 'email',
                ${JSON.stringify({ template: 'ticket-created', ticketId })}::jsonb, ${queues.email.maxAttempts})`,
      tx`update email_messages set ticket_id = ${ticketId}, message_id = ${messageId}, created = true
        where tenant_id = ${TENANT_ID} and id = ${claim!.id}`,
    ])
    return { ticketId, messageId, created: true }
  })
  return reply.code(202).send(result)
})

await app.listen({ host: '127.0.0.1', port: Number(process.env.BASELINE_PORT ?? 3100) })

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(async () => {
      await sql?.end({ timeout: 1 })
      process.exit(0)
    })
  })
}
