// POST /v1/inbound/email: the HTTP front door for mail (an MTA's pipe, or a
// provider's inbound hook that posts the raw message). Two ways to call it:
// the platform's INBOUND_EMAIL_TOKEN, with the tenant taken from the mail's
// recipient (`?recipient=`, else Delivered-To, X-Original-To, To, Cc); or a
// tenant's API key holding email:ingest (with X-Tenant-ID, like every tenant
// route), which always delivers into the key's own tenant. Its access is
// 'mail' (plugins/access.ts): neither credential is a user's, and the gate
// below is its guard, run before anything else. Processing is the one ingestion
// path (domain/email/ingest.ts), shared with the SMTP receiver. The events it
// writes are announced to the live streams (lib/event-signal.ts) once committed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { Config } from '../../config.ts'
import { tenantOfRecipients } from '../../domain/email/inbound-address.ts'
import { ingestEmail, readInboundMail } from '../../domain/email/ingest.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { Forbidden, Problem, Unauthorized } from '../../lib/problems.ts'
import { hashToken, sameDigest } from '../../lib/tokens.ts'

const Id = Type.String({ format: 'uuid' })

const Accepted = Type.Union(
  [
    Type.Object(
      {
        ticketId: Id,
        messageId: Type.String({ format: 'uuid', description: 'The stored message' }),
        created: Type.Boolean({ description: 'The mail opened a new ticket' }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        ignored: Type.Union([
          Type.Literal('auto_reply'),
          Type.Literal('bounce'),
          Type.Literal('loop'),
        ]),
      },
      { additionalProperties: false },
    ),
  ],
  {
    examples: [
      {
        ticketId: '0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
        messageId: '0193a0c5-1a2c-7f7a-8b8c-9d0e1f2a3b4c',
        created: true,
      },
      { ignored: 'auto_reply' },
    ],
  },
)

const inboundRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.addContentTypeParser(
    'message/rfc822',
    { parseAs: 'buffer', bodyLimit: config.INBOUND_MAX_BYTES },
    (_request, body, done) => done(null, body),
  )

  /** The platform's token, or a tenant API key with email:ingest; anything else 401/403. */
  async function mailGate(request: FastifyRequest, reply: FastifyReply) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1]
    if (
      bearer &&
      config.INBOUND_EMAIL_TOKEN &&
      sameDigest(hashToken(bearer), hashToken(config.INBOUND_EMAIL_TOKEN))
    ) {
      return
    }
    if (!bearer) throw new Unauthorized()
    await app.authenticate(request, reply)
    if (!request.auth?.apiKeyId) {
      throw new Forbidden(
        'forbidden',
        'Mail is posted with the platform inbound token or an API key holding email:ingest.',
      )
    }
    await app.resolveTenant(request, reply)
    if (!request.tenant?.permissions.has('email:ingest')) {
      throw new Forbidden('forbidden', 'This needs the email:ingest permission.')
    }
  }

  app.post(
    '/inbound/email',
    {
      config: { access: 'mail' },
      bodyLimit: config.INBOUND_MAX_BYTES,
      onRequest: mailGate,
      schema: {
        operationId: 'ingestEmail',
        tags: ['inbound'],
        summary: 'Take in one raw email',
        description:
          'The body is the raw message (`Content-Type: message/rfc822`). With the platform ' +
          'token (INBOUND_EMAIL_TOKEN) the tenant is the first recipient `<slug>@INBOUND_DOMAIN` ' +
          '(`recipient` when given, else Delivered-To, X-Original-To, To, Cc); with an API key ' +
          "holding email:ingest, the key's tenant. A new mail answers 202 with the ticket and " +
          'message; the same Message-ID again answers 200 with the first result and writes ' +
          'nothing; auto-replies, bounces and loops answer 202 `{ignored}` and are never answered.',
        querystring: Type.Object(
          {
            recipient: Type.Optional(
              Type.String({
                maxLength: 254,
                description:
                  'The envelope recipient, when the hook knows it (wins over the headers)',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        headers: Type.Object({
          'x-tenant-id': Type.Optional(
            Type.String({ description: 'With an API key: its tenant (id or slug)' }),
          ),
        }),
        response: {
          200: {
            ...Accepted,
            description: 'This Message-ID was taken in before: its first result',
          },
          202: { ...Accepted, description: 'Taken in' },
          ...problemResponses({
            400: ['validation_failed', 'invalid_message', 'tenant_required'],
            401: ['unauthorized', 'invalid_token'],
            403: ['forbidden'],
            404: ['unknown_recipient', 'not_found'],
            413: ['payload_too_large'],
            415: ['unsupported_media_type'],
          }),
        },
      },
    },
    async (request, reply) => {
      const raw = request.body
      if (!Buffer.isBuffer(raw)) {
        throw new Problem('unsupported_media_type', 'Post the raw message as message/rfc822.')
      }
      const mail = await readInboundMail(raw)
      const tenant =
        request.tenant ??
        (await tenantOfRecipients(
          app.database,
          request.query.recipient ? [request.query.recipient] : mail.recipients,
          config.INBOUND_DOMAIN,
        ))
      if (!tenant) {
        throw new Problem(
          'unknown_recipient',
          'No tenant receives mail at the addresses of this message.',
        )
      }
      const ingested = await ingestEmail(
        { database: app.database, storage: app.storage },
        tenant,
        { raw, mail },
        { attachmentMaxBytes: config.ATTACHMENT_MAX_BYTES },
      )
      if (ingested.jobs.length > 0) await app.jobs.dispatch(ingested.jobs)
      // With an API key, request.tenant is set and the onResponse rule
      // (plugins/event-signal.ts) says it; the platform token's tenant is ours to name.
      if (!request.tenant && !ingested.duplicate) app.eventSignal.publish(tenant.id)
      return reply.code(ingested.duplicate ? 200 : 202).send(ingested.outcome)
    },
  )
}

export default inboundRoutes
