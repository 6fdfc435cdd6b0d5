// Per-tenant secrets at rest (webhook signing secrets, AI provider keys):
// AES-256-GCM from node:crypto under SECRET_ENCRYPTION_KEY. A stored value is
// `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts), the key id being
// the first 8 hex digits of the key's SHA-256, so a value names the key that
// can open it and the key can rotate: a new SECRET_ENCRYPTION_KEY seals, the
// old ones in SECRET_ENCRYPTION_PREVIOUS_KEYS still open. Each value is bound
// to what it belongs to (`context`, e.g. "webhook:<id>") as GCM's additional
// data, so a ciphertext copied onto another row does not open there.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

export type SecretBox = {
  seal(plaintext: string, context: string): string
  /** throws when no configured key opens it, or it was altered or moved */
  open(sealed: string, context: string): string
  /** true when the value was sealed under an older key (to reseal when next written) */
  isStale(sealed: string): boolean
}

type Key = { id: string; bytes: Buffer }

function parseKey(text: string): Key {
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'base64')
  if (bytes.length !== 32) throw new Error('an encryption key must be 32 bytes')
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 8), bytes }
}

export function createSecretBox(keys: {
  SECRET_ENCRYPTION_KEY: string
  SECRET_ENCRYPTION_PREVIOUS_KEYS: readonly string[]
}): SecretBox {
  const current = parseKey(keys.SECRET_ENCRYPTION_KEY)
  const byId = new Map<string, Key>()
  for (const key of [current, ...keys.SECRET_ENCRYPTION_PREVIOUS_KEYS.map(parseKey)]) {
    if (!byId.has(key.id)) byId.set(key.id, key)
  }
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', current.bytes, iv)
      cipher.setAAD(Buffer.from(context))
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
      const parts = [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))
      return ['v1', current.id, ...parts].join('.')
    },
    open(sealed, context) {
      const [version, keyId, iv, tag, ciphertext] = sealed.split('.')
      if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined) {
        throw new Error('not a sealed secret')
      }
      const key = byId.get(keyId)
      if (!key) throw new Error(`no configured key opens this secret (key id ${keyId})`)
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      const plain = Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ])
      return plain.toString('utf8')
    },
    isStale(sealed) {
      return sealed.split('.')[1] !== current.id
    },
  }
}

const boxes = new WeakMap<object, SecretBox>()

/** The box of a Config, made once per Config (processors, which get the config per job). */
export function secretBoxOf(keys: Parameters<typeof createSecretBox>[0]): SecretBox {
  let box = boxes.get(keys)
  if (!box) {
    box = createSecretBox(keys)
    boxes.set(keys, box)
  }
  return box
}
