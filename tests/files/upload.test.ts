// Uploads stream to storage once: counted, hashed and typed by their bytes. A
// body over the limit, or one whose client goes away, leaves nothing stored.
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { afterAll, describe, expect, it } from 'vitest'
import { storeUpload } from '../../src/domain/files/upload.ts'
import { localStorage } from '../../src/lib/storage/local-storage.ts'

const root = mkdtempSync(join(tmpdir(), 'dp-upload-'))
const storage = localStorage(root)
afterAll(() => rmSync(root, { recursive: true, force: true }))

// A whole 1×1 PNG (file-type walks its chunks up to IDAT, so random bytes in
// their place would make detection depend on chance).
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489' +
    '0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082',
  'hex',
)

function files(): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name)
}

function chunks(body: Buffer, size = 1000): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < body.length; i += size) parts.push(body.subarray(i, i + size))
  return Readable.from(parts)
}

describe('storeUpload', () => {
  it('stores the bytes, with their size, SHA-256 and sniffed type', async () => {
    const body = Buffer.concat([PNG, randomBytes(20_000)])
    const stored = await storeUpload(storage, 't1/png', chunks(body), {
      maxBytes: 1_000_000,
      declaredType: 'text/html',
    })
    expect(stored).toEqual({
      size: body.length,
      sha256: createHash('sha256').update(body).digest('hex'),
      contentType: 'image/png',
    })
    expect((await buffer((await storage.get('t1/png')) as Readable)).equals(body)).toBe(true)
  })

  it.each([
    ['HTML named text/html', '<!doctype html><script>alert(1)</script>', 'text/html', 'text/plain'],
    [
      'SVG with a script',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      'image/svg+xml',
      'text/plain',
    ],
    ['CSV', 'a,b\n1,2\n', 'text/csv', 'text/csv'],
    ['text without a type', 'hello, Zoë', undefined, 'text/plain'],
    [
      'bytes named text/plain',
      '\u0000\u0001\u0002binary',
      'text/plain',
      'application/octet-stream',
    ],
  ])('never trusts the client for %s', async (_, content, declared, served) => {
    const stored = await storeUpload(
      storage,
      `t1/${randomBytes(4).toString('hex')}`,
      chunks(Buffer.from(content)),
      {
        maxBytes: 1_000_000,
        declaredType: declared,
      },
    )
    expect(stored.contentType).toBe(served)
  })

  it.each([
    ['in the first sample', 1_000],
    ['past the first sample', 50_000],
  ])('refuses a body over the limit (%s) with 413, storing nothing', async (_, limit) => {
    const before = files()
    await expect(
      storeUpload(storage, 't1/too-big', chunks(randomBytes(limit + 10_000)), {
        maxBytes: limit,
        declaredType: undefined,
      }),
    ).rejects.toMatchObject({ statusCode: 413, code: 'payload_too_large' })
    expect(files()).toEqual(before)
    expect(await storage.get('t1/too-big')).toBeNull()
  })

  it('stores nothing when the client goes away half way', async () => {
    const before = files()
    let sent = 0
    const body = new Readable({
      read() {
        if (sent++ < 10) this.push(randomBytes(1_000))
        else this.destroy(new Error('socket hang up'))
      },
    })
    await expect(
      storeUpload(storage, 't1/broken', body, { maxBytes: 1_000_000, declaredType: undefined }),
    ).rejects.toThrow('socket hang up')
    expect(files()).toEqual(before)
  })
})
