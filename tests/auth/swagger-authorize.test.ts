// Swagger UI's Authorize button, driven in a real browser (headless Chromium
// through playwright-core): the oauth2 password flow signs in at
// /v1/auth/token with an email and a password, under the docs' CSP, and the
// token it gets then authorizes "Try it out" on a Bearer route.
import type { AddressInfo } from 'node:net'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestApp, type TestContext } from '../helpers/app.ts'
import { signUp } from '../helpers/auth.ts'

let ctx: TestContext
let browser: Browser
let origin: string

beforeAll(async () => {
  ctx = await createTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } })
  await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  origin = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await ctx?.close()
})

it('signs in through the oauth2 password flow and calls /v1/auth/me with the token', async () => {
  const user = await signUp(ctx.app, { name: 'Swagger User' })
  const page = await browser.newPage()
  const cspErrors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text())
  })
  await page.goto(`${origin}/docs`)
  await page.locator('button.btn.authorize').first().click()
  const oauth = page.locator('.auth-container').filter({ hasText: 'oauth2' })
  await oauth.locator('#oauth_username').fill(user.email)
  await oauth.locator('#oauth_password').fill(user.password)
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/auth/token'))
  await oauth.locator('button.authorize').click()
  const tokenResponse = await answered
  expect(tokenResponse.status()).toBe(200)
  const sent = tokenResponse.request()
  expect(sent.headers()['content-type']).toMatch(/^application\/x-www-form-urlencoded/)
  await expect.poll(() => oauth.getByText('Authorized').count()).toBeGreaterThan(0)
  await page.locator('.modal-ux button.close-modal').click()

  // Try it out on GET /v1/auth/me: Swagger UI sends the token it got.
  const op = page.locator('#operations-auth-getMe')
  await op.locator('.opblock-summary').click()
  await op.getByRole('button', { name: 'Try it out' }).click()
  const me = page.waitForResponse((r) => r.url().endsWith('/v1/auth/me'))
  await op.getByRole('button', { name: 'Execute' }).click()
  const meResponse = await me
  expect(meResponse.status()).toBe(200)
  expect(meResponse.request().headers().authorization).toMatch(/^Bearer ey/)
  expect((await meResponse.json()).user.id).toBe(user.user.id)
  expect(cspErrors).toEqual([])
  await page.close()
}, 60_000)
