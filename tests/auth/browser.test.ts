// A real browser (headless Chromium through playwright-core) runs a small SPA
// on http://app.deskpilot.test:<port> against the API on
// http://api.deskpilot.test:<port>: two origins of one site, as app.example.com
// and api.example.com would be. Signup, me, a state-changing call with the
// CSRF token (and refused without it), refresh, logout: cookies only, no token
// is ever handled by the page's script but the CSRF token.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestApp, type TestContext } from '../helpers/app.ts'
import { uniqueEmail } from '../helpers/auth.ts'

const SPA_PAGE = `<!doctype html><meta charset="utf-8"><title>Deskpilot SPA</title>
<script>
  window.call = async (api, method, path, { body, csrf } = {}) => {
    const headers = {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    if (csrf) headers['x-csrf-token'] = csrf
    const response = await fetch(api + path, {
      method,
      credentials: 'include',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    return { status: response.status, body: text ? JSON.parse(text) : null }
  }
</script>`

let ctx: TestContext
let spa: Server
let browser: Browser
let apiOrigin: string
let spaOrigin: string

beforeAll(async () => {
  spa = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(SPA_PAGE)
  })
  await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve))
  spaOrigin = `http://app.deskpilot.test:${(spa.address() as AddressInfo).port}`
  ctx = await createTestApp({
    env: { AUTH_RATE_LIMIT_MAX: '1000', COOKIE_SECURE: 'false', CORS_ORIGINS: spaOrigin },
  })
  await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  apiOrigin = `http://api.deskpilot.test:${(ctx.app.server.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--host-resolver-rules=MAP *.deskpilot.test 127.0.0.1',
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await ctx?.close()
  await new Promise((resolve) => spa?.close(resolve))
})

type Answer = { status: number; body: Record<string, unknown> | null }

it('runs signup, me, a CSRF-protected change, refresh and logout with cookies only', async () => {
  const page = await browser.newPage()
  await page.goto(`${spaOrigin}/`)
  const call = (method: string, path: string, opts: { body?: unknown; csrf?: string } = {}) =>
    page.evaluate(
      ([api, m, p, o]) =>
        (globalThis as unknown as { call: (...a: unknown[]) => Promise<Answer> }).call(
          api,
          m,
          p,
          o,
        ),
      [apiOrigin, method, path, opts] as const,
    )

  const signup = await call('POST', '/v1/auth/signup', {
    body: { email: uniqueEmail('browser'), password: 'a browser passphrase 42', name: 'Browser' },
  })
  expect(signup.status).toBe(201)
  const csrf = signup.body?.csrfToken as string

  expect((await call('GET', '/v1/auth/me')).status).toBe(200)
  // The SPA's own origin cannot read the API's cookies.
  expect(
    await page.evaluate(
      () => (globalThis as unknown as { document: { cookie: string } }).document.cookie,
    ),
  ).toBe('')

  const refused = await call('POST', '/v1/auth/sessions/revoke-others')
  expect(refused.status).toBe(403)
  expect(refused.body?.code).toBe('csrf_failed')
  const changed = await call('POST', '/v1/auth/sessions/revoke-others', { csrf })
  expect(changed).toEqual({ status: 200, body: { revoked: 0 } })

  const refreshed = await call('POST', '/v1/auth/refresh')
  expect(refreshed.status).toBe(200)
  expect(refreshed.body?.refreshToken).toBeUndefined()
  expect(refreshed.body?.accessToken).toBeUndefined()
  expect(refreshed.body?.csrfToken).toBe(csrf)
  expect((await call('GET', '/v1/auth/me')).status).toBe(200)

  expect((await call('POST', '/v1/auth/logout', { csrf })).status).toBe(204)
  expect((await call('GET', '/v1/auth/me')).status).toBe(401)
  expect((await call('POST', '/v1/auth/refresh')).status).toBe(401)
  await page.close()
}, 60_000)
