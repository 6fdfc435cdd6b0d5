// Swagger UI in a real browser (headless Chromium through playwright-core),
// used as a newcomer would: "Try it out" on signup with the example body as
// shown, Authorize with the accessToken it answers, then "Try it out" on
// creating a ticket, again with the examples as shown (the X-Tenant-ID field
// comes filled in). And a second browser that only logs in through the page:
// its cookie session makes the POST, with the CSRF header that the page's
// request interceptor reads from the CSRF cookie.
import type { AddressInfo } from 'node:net'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createTestApp, type TestContext } from '../helpers/app.ts'

let ctx: TestContext
let browser: Browser
let origin: string

beforeAll(async () => {
  ctx = await createTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000', COOKIE_SECURE: 'false' } })
  await ctx.app.listen({ host: '127.0.0.1', port: 0 })
  origin = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`
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
    ],
  })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await ctx?.close()
})

/** Opens an operation, presses "Try it out" and "Execute"; answers the live response. */
async function tryItOut(page: Page, tag: string, operationId: string) {
  const op = page.locator(`#operations-${tag}-${operationId}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await op.locator('button.execute').click()
  const live = op.locator('.live-responses-table .response').first()
  await live.waitFor({ timeout: 15_000 })
  const status = Number((await live.locator('.response-col_status').innerText()).trim())
  const text = await live.locator('.response-col_description pre').first().innerText()
  return { op, status, body: JSON.parse(text) as Record<string, unknown> }
}

async function openDocs() {
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${origin}/docs`)
  await page.locator('#operations-auth-signUp').waitFor({ timeout: 20_000 })
  return page
}

it('signs up, authorizes and opens a ticket with the examples shown, unedited', async () => {
  const page = await openDocs()
  const signup = await tryItOut(page, 'auth', 'signUp')
  expect(signup.status).toBe(201)
  const accessToken = signup.body.accessToken as string
  expect(accessToken).toMatch(/^ey/)

  await page.locator('.auth-wrapper button.authorize').click()
  const bearer = page.locator('.auth-container').filter({ hasText: 'bearerAuth' })
  await bearer.locator('input').fill(accessToken)
  await bearer.locator('button.authorize').click()
  await page.locator('.modal-ux button.btn-done').first().click()

  const op = page.locator('#operations-tickets-createTicket')
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await expect
    .poll(() => op.locator('tr[data-param-name="X-Tenant-ID"] input').inputValue())
    .toBe('acme')
  await op.locator('button.execute').click()
  const live = op.locator('.live-responses-table .response').first()
  await live.waitFor({ timeout: 15_000 })
  expect((await live.locator('.response-col_status').innerText()).trim()).toBe('201')
  // The request went with the token pasted into Authorize.
  expect(await op.locator('.curl-command').innerText()).toContain(`Bearer ${accessToken}`)
  const ticket = JSON.parse(await live.locator('.response-col_description pre').first().innerText())
  expect(ticket).toMatchObject({ number: 1, subject: 'Cannot sign in to the dashboard' })
  expect(ticket.requesterId).toBe((signup.body.user as { id: string }).id)
  await page.context().close()
}, 90_000)

// Logs in as the user the test above signed up, with the login example as shown.
it('works by cookie too: a page that only logged in gets its POSTs through with the CSRF header', async () => {
  const page = await openDocs()
  const login = await tryItOut(page, 'auth', 'logIn')
  expect(login.status).toBe(200)
  const cookies = await page.context().cookies()
  expect(cookies.map((c) => c.name).sort()).toEqual(['dp_access', 'dp_csrf', 'dp_refresh'])

  const created = await tryItOut(page, 'tickets', 'createTicket')
  expect(created.status).toBe(201)
  expect(created.body.number).toBe(2)
  expect(await created.op.locator('.curl-command').innerText()).toContain(
    `X-CSRF-Token: ${login.body.csrfToken}`,
  )
  await page.context().close()
}, 90_000)
