// Attachments as the api shows them: the upload's answer (with its SHA-256, so
// a client can check what arrived) and the short form a message lists.
import { type Static, Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

const attachmentExample = {
  id: EXAMPLE_IDS.attachment,
  filename: 'screenshot.png',
  contentType: 'image/png',
  size: 48_213,
  sha256: '9f2c4b0e6d1a8f3e5b7c9d0a2e4f6b8c1d3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a',
  createdAt: EXAMPLE_TIMES.ticket,
}

const fields = {
  id: Type.String({ format: 'uuid' }),
  filename: Type.String({ description: 'The name the file was uploaded with, without any folder' }),
  contentType: Type.String({
    description:
      'Sniffed from the bytes, never taken from the client: HTML and SVG arrive as text/plain',
  }),
  size: Type.Integer({ minimum: 0, description: 'Bytes' }),
  createdAt: Type.String({ format: 'date-time' }),
}

export const Attachment = Type.Object(
  {
    ...fields,
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the bytes, hex' }),
  },
  {
    $id: 'Attachment',
    description: 'An uploaded file; attach it to a message with attachmentIds within 24 hours',
    examples: [attachmentExample],
  },
)
export type AttachmentRow = Static<typeof Attachment>

const { sha256: _sha256, ...listed } = attachmentExample
/** An attachment as a message lists it, for the examples of what holds one. */
export const listedExample = listed

/** An attachment as a message lists it; download it at /v1/attachments/{id}. */
export const MessageAttachment = Type.Object(fields, {
  description: 'A file of a message; GET /v1/attachments/{id} downloads it',
  examples: [listedExample],
})
export type MessageAttachmentRow = Static<typeof MessageAttachment>
