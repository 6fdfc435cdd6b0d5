// Local mode (no REDIS_URL): the api runs jobs in-process through the worker's
// own runJob and processors, after the commit, with retries; without SMTP_URL
// the email lands as an .eml file under DATA_DIR/mail/, its links logged as sent.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { hashToken } from '../../src/lib/tokens.ts'
import { createTestApp, useTestApp } from '../helpers/app.ts'
import { type Actor, createTestTenant, uniqueEmail } from '../helpers/tenancy.ts'
import { queueJob, seedUser, tokenFrom, waitForJob } from './seed.ts'

const dataDir = await mkdtemp(join(tmpdir(), 'deskpilot-jobs-'))
const ctx = await useTestApp({ env: { REDIS_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'info' } })
afterAll(() => rm(dataDir, { recursive: true, force: true }))

describe('local mode jobs', () => {
  it('runs an email job in-process and writes the .eml, logging its path', async () => {
    expect(ctx.config.localRedis).toBe(true)
    const user = await seedUser(ctx.sql, 'Local User')
    const job = await queueJob(ctx.app.database, null, 'email', {
      template: 'password-reset',
      userId: user.id,
    })
    await ctx.app.jobs.dispatch([job])
    const row = await waitForJob(ctx.sql, job.id)
    expect(row).toMatchObject({ state: 'succeeded', attempts: 1 })

    const files = await readdir(join(dataDir, 'mail'))
    const file = files.find((f) => f.endsWith(`${job.id}.eml`))
    expect(file).toBeDefined()
    const eml = await readFile(join(dataDir, 'mail', file!), 'utf8')
    expect(eml).toContain(`To: ${user.email}`)
    expect(eml).toContain('Subject: Reset your Deskpilot password')
    const token = tokenFrom(eml.replace(/=\r?\n/g, '').replace(/=3D/g, '='), '/reset-password')
    const [stored] = await ctx.sql`select 1 from user_tokens where token_hash = ${hashToken(token)}`
    expect(stored).toBeDefined()
    expect(
      ctx.logs.some((l) => l.msg === 'email written to file (no SMTP_URL)' && l.jobId === job.id),
    ).toBe(true)
    expect((row.result as { file: string }).file).toContain(file)
  })

  it('logs the links of each .eml decoded, and the invitation link from the log works', async () => {
    const acme = await createTestTenant(ctx)
    const email = uniqueEmail('local-invitee')
    const created = await ctx.app.inject({
      method: 'POST',
      url: '/v1/invitations',
      headers: acme.admin.headers,
      payload: { email, roleId: acme.roles.agent },
    })
    expect(created.statusCode, created.body).toBe(201)
    const [job] = await ctx.sql<{ id: string }[]>`select id from jobs
      where type = 'email' and payload->>'invitationId' = ${created.json().id}`
    expect(await waitForJob(ctx.sql, job!.id)).toMatchObject({ state: 'succeeded' })

    const line = ctx.logs.find(
      (l) => l.msg === 'email written to file (no SMTP_URL)' && l.jobId === job!.id,
    )
    expect(line).toMatchObject({ to: email, subject: "You're invited to join a team on Deskpilot" })
    const links = line!.links as string[]
    expect(links).toHaveLength(1)
    const link = new URL(links[0]!)
    expect(link.pathname).toBe('/accept-invitation')
    // The very token of the .eml, whole: no soft line breaks, no =3D.
    const token = link.searchParams.get('token')!
    const [stored] = await ctx.sql`
      select 1 from invitations where token_hash = ${hashToken(token)}`
    expect(stored).toBeDefined()
    const accepted = await ctx.app.inject({
      method: 'POST',
      url: '/v1/invitations/accept',
      payload: { token, name: 'Local Invitee', password: 'correct horse battery staple 42' },
    })
    expect(accepted.statusCode, accepted.body).toBe(201)
  })

  it('runs an AI reply in-process, and then the email that reply queued', async () => {
    const acme = await createTestTenant(ctx)
    const call = async (actor: Actor, method: string, url: string, payload?: object) => {
      const res = await ctx.app.inject({
        method: method as 'GET',
        url,
        headers: actor.headers,
        payload,
      })
      expect(res.statusCode, res.body).toBeLessThan(300)
      return res.json()
    }
    await call(acme.owner, 'PATCH', '/v1/tenant', { settings: { aiReplyMode: 'auto' } })
    const ticket = await call(acme.customer, 'POST', '/v1/tickets', {
      subject: 'Hi',
      body: 'Hello?',
    })
    const [job] = await ctx.sql<{ id: string }[]>`
      select id from jobs where type = 'ai-reply' and payload->>'ticketId' = ${ticket.id}`
    const row = await waitForJob(ctx.sql, job!.id)
    expect(row).toMatchObject({ state: 'succeeded', attempts: 1 })
    const messageId = (row.result as { messageId: string }).messageId
    const [email] = await ctx.sql<{ id: string }[]>`
      select id from jobs where type = 'email' and payload->>'messageId' = ${messageId}`
    expect(await waitForJob(ctx.sql, email!.id)).toMatchObject({ state: 'succeeded' })
    const files = await readdir(join(dataDir, 'mail'))
    expect(files.some((f) => f.endsWith(`${email!.id}.eml`))).toBe(true)
  })

  it('retries a failing job with backoff', async () => {
    const failing = await createTestApp({
      env: {
        REDIS_URL: '',
        DATA_DIR: dataDir,
        SMTP_URL: 'smtp://127.0.0.1:1',
        LOG_LEVEL: 'silent',
      },
    })
    try {
      const user = await seedUser(failing.sql)
      const job = await queueJob(failing.app.database, null, 'email', {
        template: 'verify-email',
        userId: user.id,
      })
      await failing.app.jobs.dispatch([job])
      const row = await waitForJob(failing.sql, job.id, (r) => r.attempts >= 2, 8000)
      expect(row.error).toMatch(/ECONNREFUSED/)
      const res = await failing.app.inject({ method: 'GET', url: '/metrics' })
      expect(res.body).toMatch(
        /deskpilot_jobs_processed_total\{queue="email",outcome="retry"\} [1-9]/,
      )
    } finally {
      await failing.close()
    }
  })
})
