// contact.created and contact.updated, written by the statement that writes
// the contact: its INSERT or UPDATE becomes the CTE `written` (returning the
// contact as GET shows it, contactColumns) and the event's INSERT reads it, so
// the event costs no round trip, and a write that touched no row (an insert
// that lost its race, an update that found nothing) writes no event.
import { type SQL, sql } from 'drizzle-orm'
import type { EventType } from '../../db/schema/events.ts'
import { eventCtes } from './record.ts'

export function withContactEvent(
  tenantId: string,
  type: Extract<EventType, `contact.${string}`>,
  write: SQL,
  returning: SQL = sql`*`,
): SQL {
  const event = eventCtes(
    {
      tenantId,
      type,
      data: sql`jsonb_build_object('contact', to_jsonb(written))`,
      contactId: sql`written.id`,
    },
    sql`written`,
  )
  return sql`with written as (${write}), ${event} select ${returning} from written`
}
