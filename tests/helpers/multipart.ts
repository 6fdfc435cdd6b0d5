// multipart/form-data bodies for upload tests, built by hand so a test can
// send exactly what it means to (a hostile file name, two files, no file).
import { randomBytes } from 'node:crypto'

export type FormPart = {
  name: string
  /** present for a file part */
  filename?: string
  contentType?: string
  content: Buffer | string
}

export type MultipartBody = { payload: Buffer; headers: { 'content-type': string } }

export function multipart(parts: FormPart[]): MultipartBody {
  const boundary = `----deskpilot-test-${randomBytes(8).toString('hex')}`
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition =
      part.filename === undefined
        ? `form-data; name="${part.name}"`
        : `form-data; name="${part.name}"; filename="${part.filename}"`
    const head = [`--${boundary}`, `Content-Disposition: ${disposition}`]
    if (part.contentType) head.push(`Content-Type: ${part.contentType}`)
    chunks.push(Buffer.from(`${head.join('\r\n')}\r\n\r\n`))
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return {
    payload: Buffer.concat(chunks),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

/** One `file` part: what an upload route takes. */
export function fileForm(filename: string, content: Buffer | string, contentType?: string) {
  return multipart([{ name: 'file', filename, content, ...(contentType ? { contentType } : {}) }])
}

// A whole 1×1 PNG (file-type walks its chunks up to IDAT).
export const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489' +
    '0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082',
  'hex',
)
