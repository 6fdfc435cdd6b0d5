// Storing an uploaded file: the bytes stream from the client (or a parsed
// email) to storage once, counted, hashed and sniffed on the way, and a body
// over the limit stops the upload with nothing stored. The type a file is
// served with comes from its bytes, never from the client's word: a browser
// told `text/html` or `image/svg+xml` would run the file's scripts.
import { createHash } from 'node:crypto'
import { type Readable, Transform } from 'node:stream'
import { fileTypeStream } from 'file-type'
import { Problem } from '../../lib/problems.ts'
import type { Storage } from '../../lib/storage/storage.ts'

export type StoredUpload = { size: number; sha256: string; contentType: string }

/** Text types kept as the client named them when the bytes are text; anything else text is text/plain. */
const TEXT_TYPES = new Set([
  'text/plain',
  'text/csv',
  'text/markdown',
  'application/json',
  // an email kept whole (inbound mail's original.eml): text a browser never runs
  'message/rfc822',
])

const SAMPLE_BYTES = 4100

export async function storeUpload(
  storage: Storage,
  key: string,
  body: Readable,
  options: { maxBytes: number; declaredType: string | undefined },
): Promise<StoredUpload> {
  const hash = createHash('sha256')
  let size = 0
  let head = Buffer.alloc(0)
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size > options.maxBytes) {
        done(tooLarge(options.maxBytes))
        return
      }
      if (head.length < SAMPLE_BYTES) head = Buffer.concat([head, chunk.subarray(0, SAMPLE_BYTES)])
      hash.update(chunk)
      done(null, chunk)
    },
  })
  // A source that fails (a client gone half way) fails the meter, and so the upload.
  body.once('error', (err) => meter.destroy(err))
  const sniffing = await fileTypeStream(body.pipe(meter), { sampleSize: SAMPLE_BYTES })
  const contentType = servedType(sniffing.fileType?.mime, options.declaredType, () => head)
  await storage.put(key, sniffing, contentType)
  return { size, sha256: hash.digest('hex'), contentType }
}

function tooLarge(maxBytes: number) {
  return new Problem('payload_too_large', `A file may be at most ${maxBytes} bytes.`)
}

/**
 * The type to serve: what the magic bytes say; for text without magic bytes
 * the client's type when it is a plain text type, else text/plain; anything
 * else application/octet-stream.
 */
export function servedType(
  sniffed: string | undefined,
  declared: string | undefined,
  head: () => Buffer,
): string {
  if (sniffed) return sniffed
  if (!looksLikeText(head())) return 'application/octet-stream'
  const named = declared?.split(';')[0]?.trim().toLowerCase()
  return named && TEXT_TYPES.has(named) ? named : 'text/plain'
}

function looksLikeText(sample: Buffer): boolean {
  if (sample.includes(0)) return false
  try {
    // A multi-byte character may be cut at the sample's end: allow 3 bytes of slack.
    new TextDecoder('utf-8', { fatal: true }).decode(
      sample.subarray(0, Math.max(0, sample.length - 3)),
    )
    return true
  } catch {
    return false
  }
}
