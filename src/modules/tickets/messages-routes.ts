// /v1/tickets/{id}/messages (read the thread, post to it, with Idempotency-Key)
// and /v1/tickets/{id}/ai-reply (queue an AI reply on demand). Registered by
// routes.ts, which adds the shared schemas.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { withScope } from '../../db/scoped.ts'
import { insertJob } from '../../jobs/outbox.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { NotFound } from '../../lib/problems.ts'
import { callerOf } from './caller.ts'
import { createOnce } from './idempotency.ts'
import { findTicket, listMessages, postMessage } from './messages.ts'
import {
  CreateMessageBody,
  IdempotencyHeaders,
  ListMessagesQuery,
  MessagePage,
  type MessageView,
  TicketParams,
} from './schemas.ts'
import { assertAcceptsMessages } from './status-rules.ts'

const tags = ['tickets']
const MessageRef = Type.Unsafe<MessageView>(
  Type.Ref('Message', { description: 'The message as stored' }),
)

const messageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/tickets/:id/messages',
    {
      config: { access: 'tenant', permission: 'tickets:read' },
      schema: {
        operationId: 'listTicketMessages',
        tags,
        summary: 'The thread of a ticket, oldest first',
        description: 'Internal notes are included only for callers with messages:internal.',
        params: TicketParams,
        querystring: ListMessagesQuery,
        response: {
          200: MessagePage,
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => {
      const caller = callerOf(request)
      return withScope(app.database, { tenantId: caller.tenantId }, (tx) =>
        listMessages(tx, caller, request.params.id, request.query),
      )
    },
  )

  app.post(
    '/tickets/:id/messages',
    {
      config: { access: 'tenant', permission: 'tickets:write' },
      schema: {
        operationId: 'createTicketMessage',
        tags,
        summary: 'Reply to a ticket, or add an internal note',
        description:
          'authorType is agent for callers with tickets:read_all, else customer (never from ' +
          'the body). internal needs messages:internal. A customer reply reopens a pending or ' +
          'solved ticket; an agent public reply to a new or open one makes it pending; a ' +
          'closed ticket takes no messages (409 ticket_closed).',
        headers: IdempotencyHeaders,
        params: TicketParams,
        body: CreateMessageBody,
        response: {
          201: MessageRef,
          ...tenantRouteProblems,
          ...problemResponses({
            409: ['ticket_closed'],
            422: ['idempotency_key_reused'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const outcome = await createOnce(app.database, caller, request, async (tx) => {
        const { message, jobs } = await postMessage(tx, caller, request.params.id, request.body)
        return { body: message, jobs }
      })
      if (outcome.jobs.length > 0) await app.jobs.dispatch(outcome.jobs)
      if (outcome.replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(201).send(outcome.body)
    },
  )

  app.post(
    '/tickets/:id/ai-reply',
    {
      config: { access: 'tenant', permission: 'ai:use' },
      schema: {
        operationId: 'requestAiReply',
        tags,
        summary: 'Queue an AI reply for the ticket',
        description: "The reply follows the tenant's aiReplyMode: internal in draft mode.",
        params: TicketParams,
        response: {
          202: Type.Object(
            { jobId: Type.String({ format: 'uuid', description: 'Poll it at /v1/jobs/{id}' }) },
            { description: 'The AI reply is queued', examples: [{ jobId: EXAMPLE_IDS.job }] },
          ),
          ...tenantRouteProblems,
          ...problemResponses({ 409: ['ticket_closed'] }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const job = await withScope(app.database, { tenantId: caller.tenantId }, async (tx) => {
        const ticket = await findTicket(tx, caller, request.params.id)
        if (!ticket) throw new NotFound('ticket')
        assertAcceptsMessages(ticket.status)
        return insertJob(tx, {
          tenantId: caller.tenantId,
          queue: 'ai-reply',
          payload: { ticketId: ticket.id },
        })
      })
      await app.jobs.dispatch([job])
      return reply.code(202).send({ jobId: job.id })
    },
  )
}

export default messageRoutes
