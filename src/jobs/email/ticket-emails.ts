// What the ticket notification emails need, read in the job's tenant (the
// job runtime keeps its own queries rather than import the api's modules):
// `ticket-reply` tells the requester about a public agent or AI reply;
// `ticket-created` tells the assignee, or with none every active agent (a
// member whose role holds tickets:read_all), about a customer's new ticket.
// Null means there is nobody to tell (the author is the requester, or the
// tenant has no agents): the job succeeds without sending.
import { UnrecoverableError } from 'bullmq'
import { sql } from 'drizzle-orm'
import type { Config } from '../../config.ts'
import type { DatabaseHandle } from '../../db/client.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import * as templates from './email-templates.ts'

/** Bounds one notification's recipient list; a bigger team should use an assignee or a group address. */
const MAX_RECIPIENTS = 100
const BODY_CHARS = 4000

type TicketFacts = {
  ticketId: string
  number: number
  subject: string
  tenantName: string
  tenantSlug: string
  requesterId: string
  requesterName: string
  requesterEmail: string
}

const ticketFacts = sql`t.id as "ticketId", t.number, t.subject, ten.name as "tenantName",
  ten.slug as "tenantSlug", t.requester_id as "requesterId", r.name as "requesterName",
  r.email as "requesterEmail"`

/** The ticket's page in the SPA; the tenant travels along, as a user may belong to several. */
export function ticketLink(config: Config, ticketId: string, tenantSlug: string): string {
  const url = new URL(`${config.APP_URL.replace(/\/+$/, '')}/tickets/${ticketId}`)
  url.searchParams.set('tenant', tenantSlug)
  return url.toString()
}

export async function prepareTicketReply(
  database: DatabaseHandle,
  config: Config,
  tenantId: string | null,
  messageId: string,
): Promise<templates.Outgoing | null> {
  if (!tenantId) throw new UnrecoverableError('a ticket email job needs its tenant')
  const [row] = await withScope(database, { tenantId }, (tx) =>
    rowsOf<
      TicketFacts & {
        body: string
        internal: boolean
        authorType: string
        authorId: string | null
        authorName: string | null
      }
    >(
      tx,
      sql`select ${ticketFacts}, left(m.body, ${BODY_CHARS}) as body, m.internal,
                 m.author_type as "authorType", m.author_id as "authorId", a.name as "authorName"
          from messages m
          join tickets t on t.tenant_id = m.tenant_id and t.id = m.ticket_id
          join tenants ten on ten.id = t.tenant_id
          join users r on r.id = t.requester_id
          left join users a on a.id = m.author_id
          where m.tenant_id = ${tenantId} and m.id = ${messageId} and t.deleted_at is null`,
    ),
  )
  if (!row) throw new UnrecoverableError('message not found')
  if (row.internal || (row.authorType !== 'agent' && row.authorType !== 'ai')) {
    throw new UnrecoverableError('only a public agent or AI reply is emailed')
  }
  if (row.authorId === row.requesterId) return null
  const byAi = row.authorType === 'ai'
  return {
    to: row.requesterEmail,
    ticketId: row.ticketId,
    email: templates.ticketReply({
      ticket: row,
      requesterName: row.requesterName,
      authorName: byAi
        ? `${row.tenantName} support (automated)`
        : (row.authorName ?? row.tenantName),
      byAi,
      body: row.body,
      link: ticketLink(config, row.ticketId, row.tenantSlug),
    }),
  }
}

export async function prepareTicketCreated(
  database: DatabaseHandle,
  config: Config,
  tenantId: string | null,
  ticketId: string,
): Promise<templates.Outgoing | null> {
  if (!tenantId) throw new UnrecoverableError('a ticket email job needs its tenant')
  const found = await withScope(database, { tenantId }, async (tx) => {
    const [ticket] = await rowsOf<TicketFacts & { assigneeId: string | null; body: string }>(
      tx,
      sql`select ${ticketFacts}, t.assignee_id as "assigneeId",
                 (select left(m.body, ${BODY_CHARS}) from messages m
                  where m.tenant_id = t.tenant_id and m.ticket_id = t.id and not m.internal
                  order by m.created_at, m.id limit 1) as body
          from tickets t
          join tenants ten on ten.id = t.tenant_id
          join users r on r.id = t.requester_id
          where t.tenant_id = ${tenantId} and t.id = ${ticketId} and t.deleted_at is null`,
    )
    if (!ticket) return null
    const agents = await rowsOf<{ id: string; email: string }>(
      tx,
      sql`select u.id, u.email from memberships ms
          join roles ro on ro.tenant_id = ms.tenant_id and ro.id = ms.role_id
          join users u on u.id = ms.user_id
          where ms.tenant_id = ${tenantId} and ms.active
            and 'tickets:read_all' = any(ro.permissions)
            and ms.user_id <> ${ticket.requesterId}
          order by u.id = ${ticket.assigneeId ?? ticket.requesterId} desc, u.email
          limit ${MAX_RECIPIENTS}`,
    )
    // The assignee when there is one and still an active agent, else every active agent.
    const assignee = agents.find((a) => a.id === ticket.assigneeId)
    return { ticket, recipients: (assignee ? [assignee] : agents).map((a) => a.email) }
  })
  if (!found) throw new UnrecoverableError('ticket not found')
  const { ticket, recipients } = found
  if (recipients.length === 0) return null
  return {
    to: recipients,
    ticketId: ticket.ticketId,
    email: templates.ticketCreated({
      ticket,
      requesterName: ticket.requesterName,
      body: ticket.body ?? '',
      link: ticketLink(config, ticket.ticketId, ticket.tenantSlug),
    }),
  }
}
