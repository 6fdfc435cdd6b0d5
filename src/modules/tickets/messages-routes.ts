// /v1/tickets/{id}/messages (read the thread, post to it, with Idempotency-Key),
// /v1/tickets/{id}/ai-reply (queue an AI reply on demand) and
// /v1/tickets/{id}/ai/summarize (queue a summary). Registered by
// routes.ts, which adds the shared schemas.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { requestSummary } from '../../domain/ai/ticket-ai.ts'
import { listMessages, postMessage, requestAiReply } from '../../domain/tickets/messages.ts'
import type { MessageRow } from '../../domain/tickets/schemas.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { callerOf } from '../../plugins/access.ts'
import {
  CreateMessageBody,
  IdempotencyHeaders,
  ListMessagesQuery,
  MessagePage,
  TicketParams,
} from './schemas.ts'

const tags = ['tickets']
const MessageRef = Type.Unsafe<MessageRow>(
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
    async (request) =>
      listMessages(app.database, callerOf(request), request.params.id, request.query),
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
          'closed ticket takes no messages (409 ticket_closed), nor a merged one (409 ' +
          'ticket_merged, with mergedIntoId: where to write instead). attachmentIds attach ' +
          'your own uploads (POST /v1/attachments).',
        headers: IdempotencyHeaders,
        params: TicketParams,
        body: CreateMessageBody,
        response: {
          201: MessageRef,
          ...tenantRouteProblems,
          ...problemResponses({
            409: ['ticket_closed', 'ticket_merged'],
            422: ['invalid_attachment', 'idempotency_key_reused'],
          }),
        },
      },
    },
    async (request, reply) => {
      const { replayed, body, jobs } = await postMessage(
        app.database,
        callerOf(request),
        request.params.id,
        request.body,
        request,
      )
      if (jobs.length > 0) await app.jobs.dispatch(jobs)
      if (replayed) reply.header('idempotent-replayed', 'true')
      return reply.code(201).send(body)
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
          ...problemResponses({ 409: ['ticket_closed', 'ticket_merged'] }),
        },
      },
    },
    async (request, reply) => {
      const job = await requestAiReply(app.database, callerOf(request), request.params.id)
      await app.jobs.dispatch([job])
      return reply.code(202).send({ jobId: job.id })
    },
  )

  app.post(
    '/tickets/:id/ai/summarize',
    {
      config: { access: 'tenant', permission: 'ai:use' },
      schema: {
        operationId: 'requestAiSummary',
        tags,
        summary: "Queue an AI summary of the ticket's public thread",
        description:
          "The job stores it as the ticket's `ai.summary` (agents only). Past the tenant's " +
          'monthly token budget: 429 `ai_budget_exceeded`, and nothing is queued.',
        params: TicketParams,
        response: {
          202: Type.Object(
            { jobId: Type.String({ format: 'uuid', description: 'Poll it at /v1/jobs/{id}' }) },
            { description: 'The summary is queued', examples: [{ jobId: EXAMPLE_IDS.job }] },
          ),
          ...tenantRouteProblems,
          ...problemResponses({ 429: ['ai_budget_exceeded'] }),
        },
      },
    },
    async (request, reply) => {
      const job = await requestSummary(app.database, callerOf(request), request.params.id)
      await app.jobs.dispatch([job])
      return reply.code(202).send({ jobId: job.id })
    },
  )
}

export default messageRoutes
