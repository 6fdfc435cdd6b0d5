// Signing up and in through the real routes, for any test that needs a user:
// signUp() returns the tokens, the user and the cookies the app set;
// bearer() and cookieHeader() turn them back into request headers.
import { randomBytes } from 'node:crypto'
import type { App } from '../../src/app.ts'

export const TEST_PASSWORD = 'a long enough test passphrase 42'

export type Cookie = {
  name: string
  value: string
  path?: string
  domain?: string
  maxAge?: number
  expires?: Date
  secure?: boolean
  httpOnly?: boolean
  sameSite?: string
}

export type SignedIn = {
  user: { id: string; email: string; name: string }
  email: string
  password: string
  accessToken: string
  refreshToken: string
  csrfToken: string
  /** the cookies the response set, by name */
  cookies: Record<string, Cookie>
}

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` }
}

/** A Cookie request header from cookies set by earlier responses. */
export function cookieHeader(cookies: Record<string, Cookie>): { cookie: string } {
  return {
    cookie: Object.values(cookies)
      .filter((c) => c.value !== '')
      .map((c) => `${c.name}=${c.value}`)
      .join('; '),
  }
}

export function responseCookies(response: { cookies: unknown[] }): Record<string, Cookie> {
  return Object.fromEntries((response.cookies as Cookie[]).map((c) => [c.name, c]))
}

function signedIn(response: Awaited<ReturnType<App['inject']>>, email: string, password: string) {
  if (response.statusCode !== 200 && response.statusCode !== 201) {
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body}`)
  }
  const body = response.json()
  return { ...body, email, password, cookies: responseCookies(response) } as SignedIn
}

export async function signUp(
  app: App,
  opts: {
    email?: string
    password?: string
    name?: string
    tenant?: { name: string; slug: string }
  } = {},
): Promise<SignedIn> {
  const email = opts.email ?? uniqueEmail()
  const password = opts.password ?? TEST_PASSWORD
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: { email, password, name: opts.name ?? 'Test User', tenant: opts.tenant },
  })
  return signedIn(response, email, password)
}

export async function logIn(app: App, email: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { email, password },
  })
  return signedIn(response, email, password)
}
