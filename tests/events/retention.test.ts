// Events are kept EVENT_RETENTION_DAYS: the sweep deletes older ones, across
// tenants, through its narrow path (drizzle/0016: app.event_sweeper), which can
// delete nothing younger than its days (never under one) and read nothing.
import { sql } from 'drizzle-orm'
import { beforeAll, describe, expect, it } from 'vitest'
import { rowsOf, withScope } from '../../src/db/scoped.ts'
import { sweepOldEvents } from '../../src/domain/events/retention.ts'
import { useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant
let other: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
  other = await createTestTenant(ctx)
})

async function openTicket(actor: Actor) {
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/v1/tickets',
    headers: actor.headers,
    payload: { subject: 'Old news', body: 'x' },
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string }
}

/** Moves a ticket's events back in time by `days`. */
async function age(ticketId: string, days: number) {
  await ctx.sql`update events set occurred_at = now() - make_interval(hours => ${days * 24})
                where ticket_id = ${ticketId}`
}

async function eventTicketIds(): Promise<string[]> {
  const rows = await ctx.sql<{ ticket_id: string }[]>`
    select distinct ticket_id from events where ticket_id is not null`
  return rows.map((r) => r.ticket_id)
}

describe('the retention sweep', () => {
  it('deletes events older than the retention in every tenant, and keeps younger ones', async () => {
    const old = await openTicket(acme.agent)
    const otherOld = await openTicket(other.agent)
    const recent = await openTicket(acme.agent)
    const fresh = await openTicket(other.agent)
    await age(old.id, 31)
    await age(otherOld.id, 45)
    await age(recent.id, 29)

    const deleted = await sweepOldEvents(ctx.app.database, 30)
    expect(deleted).toBe(4)
    const left = await eventTicketIds()
    expect(left).not.toContain(old.id)
    expect(left).not.toContain(otherOld.id)
    expect(left).toContain(recent.id)
    expect(left).toContain(fresh.id)
    // Deleted in batches: a small batch size gets to the same end.
    await age(recent.id, 40)
    expect(await sweepOldEvents(ctx.app.database, 30, 1)).toBe(2)
    expect(await eventTicketIds()).not.toContain(recent.id)
  })

  it('its path reads and deletes nothing younger than a day', async () => {
    const young = await openTicket(acme.agent)
    await age(young.id, 0.5)
    // Asked for zero days, it keeps a day.
    expect(await sweepOldEvents(ctx.app.database, 0)).toBe(0)
    expect(await eventTicketIds()).toContain(young.id)
    // Even a DELETE of everything, through that path, removes only what is old enough.
    await withScope(ctx.app.database, { eventSweeper: 1 }, (tx) =>
      tx.execute(sql`delete from events`),
    )
    expect(await eventTicketIds()).toContain(young.id)
    const old = await openTicket(acme.agent)
    await age(old.id, 2)
    const seen = await withScope(ctx.app.database, { eventSweeper: 1 }, (tx) =>
      rowsOf<{ ticket_id: string }>(tx, sql`select ticket_id from events`),
    )
    expect(seen.map((r) => r.ticket_id)).toEqual([old.id, old.id])
    // Without the path, the app role sees no tenant's events at all.
    const none = await withScope(ctx.app.database, {}, (tx) =>
      rowsOf(tx, sql`select id from events`),
    )
    expect(none).toEqual([])
  })
})
