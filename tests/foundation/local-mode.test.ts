// Local mode, the README's first command: no DATABASE_URL and no REDIS_URL
// means embedded PGlite under DATA_DIR, migrated on start, and no Redis. First
// the app in-process, then src/server.ts as a real process started the way
// `npm run dev` starts it, from a directory of its own.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { type Child, spawnNode } from '../fixtures/processes.ts'

const dirs: string[] = []
const children: Child[] = []
function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'deskpilot-local-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const child of children) child.kill()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('local mode', () => {
  it('buildApp on PGlite with no Redis: /health, /ready (mode local) and /openapi.json', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), LOG_LEVEL: 'silent' })
    expect(config.localDatabase).toBe(true)
    expect(config.localRedis).toBe(true)
    const app = await buildApp(config)
    try {
      expect(app.database.kind).toBe('pglite')
      expect(app.redis).toBeNull()
      expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok' })
      const ready = await app.inject({ url: '/ready' })
      expect(ready.statusCode).toBe(200)
      expect(ready.json()).toEqual({
        status: 'ready',
        checks: { database: 'ok', migrations: 'ok', redis: 'disabled' },
        mode: 'local',
      })
      const doc = await app.inject({ url: '/openapi.json' })
      expect(doc.statusCode).toBe(200)
      expect(doc.json().openapi).toBe('3.1.0')
    } finally {
      await app.close()
    }
  })

  it('on PGlite: a ticket, its search, and an AI reply run in-process that cites the KB', async () => {
    const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: tempDir(), LOG_LEVEL: 'silent' })
    const app = await buildApp(config)
    try {
      const signup = await app.inject({
        method: 'POST',
        url: '/v1/auth/signup',
        payload: {
          email: 'owner@local.test',
          password: 'correct horse battery staple 42',
          name: 'Local Owner',
          tenant: { name: 'Local', slug: 'local' },
        },
      })
      expect(signup.statusCode, signup.body).toBe(201)
      const headers = {
        authorization: `Bearer ${signup.json().accessToken}`,
        'x-tenant-id': 'local',
      }
      const call = async (method: string, url: string, payload?: Record<string, unknown>) => {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers,
          ...(payload ? { payload } : {}),
        })
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300)
        return res.json()
      }
      const article = await call('POST', '/v1/kb/articles', {
        title: 'Reset your password',
        body: 'To reset your password, open Settings, choose Security, then click Reset password.',
        published: true,
      })
      // Opened by the owner, an agent, for a customer: the opening message is
      // what the knowledge base is searched with, whoever wrote it.
      const ticket = await call('POST', '/v1/tickets', {
        subject: 'Cannot log in',
        body: 'The customer forgot their password and asks how to reset it.',
      })
      const found = await call('GET', '/v1/tickets?q=forgot')
      expect(found.data.map((t: { id: string }) => t.id)).toEqual([ticket.id])

      const { jobId } = await call('POST', `/v1/tickets/${ticket.id}/ai-reply`)
      let job = await call('GET', `/v1/jobs/${jobId}`)
      for (let i = 0; i < 100 && !['succeeded', 'failed'].includes(job.state); i++) {
        await new Promise((r) => setTimeout(r, 50))
        job = await call('GET', `/v1/jobs/${jobId}`)
      }
      expect(job.state).toBe('succeeded')
      const thread = await call('GET', `/v1/tickets/${ticket.id}/messages`)
      const ai = thread.data.filter((m: { authorType: string }) => m.authorType === 'ai')
      // aiReplyMode is off, so the reply asked for on demand is an internal draft.
      expect(ai).toMatchObject([{ internal: true, sources: [{ id: article.id }] }])
      const byReply = await call('GET', '/v1/tickets?q=security')
      expect(byReply.data.map((t: { id: string }) => t.id)).toEqual([ticket.id])

      // The invitation mail quotas count rows under an advisory lock: PGlite too.
      const roles = await call('GET', '/v1/roles')
      const agentRole = roles.data.find((r: { name: string }) => r.name === 'agent').id
      await call('POST', '/v1/invitations', { email: 'new@local.test', roleId: agentRole })
      const again = await app.inject({
        method: 'POST',
        url: '/v1/invitations',
        headers,
        payload: { email: 'new@local.test', roleId: agentRole },
      })
      expect(again.statusCode).toBe(429)
      expect(again.json().code).toBe('invitation_cooldown')
    } finally {
      await app.close()
    }
  })

  it('src/server.ts with an empty environment serves /health and /docs, says LOCAL MODE, exits 0 on SIGTERM', async () => {
    const cwd = tempDir()
    // No NODE_ENV: development, exactly what `npm run dev` runs. PORT 0 so
    // parallel runs never collide; the port is read from Fastify's log line.
    const server = spawnNode('src/server.ts', { PORT: '0' }, cwd)
    children.push(server)
    const [, base] = await server.waitForLine(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/)
    expect(server.output()).toContain('LOCAL MODE')

    const health = await fetch(`${base}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${base}/ready`)
    expect(await ready.json()).toMatchObject({ status: 'ready', mode: 'local' })
    const docs = await fetch(`${base}/docs`)
    expect(docs.status).toBe(200)
    expect(await docs.text()).toContain('swagger-ui')

    server.process.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })
})
