// Uploads never attached are deleted after a day, rows and files, across
// tenants, through the narrow app.attachment_sweeper path; attached files and
// fresh uploads stay. The worker (and the api in local mode) runs the sweep on
// a timer and logs what it did.
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { describe, expect, it } from 'vitest'
import { attachments } from '../../src/db/schema/files.ts'
import { rowsOf, withScope } from '../../src/db/scoped.ts'
import { attachUploads } from '../../src/domain/files/attachments.ts'
import { sweepUnattachedUploads } from '../../src/domain/files/sweep-uploads.ts'
import { startUploadSweeper } from '../../src/jobs/upload-sweeper.ts'
import { useTestApp } from '../helpers/app.ts'
import { fileForm, PNG } from '../helpers/multipart.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
const { app } = ctx
const acme = await createTestTenant(ctx)
const other = await createTestTenant(ctx)

async function upload(actor: Actor, name = 'report.png'): Promise<string> {
  const form = fileForm(name, PNG, 'image/png')
  const res = await app.inject({
    method: 'POST',
    url: '/v1/attachments',
    headers: { ...actor.headers, ...form.headers },
    payload: form.payload,
  })
  expect(res.statusCode, res.body).toBe(201)
  return res.json().id
}

/** Makes an upload as old as `hours`, as the database's clock sees it. */
async function age(id: string, hours: number) {
  await ctx.sql`update attachments set created_at = now() - make_interval(hours => ${hours})
                where id = ${id}`
}

async function exists(id: string): Promise<{ row: boolean; file: boolean }> {
  const [row] = await ctx.sql<{ storage_key: string }[]>`
    select storage_key from attachments where id = ${id}`
  return {
    row: row !== undefined,
    file: row ? existsSync(join(ctx.config.STORAGE_DIR, row.storage_key)) : false,
  }
}

/** Any file left under the tenant's folder for this attachment id. */
function fileOnDisk(tenant: TestTenant, id: string): boolean {
  return existsSync(join(ctx.config.STORAGE_DIR, tenant.id, id))
}

/** A message to attach to, written directly: the sweep cares only that it exists. */
async function messageOf(tenant: TestTenant): Promise<string> {
  const [row] = await ctx.sql<{ id: string }[]>`
    with contact as (
      insert into contacts (id, tenant_id, email)
      values (gen_random_uuid(), ${tenant.id}, ${`c-${randomUUID()}@example.com`}) returning id
    ), ticket as (
      insert into tickets (id, tenant_id, number, subject, requester_id)
      select gen_random_uuid(), ${tenant.id},
        (select coalesce(max(number), 0) + 1 from tickets where tenant_id = ${tenant.id}),
        'Printer on fire', contact.id from contact
      returning id
    )
    insert into messages (id, tenant_id, ticket_id, author_type, body)
    select gen_random_uuid(), ${tenant.id}, ticket.id, 'customer', 'See the photo.' from ticket
    returning id`
  return row!.id
}

async function attach(tenant: TestTenant, actor: Actor, id: string) {
  const messageId = await messageOf(tenant)
  await withScope(app.database, { tenantId: tenant.id }, (tx) =>
    attachUploads(tx, { tenantId: tenant.id, principal: `user:${actor.userId}` }, messageId, [id]),
  )
}

