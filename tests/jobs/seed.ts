// Rows the job tests need (users, tenants, roles, invitations), written as the
// superuser like any test arrangement, and polling helpers for job rows.
import { randomBytes } from 'node:crypto'
import type postgres from 'postgres'
import type { DatabaseHandle } from '../../src/db/client.ts'
import { withScope } from '../../src/db/scoped.ts'
import { insertJob, type QueuedJob } from '../../src/jobs/outbox.ts'
import type { Payload, QueueName } from '../../src/jobs/queues.ts'

type Sql = postgres.Sql

const uniq = () => randomBytes(4).toString('hex')

export async function seedUser(sql: Sql, name = 'Ada <Admin> & Co') {
  const email = `user-${uniq()}@example.test`
  const [row] = await sql<{ id: string }[]>`
    insert into users (id, email, name, password_hash)
    values (gen_random_uuid(), ${email}, ${name}, 'x') returning id`
  return { id: row!.id, email, name }
}

export async function seedTenant(sql: Sql, name = `Acme ${uniq()}`) {
  const [tenant] = await sql<{ id: string }[]>`
    insert into tenants (id, name, slug) values (gen_random_uuid(), ${name}, ${`t-${uniq()}`})
    returning id`
  const [role] = await sql<{ id: string }[]>`
    insert into roles (id, tenant_id, name) values (gen_random_uuid(), ${tenant!.id}, 'agent')
    returning id`
  return { id: tenant!.id, name, roleId: role!.id }
}

export async function seedInvitation(
  sql: Sql,
  tenant: { id: string; roleId: string },
  invitedBy: string | null,
) {
  const email = `invitee-${uniq()}@example.test`
  const [row] = await sql<{ id: string }[]>`
    insert into invitations (id, tenant_id, email, role_id, invited_by, expires_at)
    values (gen_random_uuid(), ${tenant.id}, ${email}, ${tenant.roleId}, ${invitedBy},
            now() + interval '7 days')
    returning id`
  return { id: row!.id, email }
}

/** Inserts an outbox row the way a route does, in its own committed transaction. */
export function queueJob<Q extends QueueName>(
  database: DatabaseHandle,
  tenantId: string | null,
  queue: Q,
  payload: Payload<Q>,
): Promise<QueuedJob> {
  return withScope(database, { tenantId }, (tx) => insertJob(tx, { tenantId, queue, payload }))
}

export type JobRowView = {
  state: string
  attempts: number
  error: string | null
  result: unknown
  finishedAt: Date | null
}

export async function jobRow(sql: Sql, id: string): Promise<JobRowView | undefined> {
  const [row] = await sql<JobRowView[]>`
    select state, attempts, error, result, finished_at as "finishedAt" from jobs where id = ${id}`
  return row
}

/** Polls the row until `done` holds (default: it finished), or throws. */
export async function waitForJob(
  sql: Sql,
  id: string,
  done: (row: JobRowView) => boolean = (r) => r.state === 'succeeded' || r.state === 'failed',
  timeoutMs = 15_000,
): Promise<JobRowView> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const row = await jobRow(sql, id)
    if (row && done(row)) return row
    if (Date.now() > until) throw new Error(`job ${id} not done: ${JSON.stringify(row)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The token from a link in an email body. */
export function tokenFrom(text: string, path: string): string {
  const match = new RegExp(`${path}\\?token=([A-Za-z0-9_-]+)`).exec(text)
  if (!match) throw new Error(`no ${path} link in:\n${text}`)
  return match[1]!
}
