// The bare baseline the api is measured against: a plain Fastify server with
// no plugins but @fastify/jwt, no logging and no hooks, one route per
// benchmarked api route. Routes that read the database verify the same JWT and
// run the same SQL with postgres.js (the list and ticket reads are built by the
// api's own query builders and sent the same pipelined way), so a ratio shows
// what our framework, guards and bookkeeping cost on top, not PostgreSQL's
// share. Started by bench/run.ts, which picks BASELINE_PORT and passes the
// api's JWT_SECRET and BENCH_DATABASE_URL.
import jwt from '@fastify/jwt'
import argon2 from 'argon2'
import { sql as drizzleSql } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'
import Fastify from 'fastify'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../src/db/client.ts'
import { tickets } from '../src/db/schema/helpdesk.ts'
import { readInScope } from '../src/db/scoped.ts'
import type { Caller } from '../src/domain/tickets/caller.ts'
import { buildListQuery } from '../src/domain/tickets/ticket-list.ts'
import { ticketColumns, visibleTickets } from '../src/domain/tickets/ticket-views.ts'
import { queues } from '../src/jobs/queues.ts'

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
// ticket locked and read, then the message, the ticket's stamp (with the
// message's words) and the requester's email row, sent together. (The api's
// push of that job to Redis after the commit is its own bookkeeping.)
app.post<{ Params: { id: string }; Body: { body: string } }>(
  '/baseline/tickets/:id/messages',
  async (request, reply) => {
    const claims = await request.jwtVerify<Claims>()
    const ticketId = request.params.id
    const lock = dialect.sqlToQuery(
      drizzleSql`select ${ticketColumns},
        (select settings ->> 'aiReplyMode' from tenants where id = ${TENANT_ID}) as "aiReplyMode"
        from ${tickets}
        where ${visibleTickets(ownerCaller(claims.sub))} and ${tickets.id} = ${ticketId}
        for update of ${tickets}`,
    )
    const messageId = uuidv7()
    const message = await sql!.begin(async (tx) => {
      await tx`select set_config('app.tenant_id', ${TENANT_ID}, true)`
      await tx.unsafe(lock.sql, lock.params as never[], { prepare: true })
      const [[row]] = await Promise.all([
        tx`insert into messages (id, tenant_id, ticket_id, author_id, author_type, body, internal)
          values (${messageId}, ${TENANT_ID}, ${ticketId}, ${claims.sub}, 'agent', ${request.body.body}, false)
          returning id, ticket_id as "ticketId", body, created_at as "createdAt"`,
        tx`update tickets set version = version + 1, updated_at = now(),
            status = case when status in ('new', 'open') then 'pending' else status end,
            last_message_at = now(),
            (search_all, search_public) = (
              select ticket_search_append(search_all, b), ticket_search_append(search_public, b)
              from (select ${request.body.body}::text as b) m)
          where tenant_id = ${TENANT_ID} and id = ${ticketId}`,
        tx`insert into jobs (id, tenant_id, type, payload, max_attempts)
          values (${uuidv7()}, ${TENANT_ID}, 'email',
                  ${JSON.stringify({ template: 'ticket-reply', messageId })}::jsonb,
                  ${queues.email.maxAttempts})`,
      ])
      return row
    })
    return reply.code(201).send(message)
  },
)

await app.listen({ host: '127.0.0.1', port: Number(process.env.BASELINE_PORT ?? 3100) })

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(async () => {
      await sql?.end({ timeout: 1 })
      process.exit(0)
    })
  })
}
