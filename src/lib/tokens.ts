// One-time tokens (email verification, password reset, invitations, refresh
// tokens): the raw token goes to the user once; the database keeps only its
// SHA-256, so a leaked table cannot be replayed. 32 random bytes need no salt
// or slow hash: they cannot be guessed.
import { createHash, randomBytes } from 'node:crypto'

/** 32 random bytes, base64url (43 characters, safe in URLs). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** The stored form of a token: SHA-256, lowercase hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}
