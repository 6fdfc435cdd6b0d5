// File uploads: multipart/form-data bodies, parsed as they stream in
// (@fastify/multipart over busboy), never held whole in memory or spooled to
// a temporary file. A module that takes uploads registers this plugin in its
// own context, so every other route keeps refusing multipart bodies (415), and
// marks each upload route `config: { upload: true }`, which lets a cookie
// session send multipart where other writes must be JSON (plugins/auth-csrf.ts;
// the X-CSRF-Token is what stops a cross-site form, and it is still required).
//
// receiveOneFile() reads the one `file` part a route takes and hands its stream
// to the route's store function. Anything else (no file, another part, a
// second file, a malformed body) is 400 invalid_upload, and whatever was
// stored is discarded again. A body over the limit is the store function's
// 413. When the answer leaves part of the body unread, the connection closes
// after it, as Fastify does for a body it refuses, since the rest of that body
// would otherwise be read as the next request.
import multipart, { type Multipart } from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { Type } from 'typebox'
import type { IncomingFile } from '../domain/files/attachments.ts'
import { Problem } from '../lib/problems.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the route's body is a multipart/form-data upload read by receiveOneFile() */
    upload?: true
  }
}

/** The request body of an upload route, for its schema (documents it; validates nothing). */
export function uploadBody(description: string) {
  return {
    content: {
      'multipart/form-data': {
        schema: Type.Object(
          { file: Type.String({ format: 'binary', description }) },
          { required: ['file'], examples: [{ file: '(the bytes of the file)' }] },
        ),
      },
    },
  }
}

/** The one file part, its name in the form. */
const FIELD = 'file'

function invalidUpload(detail?: string): Problem {
  return new Problem('invalid_upload', detail)
}

/**
 * Streams the request's one `file` part through `store` and returns what it
 * returns. `maxBytes` bounds the part as busboy reads it; `store` refuses what
 * is over it (domain/files/upload.ts answers 413 with nothing stored).
 * `discard` undoes a store when the body turns out to hold more than the file.
 */
export async function receiveOneFile<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  maxBytes: number,
  store: (file: IncomingFile) => Promise<T>,
  discard: (stored: T) => Promise<void>,
): Promise<T> {
  if (!request.isMultipart()) {
    throw new Problem(
      'unsupported_media_type',
      'Send the file as multipart/form-data, in a part named file.',
    )
  }
  // Busboy stops a part one byte past the limit, so `store` sees that it is over.
  const parts = request.parts({
    limits: { files: 1, fields: 0, parts: 1, fileSize: maxBytes + 1, headerPairs: 50 },
  })
  let stored: { value: T } | undefined
  try {
    for (;;) {
      let next: IteratorResult<Multipart>
      try {
        next = await parts.next()
      } catch {
        // The parser's refusals: a limit passed, a field, a malformed or cut body.
        throw invalidUpload()
      }
      if (next.done) break
      const part = next.value
      if (part.type !== 'file' || part.fieldname !== FIELD) throw invalidUpload()
      stored = {
        value: await store({
          stream: part.file,
          filename: part.filename,
          declaredType: part.mimetype,
        }),
      }
    }
  } catch (err) {
    if (stored) await discard(stored.value)
    if (!request.raw.complete) reply.header('connection', 'close')
    // A client gone half way hears nothing; the log should not call it our failure.
    if (request.raw.readableAborted && !(err instanceof Problem)) throw invalidUpload()
    throw err
  }
  if (!stored) throw invalidUpload('The body holds no file: send it in a part named file.')
  return stored.value
}

async function uploadsPlugin(app: FastifyInstance) {
  // throwFileSizeLimit off: busboy only cuts a part at the limit, and the
  // route's store function, which counts the bytes, answers the 413.
  await app.register(multipart, { throwFileSizeLimit: false })
}

export default fp(uploadsPlugin, { name: 'uploads' })
