// Access tokens: HS256 only (pinned: the library accepts any algorithm unless
// told), header typ "at+jwt" and a kid derived from the key, iss "deskpilot",
// aud "deskpilot-api", required sub, sid, jti, iat, exp. Keys in
// JWT_PREVIOUS_SECRETS verify by their kid, so JWT_SECRET can rotate.
// Opaque tokens (refresh, reset, verification, invitation) are not JWTs and so
// can never pass here.
import { createHmac, randomUUID } from 'node:crypto'
import jwt from '@fastify/jwt'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import { Unauthorized } from '../lib/problems.ts'

export const JWT_ISSUER = 'deskpilot'
export const JWT_AUDIENCE = 'deskpilot-api'
export const ACCESS_TOKEN_TYPE = 'at+jwt'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A key for one purpose, derived from a secret, so no two uses share a key. */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`deskpilot:${purpose}`).digest()
}

function keyId(secret: string): string {
  return deriveKey(secret, 'jwt-kid').toString('base64url').slice(0, 16)
}

/** The kid of a JWT's header, read without trusting it (the signature check follows). */
function headerKid(token: string): string | undefined {
  const dot = token.indexOf('.')
  if (dot <= 0) return undefined
  try {
    const header = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString())
    return typeof header?.kid === 'string' ? header.kid : undefined
  } catch {
    return undefined
  }
}

export type AccessTokens = {
  sign(userId: string, sessionId: string): string
  /** the user and session of a valid token; 401 invalid_token otherwise */
  verify(token: string): { sub: string; sid: string }
}

/** Registers @fastify/jwt with the current key and answers signing and verifying by kid. */
export async function registerAccessTokens(
  app: FastifyInstance,
  config: Config,
): Promise<AccessTokens> {
  const currentKid = keyId(config.JWT_SECRET)
  const previousKeys = new Map(config.JWT_PREVIOUS_SECRETS.map((s) => [keyId(s), s]))
  previousKeys.delete(currentKid)

  await app.register(jwt, {
    secret: config.JWT_SECRET,
    sign: {
      algorithm: 'HS256',
      iss: JWT_ISSUER,
      aud: JWT_AUDIENCE,
      kid: currentKid,
      header: { alg: 'HS256', typ: ACCESS_TOKEN_TYPE },
      // @fastify/jwt reads a number as seconds.
      expiresIn: config.ACCESS_TOKEN_TTL,
    },
    verify: {
      algorithms: ['HS256'],
      allowedIss: JWT_ISSUER,
      allowedAud: JWT_AUDIENCE,
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
      checkTyp: ACCESS_TOKEN_TYPE,
    },
  })

  return {
    sign: (userId, sessionId) => app.jwt.sign({ sub: userId, sid: sessionId, jti: randomUUID() }),
    verify(token) {
      const kid = headerKid(token)
      const previous = kid === undefined ? undefined : previousKeys.get(kid)
      if (kid !== currentKid && previous === undefined) {
        throw new Unauthorized('invalid_token', 'The access token is not valid.')
      }
      let claims: Record<string, unknown>
      try {
        // The current key uses the plugin's cached verifier; older keys are rare.
        claims =
          previous === undefined ? app.jwt.verify(token) : app.jwt.verify(token, { key: previous })
      } catch {
        throw new Unauthorized('invalid_token', 'The access token is not valid or has expired.')
      }
      const { sub, sid } = claims
      if (
        typeof sub !== 'string' ||
        typeof sid !== 'string' ||
        !UUID.test(sid) ||
        !UUID.test(sub)
      ) {
        throw new Unauthorized('invalid_token', 'The access token is not valid.')
      }
      return { sub, sid }
    },
  }
}
