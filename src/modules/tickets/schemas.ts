// TypeBox schemas of the ticket and message routes: the contract, the
// validation and the serializer (fast-json-stringify) in one place.
import { type Static, Type } from 'typebox'
import { ticketPriorities, ticketStatuses } from '../../db/schema/helpdesk.ts'
import { PageQuery } from '../../lib/cursor.ts'

const Id = Type.String({ format: 'uuid' })
const Time = Type.String({ format: 'date-time' })
const NullableId = Type.Union([Id, Type.Null()])

export const Status = Type.Enum(ticketStatuses, {
  description: 'closed is final; see the README for the transitions',
})
export const Priority = Type.Enum(ticketPriorities)

const Tag = Type.String({ minLength: 1, maxLength: 50, pattern: '^\\s*[^\\s,][^,]*$' })
const Tags = Type.Array(Tag, { maxItems: 20, description: 'Stored trimmed and lowercase' })
const Subject = Type.String({ minLength: 1, maxLength: 250, pattern: '\\S' })
const Body = Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S' })

export const Ticket = Type.Object(
  {
    id: Id,
    number: Type.Integer({ description: 'Per-tenant sequence: 1, 2, 3, ...' }),
    subject: Type.String(),
    status: Status,
    priority: Priority,
    requesterId: Id,
    assigneeId: NullableId,
    tags: Type.Array(Type.String()),
    createdAt: Time,
    updatedAt: Time,
    lastMessageAt: Time,
  },
  { $id: 'Ticket' },
)

/**
 * A ticket as its customer sees it. Like Zendesk's end-user Requests API
 * (subject, status, requester, times; never tags), and stricter where Zendesk
 * leaves it to a per-field setting Deskpilot does not have: no priority and no
 * assignee. Tags such as fraud-suspect, a priority and who works on it are the
 * team's business. Its updatedAt (and ETag) move only with what it shows: a
 * public message, the subject, the status.
 */
export const CustomerTicket = Type.Object(
  {
    id: Id,
    number: Ticket.properties.number,
    subject: Type.String(),
    status: Status,
    requesterId: Id,
    createdAt: Time,
    updatedAt: Time,
    lastMessageAt: Time,
  },
  { $id: 'CustomerTicket' },
)

const Source = Type.Object({ kind: Type.String(), id: Type.String(), title: Type.String() })

export const Message = Type.Object(
  {
    id: Id,
    ticketId: Id,
    authorId: NullableId,
    authorType: Type.Union([
      Type.Literal('customer'),
      Type.Literal('agent'),
      Type.Literal('ai'),
      Type.Literal('system'),
    ]),
    body: Type.String(),
    internal: Type.Boolean({ description: 'An internal note: never shown to customers' }),
    sources: Type.Optional(Type.Array(Source, { description: 'AI messages: what they cite' })),
    createdAt: Time,
  },
  { $id: 'Message' },
)

export const TicketWithMessage = Type.Object(
  {
    ...Ticket.properties,
    firstMessage: Type.Unsafe<Static<typeof Message>>(Type.Ref('Message')),
  },
  { $id: 'TicketWithMessage' },
)

export const CustomerTicketWithMessage = Type.Object(
  {
    ...CustomerTicket.properties,
    firstMessage: Type.Unsafe<Static<typeof Message>>(Type.Ref('Message')),
  },
  { $id: 'CustomerTicketWithMessage' },
)

export const TicketParams = Type.Object({ id: Id }, { additionalProperties: false })

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'A retry with the same key and body within 24 h returns the first response',
    }),
  ),
  'x-tenant-id': Type.Optional(Type.String({ description: 'The tenant (id or slug)' })),
})

export const CreateTicketBody = Type.Object(
  {
    subject: Subject,
    body: Body,
    priority: Type.Optional(Priority),
    tags: Type.Optional(Tags),
    requesterId: Type.Optional(
      Type.String({ format: 'uuid', description: 'Agents only; a customer is its own requester' }),
    ),
  },
  { additionalProperties: false },
)

export const UpdateTicketBody = Type.Object(
  {
    subject: Type.Optional(Subject),
    status: Type.Optional(Status),
    priority: Type.Optional(Priority),
    assigneeId: Type.Optional(NullableId),
    tags: Type.Optional(Tags),
  },
  { additionalProperties: false, minProperties: 1 },
)

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'The ETag of the ticket as read; a stale one answers 412' }),
  ),
  'x-tenant-id': Type.Optional(Type.String({ description: 'The tenant (id or slug)' })),
})

export const sorts = ['-updatedAt', 'createdAt', '-priority'] as const
export type Sort = (typeof sorts)[number]

export const ListTicketsQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Array(Status, {
        maxItems: 6,
        description: 'Repeat for several: status=new&status=open',
      }),
    ),
    priority: Type.Optional(Priority),
    assigneeId: Type.Optional(
      Type.Union([Id, Type.Literal('none')], { description: 'A user id, or none: unassigned' }),
    ),
    requesterId: Type.Optional(Id),
    tag: Type.Optional(Tag),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: 'Full-text search over subject and messages; ranked unless sort is given',
      }),
    ),
    sort: Type.Optional(Type.Enum(sorts)),
    ...PageQuery,
  },
  { additionalProperties: false },
)
export type ListTicketsQuery = Static<typeof ListTicketsQuery>

export const ListMessagesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const CreateMessageBody = Type.Object(
  {
    body: Body,
    internal: Type.Optional(Type.Boolean({ description: 'An internal note (messages:internal)' })),
  },
  { additionalProperties: false },
)

export const TicketPage = Type.Object({
  data: Type.Array(Type.Unsafe<Static<typeof Ticket>>(Type.Ref('Ticket'))),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const CustomerTicketPage = Type.Object({
  data: Type.Array(Type.Unsafe<Static<typeof CustomerTicket>>(Type.Ref('CustomerTicket'))),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const MessagePage = Type.Object({
  data: Type.Array(Type.Unsafe<Static<typeof Message>>(Type.Ref('Message'))),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export type TicketView = Static<typeof Ticket>
export type MessageView = Static<typeof Message>
