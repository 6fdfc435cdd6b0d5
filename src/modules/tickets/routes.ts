// /v1/tickets: create (Idempotency-Key), list (filters, search, keyset), read,
// change (If-Match), merge (both) and soft-delete tickets. The messages and the
// AI-reply routes live in messages-routes.ts, registered here so they share the
// schemas.
// The rules and queries are the domain's (domain/tickets/); jobs are
// dispatched only after their commit.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { type TSchema, Type } from 'typebox'
import { requestActor } from '../../domain/audit/record.ts'
import type { Caller } from '../../domain/tickets/caller.ts'
import { mergeTickets } from '../../domain/tickets/merge.ts'
import { CustomerTicket, ListTicketsQuery, Message, Ticket } from '../../domain/tickets/schemas.ts'
import { listTickets } from '../../domain/tickets/ticket-list.ts'
import { etagOf, seesCustomerView } from '../../domain/tickets/ticket-views.ts'
import { changeTicket, deleteTicket, getTicket, openTicket } from '../../domain/tickets/tickets.ts'
import { ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { callerOf } from '../../plugins/access.ts'
import messageRoutes from './messages-routes.ts'
import {
  CreateTicketBody,
  CustomerTicketPage,
  CustomerTicketWithMessage,
  IdempotencyHeaders,
  IfMatchHeaders,
  MergeHeaders,
  MergeTicketsBody,
  TicketPage,
  TicketParams,
  TicketWithMessage,
  UpdateTicketBody,
} from './schemas.ts'

const tags = ['tickets']

/**
 * Serializes the reply with the caller's view of a ticket: the agents' schema
 * or the customer's (domain/tickets/ticket-views.ts), whose serializer drops every field it does
 * not hold. The routes declare both (for the contract); picking one here keeps
 * fast-json-stringify off anyOf, which would validate every row to choose. The
 * schemas compiled here hold no $ref (a reply's compiler may not know the
 * shared ones), and each compiles once per route (Fastify caches it).
 */
const page = (row: TSchema) =>
  Type.Object({ data: Type.Array(row), nextCursor: Type.Union([Type.String(), Type.Null()]) })
const withMessage = (ticket: { properties: Record<string, TSchema> }) =>
  Type.Object({ ...ticket.properties, firstMessage: Type.Object(Message.properties) })
const VIEWS = {
  ticket: [Type.Object(Ticket.properties), Type.Object(CustomerTicket.properties)],
  page: [page(Type.Object(Ticket.properties)), page(Type.Object(CustomerTicket.properties))],
  created: [withMessage(Ticket), withMessage(CustomerTicket)],
} as const

function serializeAs(reply: FastifyReply, caller: Caller, view: keyof typeof VIEWS) {
  const [agent, customer] = VIEWS[view]
  return reply.serializer(
    reply.compileSerializationSchema(
      (seesCustomerView(caller) ? customer : agent) as unknown as Record<string, unknown>,
    ),
  )
}

/** The agent's view or the customer's, by the caller (serializeAs picks one). */
const either = (agent: TSchema, customer: TSchema, description: string) => {
  const [a, c] = [agent, customer] as { $id?: string; examples?: unknown[] }[]
  return Type.Union([ref(agent), ref(customer)], {
    description: `${a?.$id} for callers with tickets:read_all, ${c?.$id} for customers. ${description}`,
    examples: a?.examples,
  })
}

const ticketRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Ticket)
  app.addSchema(Message)
  app.addSchema(TicketWithMessage)
  app.addSchema(CustomerTicket)
  app.addSchema(CustomerTicketWithMessage)

  app.post(
    '/tickets',
    {
      config: { access: 'tenant', permission: 'tickets:write' },
      schema: {
        operationId: 'createTicket',
        tags,
        summary: 'Open a ticket with its first message',
        description:
          'A caller without tickets:read_all is always its own requester (its contact). An ' +
          'agent or API key names the requester as requesterId (a contact) or requester ' +
          '{email, name} (found or made); an agent naming neither is its own requester. ' +
          'attachmentIds attach your own uploads (POST /v1/attachments) to the first message. With an ' +
          'Idempotency-Key, a retry with the same body within 24 h returns the first response.',
        headers: IdempotencyHeaders,
        body: CreateTicketBody,
        response: {
          201: either(TicketWithMessage, CustomerTicketWithMessage, 'The ticket created.'),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'requester_required', 'invalid_email'],
            403: ['forbidden', 'email_unverified'],
            422: ['invalid_requester', 'invalid_attachment', 'idempotency_key_reused'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { replayed, body, jobs } = await openTicket(app.database, caller, request.body, request)
      if (jobs.length > 0) await app.jobs.dispatch(jobs)
      if (replayed) reply.header('idempotent-replayed', 'true')
      return serializeAs(reply, caller, 'created')
        .code(201)
        .header('location', `/v1/tickets/${body.id}`)
        .header('etag', etagOf(caller, body.version))
        .send(body)
    },
  )

  app.get(
    '/tickets',
    {
      config: { access: 'tenant', permission: 'tickets:read' },
      schema: {
        operationId: 'listTickets',
        tags,
        summary: 'Tickets, newest activity first; filters, full-text search, cursor pages',
        description:
          'A caller without tickets:read_all sees only the tickets it requested. With q, ' +
          'results are ranked (a subject match above a message match) unless sort is given; ' +
          'internal notes are searched only with messages:internal. Customers see ' +
          'CustomerTicket rows and may not filter or sort by tag, assignee or priority ' +
          '(400 filter_not_allowed).',
        querystring: ListTicketsQuery,
        response: {
          200: Type.Union([TicketPage, CustomerTicketPage], {
            description: 'Ticket rows for callers with tickets:read_all, CustomerTicket rows else',
            examples: (TicketPage as { examples?: unknown[] }).examples,
          }),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_cursor', 'filter_not_allowed'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const page = await listTickets(app.database, caller, request.query)
      return serializeAs(reply, caller, 'page').send(page)
    },
  )

  app.get(
    '/tickets/:id',
    {
      config: { access: 'tenant', permission: 'tickets:read' },
      schema: {
        operationId: 'getTicket',
        tags,
        summary: 'One ticket, with its ETag',
        description:
          'The ETag header is the version to send back as If-Match with a PATCH; ' +
          'If-None-Match with the current ETag answers 304. A ticket the caller may not ' +
          'see answers 404, like one that does not exist.',
        params: TicketParams,
        response: {
          200: either(Ticket, CustomerTicket, 'Its ETag is that view’s.'),
          304: Type.Null({ description: 'Not modified: the If-None-Match ETag is current' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const row = await getTicket(app.database, caller, request.params.id)
      const etag = etagOf(caller, row.version)
      reply.header('etag', etag)
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null)
      return serializeAs(reply, caller, 'ticket').send(row)
    },
  )

  app.patch(
    '/tickets/:id',
    {
      config: { access: 'tenant', permission: 'tickets:write' },
      schema: {
        operationId: 'updateTicket',
        tags,
        summary: 'Change a ticket, field by field as your permissions allow',
        description:
          'assigneeId needs tickets:assign (and an active member with tickets:read_all); ' +
          'status, priority and tags need tickets:read_all; a requester may change the ' +
          'subject. With If-Match, a stale ETag answers 412 precondition_failed. A merged ' +
          'ticket cannot be changed (409 ticket_merged, with mergedIntoId).',
        headers: IfMatchHeaders,
        params: TicketParams,
        body: UpdateTicketBody,
        response: {
          200: either(Ticket, CustomerTicket, 'The ticket as changed.'),
          ...tenantRouteProblems,
          ...problemResponses({
            409: ['ticket_closed', 'invalid_status_transition', 'ticket_merged'],
            412: ['precondition_failed'],
            422: ['invalid_assignee'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const updated = await changeTicket(
        app.database,
        caller,
        request.params.id,
        request.body,
        request.headers['if-match'],
      )
      return serializeAs(reply, caller, 'ticket')
        .header('etag', etagOf(caller, updated.version))
        .send(updated)
    },
  )

  app.post(
    '/tickets/:id/merge',
    {
      config: { access: 'tenant', permission: 'tickets:merge' },
      schema: {
        operationId: 'mergeTickets',
        tags,
        summary: 'Merge up to five tickets into this one',
        description:
          "The sources' messages (notes stay internal), their attachments, tags and email " +
          'threads join this ticket in time order; each source is closed with mergedIntoId ' +
          'and takes no more messages (409 ticket_merged); both sides get a public history ' +
          'line. Every ticket must be live and visible to you (404 otherwise); this one may ' +
          'not be merged or closed, a source may not be this one, merged, closed, or of ' +
          'another requester (422 invalid_merge, naming each). With If-Match, a stale ETag ' +
          'answers 412; with an Idempotency-Key, a retry merges once and gets the first answer.',
        headers: MergeHeaders,
        params: TicketParams,
        body: MergeTicketsBody,
        response: {
          200: either(Ticket, CustomerTicket, 'This ticket after the merge, with its ETag.'),
          ...tenantRouteProblems,
          ...problemResponses({
            412: ['precondition_failed'],
            422: ['invalid_merge', 'idempotency_key_reused'],
          }),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request)
      const { replayed, body } = await mergeTickets(
        app.database,
        caller,
        request.params.id,
        request.body.sourceIds,
        request.headers['if-match'],
        request,
      )
      if (replayed) reply.header('idempotent-replayed', 'true')
      return serializeAs(reply, caller, 'ticket')
        .header('etag', etagOf(caller, body.version))
        .send(body)
    },
  )

  app.delete(
    '/tickets/:id',
    {
      config: { access: 'tenant', permission: 'tickets:delete' },
      schema: {
        operationId: 'deleteTicket',
        tags,
        summary: 'Delete a ticket (soft: it disappears from every list and read)',
        description:
          'Needs tickets:delete. The ticket and its messages are kept in the database but ' +
          'answer 404 from then on; the deletion is audited.',
        params: TicketParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...tenantRouteProblems },
      },
    },
    async (request, reply) => {
      await deleteTicket(app.database, callerOf(request), request.params.id, requestActor(request))
      return reply.code(204).send(null)
    },
  )

  await app.register(messageRoutes)
}

export default ticketRoutes
