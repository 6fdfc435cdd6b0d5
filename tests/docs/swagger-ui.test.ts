// Swagger UI in a real browser (headless Chromium through playwright-core),
// used as a newcomer would: "Try it out" on signup with the example body as
// shown, Authorize with the accessToken it answers, then "Try it out" on
// creating a ticket, again with the examples as shown (the X-Tenant-ID field
// comes filled in). And a second browser that only logs in through the page:
// its cookie session makes the POST, with the CSRF header that the page's
// request interceptor reads from the CSRF cookie.
import type { AddressInfo } from 'node:net'
import { type Browser, chromium, type Locator, type Page } from 'playwright-core'
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

const text = async (locator: Locator) => ((await locator.textContent()) ?? '').trim()

/**
 * Opens an operation and presses "Try it out", then (after `check`, which
 * sees the form as filled in) "Execute", changing nothing; answers the live
 * response and the curl command Swagger UI shows for the request it sent.
 */
async function tryItOut(
  page: Page,
  tag: string,
  operationId: string,
  check: (op: Locator) => Promise<void> = async () => {},
) {
  const op = page.locator(`#operations-${tag}-${operationId}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await check(op)
  await op.locator('button.execute').click()
  const live = op.locator('.live-responses-table .response').first()
  await live.waitFor({ timeout: 15_000 })
  const status = Number(await text(live.locator('.response-col_status')))
  const body = await text(live.locator('.response-col_description pre').first())
  const curl = await text(op.locator('.curl-command'))
  return { status, body: JSON.parse(body) as Record<string, unknown>, curl }
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

  const created = await tryItOut(page, 'tickets', 'createTicket', async (op) => {
    // The tenant header comes filled in with its example, the slug signup created.
    await expect
      .poll(() => op.locator('tr[data-param-name="X-Tenant-ID"] input').inputValue())
      .toBe('acme')
  })
  expect(created.status).toBe(201)
  // The request went with the token pasted into Authorize.
  expect(created.curl).toContain(`Bearer ${accessToken}`)
  expect(created.body).toMatchObject({ number: 1, subject: 'Cannot sign in to the dashboard' })
  // The signed-up owner named no requester: it is its own, through its contact.
  expect(created.body.requester).toMatchObject({
    email: (signup.body.user as { email: string }).email,
  })
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
  expect(created.curl).not.toContain('Authorization')
  expect(created.curl).toContain(`X-CSRF-Token: ${login.body.csrfToken}`)
  await page.context().close()
}, 90_000)
