// The browser's cookies, exactly as API.md's cookie paragraph says:
//   access  HttpOnly, SameSite=COOKIE_SAMESITE (lax), Path=/
//   refresh HttpOnly, SameSite=Strict; read only by refresh and logout
//   csrf    script-readable, for same-origin deployments (cross-origin SPAs take
//           csrfToken from the response bodies instead)
// With COOKIE_SECURE all three are Secure and `__Host-` prefixed, which forces
// Path=/ and no Domain (see cookieNames in auth.ts for why the refresh
// cookie then cannot be narrowed to /v1/auth).
import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'
import type { Config } from '../config.ts'
import { cookieNames, REFRESH_COOKIE_PATH } from './auth.ts'

type CookieTokens = {
  accessToken: string
  refreshToken: string
  refreshExpiresAt: Date
  csrfToken: string
}

export function authCookies(config: Config, now: () => number) {
  const names = cookieNames(config.COOKIE_SECURE)
  const secure = config.COOKIE_SECURE
  const access: CookieSerializeOptions = {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: config.COOKIE_SAMESITE,
  }
  const refresh: CookieSerializeOptions = {
    path: secure ? '/' : REFRESH_COOKIE_PATH,
    httpOnly: true,
    secure,
    sameSite: 'strict',
  }
  const csrf: CookieSerializeOptions = {
    path: '/',
    httpOnly: false,
    secure,
    sameSite: config.COOKIE_SAMESITE,
  }
  return {
    names,
    set(reply: FastifyReply, tokens: CookieTokens) {
      const refreshMaxAge = Math.max(
        1,
        Math.floor((tokens.refreshExpiresAt.getTime() - now()) / 1000),
      )
      reply.setCookie(names.access, tokens.accessToken, {
        ...access,
        maxAge: config.ACCESS_TOKEN_TTL,
      })
      reply.setCookie(names.refresh, tokens.refreshToken, { ...refresh, maxAge: refreshMaxAge })
      reply.setCookie(names.csrf, tokens.csrfToken, { ...csrf, maxAge: refreshMaxAge })
    },
    setCsrf(reply: FastifyReply, csrfToken: string) {
      reply.setCookie(names.csrf, csrfToken, csrf)
    },
    clear(reply: FastifyReply) {
      reply.clearCookie(names.access, access)
      reply.clearCookie(names.refresh, refresh)
      reply.clearCookie(names.csrf, csrf)
    },
  }
}
