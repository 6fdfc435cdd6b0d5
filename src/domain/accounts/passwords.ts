// Password hashing and the password rules. argon2id with at least OWASP's
// parameters (19 MiB, 2 passes, 1 lane); a stored hash made with weaker
// parameters is upgraded at the next successful login. Rules: a minimum length
// (PASSWORD_MIN_LENGTH), at most 256 characters (checked before hashing, so a
// huge password costs nothing), no composition rules, not the email itself and
// not one of the most common breached passwords.
import argon2 from 'argon2'
import { BREACHED_PASSWORDS } from '../../lib/breached-passwords.ts'

export const PASSWORD_MAX_LENGTH = 256

const PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PARAMS)
}

/** False for a malformed stored hash too: a broken row must not become a 500 or a login. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password)
  } catch {
    return false
  }
}

export function needsRehash(hash: string): boolean {
  try {
    return argon2.needsRehash(hash, PARAMS)
  } catch {
    return true
  }
}

// Verified against when the email is unknown, so that answer costs the same time.
let dummyHash: Promise<string> | undefined

export async function verifyDummyPassword(password: string): Promise<void> {
  dummyHash ??= hashPassword('deskpilot-timing-equaliser-not-a-password')
  await verifyPassword(await dummyHash, password)
}

/** Why a new password is not acceptable, or null. */
export function passwordProblem(password: string, email: string, minLength: number): string | null {
  const length = [...password].length
  if (length < minLength) return `A password has at least ${minLength} characters.`
  if (length > PASSWORD_MAX_LENGTH)
    return `A password has at most ${PASSWORD_MAX_LENGTH} characters.`
  const lower = password.toLowerCase()
  const normalisedEmail = email.trim().toLowerCase()
  if (lower === normalisedEmail || lower === normalisedEmail.split('@')[0]) {
    return 'A password may not be your email address.'
  }
  if (BREACHED_PASSWORDS.has(lower)) {
    return 'This password is among the most common ones in data breaches; choose another.'
  }
  return null
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase()
}
