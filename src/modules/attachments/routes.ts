// /v1/attachments: upload a file (multipart, streamed to storage), then name
// it in a message's attachmentIds; download one you may see. Uploads belong to
// their uploader until attached; the rules are the domain's
// (domain/files/attachments.ts).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config.ts'
import {
  discardUpload,
  findDownload,
  type Uploader,
  uploadAttachment,
} from '../../domain/files/attachments.ts'
import { Attachment } from '../../domain/files/schemas.ts'
import { ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import { attachmentDisposition } from '../../lib/storage/storage.ts'
import { callerOf } from '../../plugins/access.ts'
import uploads, { receiveOneFile, uploadBody } from '../../plugins/uploads.ts'
import { AttachmentParams, FileDownload, PresignedRedirect } from './schemas.ts'

const tags = ['attachments']

/** How long a presigned download URL works. */
const DOWNLOAD_URL_SECONDS = 300

const attachmentRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const maxBytes = opts.config.ATTACHMENT_MAX_BYTES
  await app.register(uploads)
  app.addSchema(Attachment)

  app.post(
    '/attachments',
    {
      config: { access: 'tenant', permission: 'tickets:write', upload: true },
      schema: {
        operationId: 'uploadAttachment',
        tags,
        summary: 'Upload a file, to attach to a message within 24 hours',
        description:
          'multipart/form-data with one part, `file`, of at most ATTACHMENT_MAX_BYTES ' +
          "(default 25 MiB; 413 otherwise). Name the answer's id in `attachmentIds` of " +
          '`POST /v1/tickets` or `POST /v1/tickets/{id}/messages`; only you can, and an ' +
          'upload left unattached is deleted after 24 hours. The file name is kept without ' +
          'its folders; the type is sniffed from the bytes (HTML and SVG are stored as text/plain).',
        body: uploadBody('The file'),
        response: {
          201: ref(Attachment, { description: 'The stored file' }),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_upload'],
            413: ['payload_too_large'],
            415: ['unsupported_media_type'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const uploader: Uploader = { tenantId: caller.tenantId, principal: caller.principal }
      const attachment = await receiveOneFile(
        request,
        reply,
        maxBytes,
        (file) => uploadAttachment(app.database, app.storage, uploader, file, maxBytes),
        (stored) => discardUpload(app.database, app.storage, uploader, stored.id),
      )
      return reply.code(201).header('location', `/v1/attachments/${attachment.id}`).send(attachment)
    },
  )

  app.get(
    '/attachments/:id',
    {
      config: { access: 'tenant', permission: 'tickets:read' },
      schema: {
        operationId: 'downloadAttachment',
        tags,
        summary: 'Download an attachment',
        description:
          'Your own upload until it is attached; then anyone who sees its message (a ticket ' +
          'visible to you; an internal note only with messages:internal). Anything else is 404. ' +
          'Always Content-Disposition: attachment with the stored name and the sniffed type; ' +
          'with S3 storage a 302 to a presigned URL valid 5 minutes.',
        params: AttachmentParams,
        response: {
          200: FileDownload,
          302: PresignedRedirect,
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      const download = await findDownload(app.database, callerOf(request), request.params.id)
      if (!download) throw new NotFound('attachment')
      const headers = { filename: download.filename, contentType: download.contentType }
      reply.header('cache-control', 'private, no-store').header('x-content-type-options', 'nosniff')
      const url = await app.storage.signedUrl(download.storageKey, headers, DOWNLOAD_URL_SECONDS)
      if (url) return reply.redirect(url, 302)
      const body = await app.storage.get(download.storageKey)
      if (!body) {
        request.log.error({ attachmentId: request.params.id }, 'attachment row without its file')
        throw new NotFound('attachment')
      }
      return (
        reply
          .type(download.contentType)
          .header('content-length', download.size)
          .header('content-disposition', attachmentDisposition(download.filename))
          // Opened anyway (a link, a new tab), the file can run nothing.
          .header('content-security-policy', "default-src 'none'; sandbox")
          .send(body)
      )
    },
  )
}

export default attachmentRoutes
