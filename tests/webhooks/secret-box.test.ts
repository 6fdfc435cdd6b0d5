// Secrets at rest: AES-256-GCM under SECRET_ENCRYPTION_KEY, each value naming
// its key (so the key rotates) and bound to the row it belongs to.
import { describe, expect, it } from 'vitest'
import { createSecretBox } from '../../src/lib/secret-box.ts'

const oldKey = 'aa'.repeat(32)
const newKey = Buffer.alloc(32, 9).toString('base64')

describe('secret box', () => {
  it('seals and opens, never showing the plaintext, a new IV each time', () => {
    const box = createSecretBox({
      SECRET_ENCRYPTION_KEY: oldKey,
      SECRET_ENCRYPTION_PREVIOUS_KEYS: [],
    })
    const a = box.seal('whsec_top-secret', 'webhook:1')
    const b = box.seal('whsec_top-secret', 'webhook:1')
    expect(a).not.toContain('top-secret')
    expect(a).not.toBe(b)
    expect(a).toMatch(/^v1\.[0-9a-f]{8}\./)
    expect(box.open(a, 'webhook:1')).toBe('whsec_top-secret')
  })

  it('refuses a value moved to another row, or altered', () => {
    const box = createSecretBox({
      SECRET_ENCRYPTION_KEY: oldKey,
      SECRET_ENCRYPTION_PREVIOUS_KEYS: [],
    })
    const sealed = box.seal('whsec_x', 'webhook:1')
    expect(() => box.open(sealed, 'webhook:2')).toThrow()
    const parts = sealed.split('.')
    const flipped = Buffer.from(parts[4]!, 'base64url')
    flipped[0] = (flipped[0] ?? 0) ^ 1
    parts[4] = flipped.toString('base64url')
    expect(() => box.open(parts.join('.'), 'webhook:1')).toThrow()
    expect(() => box.open('plain text', 'webhook:1')).toThrow(/not a sealed secret/)
  })

  it('opens values of a previous key after rotation, and says they are stale', () => {
    const before = createSecretBox({
      SECRET_ENCRYPTION_KEY: oldKey,
      SECRET_ENCRYPTION_PREVIOUS_KEYS: [],
    })
    const sealed = before.seal('whsec_kept', 'webhook:1')
    const after = createSecretBox({
      SECRET_ENCRYPTION_KEY: newKey,
      SECRET_ENCRYPTION_PREVIOUS_KEYS: [oldKey],
    })
    expect(after.open(sealed, 'webhook:1')).toBe('whsec_kept')
    expect(after.isStale(sealed)).toBe(true)
    expect(after.isStale(after.seal('whsec_kept', 'webhook:1'))).toBe(false)
    const forgotten = createSecretBox({
      SECRET_ENCRYPTION_KEY: newKey,
      SECRET_ENCRYPTION_PREVIOUS_KEYS: [],
    })
    expect(() => forgotten.open(sealed, 'webhook:1')).toThrow(/no configured key/)
  })
})
