// What the ticket notification emails are written from, read in the job's
// tenant: for `ticket-reply`, the message with its ticket, requester and
// author; for `ticket-created`, the ticket with its first public message and
// whom to tell: the assignee when there is one and still an active agent, else
// every active agent (agents.ts), never the requester.
import { sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { DatabaseHandle } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { messages, tickets } from '../../db/schema/helpdesk.ts'
import { tenants } from '../../db/schema/tenants.ts'
import { users } from '../../db/schema/users.ts'
import { rowsOf, withScope } from '../../db/scoped.ts'
import { contactDisplayName } from '../contacts/requesters.ts'
import { membershipRoleJoin } from '../members/membership-role.ts'
import { agentRole } from '../tickets/agents.ts'

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
  /** the member who is the requester's contact, if any */
  requesterUserId: string | null
  /** the contact's name, else its address's local part */
  requesterName: string
  /** null once the contact is erased: nobody to write to */
  requesterEmail: string | null
}

const t = tickets
const m = messages
const author = alias(users, 'author')

/** The facts of a ticket, from `t` joined with its tenant and `requester`. */
const ticketFacts = sql`${t.id} as "ticketId", ${t.number} as number, ${t.subject} as subject,
  ${tenants.name} as "tenantName", ${tenants.slug} as "tenantSlug", ${t.requesterId} as "requesterId",
  ${contacts.userId} as "requesterUserId", ${contactDisplayName} as "requesterName",
  ${contacts.email} as "requesterEmail"`
const withTenantAndRequester = sql`join ${tenants} on ${tenants.id} = ${t.tenantId}
  join ${contacts} on ${contacts.tenantId} = ${t.tenantId} and ${contacts.id} = ${t.requesterId}`

type ReplyFacts = TicketFacts & {
  body: string
  internal: boolean
  authorType: string
  authorId: string | null
  authorName: string | null
}

/** The message to email about, with its live ticket; null when either is gone. */
export async function readTicketReply(
  database: DatabaseHandle,
  tenantId: string,
  messageId: string,
): Promise<ReplyFacts | null> {
  const [row] = await withScope(database, { tenantId }, (tx) =>
    rowsOf<ReplyFacts>(
      tx,
      sql`select ${ticketFacts}, left(${m.body}, ${BODY_CHARS}) as body, ${m.internal} as internal,
                 ${m.authorType} as "authorType", ${m.authorId} as "authorId",
                 ${author.name} as "authorName"
          from ${m}
          join ${t} on ${t.tenantId} = ${m.tenantId} and ${t.id} = ${m.ticketId}
          ${withTenantAndRequester}
          left join ${users} ${author} on ${author.id} = ${m.authorId}
          where ${m.tenantId} = ${tenantId} and ${m.id} = ${messageId} and ${t.deletedAt} is null`,
    ),
  )
  return row ?? null
}

type CreatedFacts = TicketFacts & { assigneeId: string | null; body: string | null }

/** The new ticket and the addresses to tell; null when the ticket is gone. */
export async function readTicketCreated(
  database: DatabaseHandle,
  tenantId: string,
  ticketId: string,
): Promise<{ ticket: CreatedFacts; recipients: string[] } | null> {
  return withScope(database, { tenantId }, async (tx) => {
    const [ticket] = await rowsOf<CreatedFacts>(
      tx,
      sql`select ${ticketFacts}, ${t.assigneeId} as "assigneeId",
                 (select left(${m.body}, ${BODY_CHARS}) from ${m}
                  where ${m.tenantId} = ${t.tenantId} and ${m.ticketId} = ${t.id} and not ${m.internal}
                  order by ${m.createdAt}, ${m.id} limit 1) as body
          from ${t}
          ${withTenantAndRequester}
          where ${t.tenantId} = ${tenantId} and ${t.id} = ${ticketId} and ${t.deletedAt} is null`,
    )
    if (!ticket) return null
    const agents = await rowsOf<{ id: string; email: string }>(
      tx,
      sql`select ${users.id} as id, ${users.email} as email from ${memberships}
          join ${roles} on ${membershipRoleJoin}
          join ${users} on ${users.id} = ${memberships.userId}
          where ${memberships.tenantId} = ${tenantId} and ${memberships.active}
            and ${agentRole(roles.permissions)}
            and ${memberships.userId} is distinct from ${ticket.requesterUserId}
          order by ${users.id} = ${ticket.assigneeId} desc nulls last, ${users.email}
          limit ${MAX_RECIPIENTS}`,
    )
    // The assignee when there is one and still an active agent, else every active agent.
    const assignee = agents.find((a) => a.id === ticket.assigneeId)
    return { ticket, recipients: (assignee ? [assignee] : agents).map((a) => a.email) }
  })
}
