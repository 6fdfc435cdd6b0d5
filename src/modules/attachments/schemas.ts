// TypeBox schemas of the attachment routes (the attachment itself is the
// domain's: domain/files/schemas.ts).
import type { Readable } from 'node:stream'
import { Type } from 'typebox'

export const AttachmentParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

/** A download: the bytes as they were uploaded, of the sniffed type. */
export const FileDownload = {
  description:
    'The file (local storage), as an attachment download of its sniffed type, with ' +
    'X-Content-Type-Options: nosniff',
  content: {
    'application/octet-stream': {
      // A stream, sent as it is (never serialized).
      schema: Type.Unsafe<Readable>(
        Type.String({ format: 'binary', description: 'The bytes, of the sniffed type' }),
      ),
    },
  },
}

export const PresignedRedirect = Type.Null({
  description:
    'S3 storage: a redirect (Location) to a presigned URL of the store, valid 5 minutes, that ' +
    'serves the file with the same Content-Disposition and type',
})
