// The ticket notification emails (what they are written from is the domain's:
// domain/email/ticket-emails.ts): `ticket-reply` tells the requester about a
// public agent or AI reply; `ticket-created` tells the assignee, or with none
// every active agent, about a customer's new ticket. Null means there is
// nobody to tell (the author is the requester, or the tenant has no agents):
// the job succeeds without sending.
import { UnrecoverableError } from 'bullmq'
import type { Config } from '../../config.ts'
import type { DatabaseHandle } from '../../db/client.ts'
import { readTicketCreated, readTicketReply } from '../../domain/email/ticket-emails.ts'
import * as templates from './email-templates.ts'

/** The ticket's page in the SPA; the tenant travels along, as a user may belong to several. */
/** The tenant's inbound address, when inbound mail is set up: `<slug>@INBOUND_DOMAIN`. */
function tenantAddress(config: Config, tenantSlug: string): { replyTo?: string } {
  return config.INBOUND_DOMAIN ? { replyTo: `${tenantSlug}@${config.INBOUND_DOMAIN}` } : {}
}

function ticketLink(config: Config, ticketId: string, tenantSlug: string): string {
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
  const row = await readTicketReply(database, tenantId, messageId)
  if (!row) throw new UnrecoverableError('message not found')
  if (row.internal || (row.authorType !== 'agent' && row.authorType !== 'ai')) {
    throw new UnrecoverableError('only a public agent or AI reply is emailed')
  }
  if (row.requesterEmail === null || row.authorId === row.requesterUserId) return null
  const byAi = row.authorType === 'ai'
  return {
    to: row.requesterEmail,
    ticketId: row.ticketId,
    ...tenantAddress(config, row.tenantSlug),
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
  const found = await readTicketCreated(database, tenantId, ticketId)
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
