// Webhook signing secrets and signatures, per the Standard Webhooks
// specification and through its own package, so what we send is exactly what
// receivers' verify() checks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

const PREFIX = 'whsec_'

/** A new signing secret: `whsec_` and 32 random bytes in base64, the form receivers' libraries take. */
export function createWebhookSecret(): string {
  return `${PREFIX}${randomBytes(32).toString('base64')}`
}

/** True for a `whsec_` secret whose key is base64 of 24 to 64 bytes. */
export function isWebhookSecret(value: string): boolean {
  if (!value.startsWith(PREFIX)) return false
  const key = value.slice(PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false
  const bytes = Buffer.from(key, 'base64').length
  return bytes >= 24 && bytes <= 64
}

/**
 * The `webhook-signature` header value: one `v1,` signature per secret,
 * space-separated, so during a rotation a receiver holding either secret
 * verifies the delivery. The timestamp is signed in whole seconds, as sent in
 * `webhook-timestamp`.
 */
export function signatures(
  secrets: readonly string[],
  id: string,
  timestamp: Date,
  body: string,
): string {
  if (secrets.length === 0) throw new Error('a webhook delivery needs at least one secret')
  return secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(' ')
}