describe('sweepUnattachedUploads', () => {
  it('deletes day-old unattached uploads of every tenant, and keeps attached and fresh ones', async () => {
    const oldHere = await upload(acme.agent)
    const oldThere = await upload(other.customer)
    const fresh = await upload(acme.agent)
    const nearlyOld = await upload(acme.agent)
    const attachedOld = await upload(acme.customer)
    await attach(acme, acme.customer, attachedOld)
    await Promise.all([
      age(oldHere, 25),
      age(oldThere, 30),
      age(attachedOld, 48),
      age(nearlyOld, 23),
    ])
    for (const id of [oldHere, oldThere, fresh, nearlyOld, attachedOld]) {
      expect(await exists(id)).toEqual({ row: true, file: true })
    }

    const result = await sweepUnattachedUploads(app.database, app.storage, new Date())

    expect(result.orphanedKeys).toEqual([])
    expect(result.deleted).toBeGreaterThanOrEqual(2)
    expect(await exists(oldHere)).toEqual({ row: false, file: false })
    expect(fileOnDisk(acme, oldHere)).toBe(false)
    expect(await exists(oldThere)).toEqual({ row: false, file: false })
    expect(fileOnDisk(other, oldThere)).toBe(false)
    for (const id of [fresh, nearlyOld, attachedOld]) {
      expect(await exists(id)).toEqual({ row: true, file: true })
    }
    // Nothing left to do: a second sweep deletes nothing.
    expect((await sweepUnattachedUploads(app.database, app.storage, new Date())).deleted).toBe(0)
  })

  it('goes through batches until none is left', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => upload(acme.agent)))
    for (const id of ids) await age(id, 26)
    const result = await sweepUnattachedUploads(app.database, app.storage, new Date(), 2)
    expect(result.deleted).toBe(5)
    for (const id of ids) expect(await exists(id)).toEqual({ row: false, file: false })
  })

  it('measures the day from `now`: an older now spares what is a day old only by the clock of today', async () => {
    const id = await upload(acme.agent)
    await age(id, 25)
    const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
    expect((await sweepUnattachedUploads(app.database, app.storage, twoHoursAgo)).deleted).toBe(0)
    expect(await exists(id)).toEqual({ row: true, file: true })
    expect((await sweepUnattachedUploads(app.database, app.storage, new Date())).deleted).toBe(1)
  })

  it('logs an orphan, never a dangling row, when storage cannot delete a file', async () => {
    const id = await upload(acme.agent)
    await age(id, 25)
    const failing = {
      ...app.storage,
      delete: async () => {
        throw new Error('store unavailable')
      },
    }
    const result = await sweepUnattachedUploads(app.database, failing, new Date())
    expect(result.orphanedKeys).toEqual([`${acme.id}/${id}`])
    // The row is gone (nothing can serve or attach the file), the file stays for an operator.
    expect((await ctx.sql`select 1 from attachments where id = ${id}`).length).toBe(0)
    expect(fileOnDisk(acme, id)).toBe(true)
  })
})

describe('the sweeper path in the database', () => {
  it('shows and deletes day-old unattached uploads only, whatever the statement asks', async () => {
    const old = await upload(acme.agent)
    const fresh = await upload(acme.agent)
    const attachedOld = await upload(acme.agent)
    await attach(acme, acme.agent, attachedOld)
    await age(old, 25)
    await age(attachedOld, 25)
    const seen = await withScope(app.database, { attachmentSweeper: 'on' }, (tx) =>
      rowsOf<{ id: string }>(tx, sql`select ${attachments.id} as "id" from ${attachments}`),
    )
    const visible = new Set(seen.map((r) => r.id))
    expect(visible.has(old)).toBe(true)
    expect(visible.has(fresh)).toBe(false)
    expect(visible.has(attachedOld)).toBe(false)
    // A DELETE with no condition at all still reaches only those rows.
    await withScope(app.database, { attachmentSweeper: 'on' }, (tx) =>
      tx.execute(sql`delete from ${attachments}`),
    )
    expect((await exists(fresh)).row).toBe(true)
    expect((await exists(attachedOld)).row).toBe(true)
    expect((await exists(old)).row).toBe(false)
    // Nor can it change one (no update policy): the attached upload stays attached.
    await withScope(app.database, { attachmentSweeper: 'on' }, (tx) =>
      tx.execute(sql`update ${attachments} set message_id = null`),
    )
    const [still] = await ctx.sql<{ message_id: string | null }[]>`
      select message_id from attachments where id = ${attachedOld}`
    expect(still?.message_id).not.toBeNull()
  })

  it('is not open without the setting: no scope sees no upload', async () => {
    const old = await upload(acme.agent)
    await age(old, 25)
    const seen = await withScope(app.database, {}, (tx) =>
      rowsOf<{ id: string }>(tx, sql`select ${attachments.id} as "id" from ${attachments}`),
    )
    expect(seen).toEqual([])
  })
})

describe('the periodic sweep', () => {
  it('runs on its timer and logs how many it deleted', async () => {
    const id = await upload(other.agent)
    await age(id, 25)
    const lines: Record<string, unknown>[] = []
    const log = {
      debug: () => {},
      info: (fields: object, msg: string) => lines.push({ ...fields, msg }),
      warn: (fields: object, msg: string) => lines.push({ ...fields, msg }),
      error: (fields: object, msg: string) => lines.push({ ...fields, msg }),
    }
    const stop = startUploadSweeper({
      database: app.database,
      storage: app.storage,
      log: log as never,
      everySeconds: 0.05,
    })
    try {
      await expect
        .poll(() => lines.find((l) => l.msg === 'swept unattached uploads'), { timeout: 5000 })
        .toMatchObject({ deleted: expect.any(Number), orphaned: 0 })
    } finally {
      await stop()
    }
    expect(await exists(id)).toEqual({ row: false, file: false })
  })
})
