// TypeBox schemas of the ticket and message routes: the contract, the
// validation and the serializer (fast-json-stringify) in one place.
import { type Static, Type } from 'typebox'
import { ticketPriorities, ticketStatuses } from '../../db/schema/helpdesk.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'

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
  { $id: 'Ticket', examples: [ticketExample()] },
)

function ticketExample() {
  return {
    id: EXAMPLE_IDS.ticket,
    number: 1,
    subject: 'Cannot sign in to the dashboard',
    status: 'new',
    priority: 'high',
    requesterId: EXAMPLE_IDS.user,
    assigneeId: null,
    tags: ['login'],
    createdAt: EXAMPLE_TIMES.ticket,
    updatedAt: EXAMPLE_TIMES.ticket,
    lastMessageAt: EXAMPLE_TIMES.ticket,
  }
}

const messageExample = {
  id: EXAMPLE_IDS.message,
  ticketId: EXAMPLE_IDS.ticket,
  authorId: EXAMPLE_IDS.user,
  authorType: 'agent',
  body: 'Since this morning the login page says my password is wrong, although I reset it.',
  internal: false,
  createdAt: EXAMPLE_TIMES.ticket,
}

/** The agent's example, less what a customer never sees. */
function customerTicketExample() {
  const { priority: _p, assigneeId: _a, tags: _t, ...shown } = ticketExample()
  return shown
}

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
  {
    $id: 'CustomerTicket',
    description: 'A ticket as its customer sees it: no tags, priority or assignee',
    examples: [customerTicketExample()],
  },
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
  { $id: 'Message', examples: [messageExample] },
)

export const TicketWithMessage = Type.Object(
  {
    ...Ticket.properties,
    firstMessage: Type.Unsafe<Static<typeof Message>>(Type.Ref('Message')),
  },
  {
    $id: 'TicketWithMessage',
    description: 'A ticket and the message that opened it',
    examples: [{ ...ticketExample(), firstMessage: messageExample }],
  },
)

export const CustomerTicketWithMessage = Type.Object(
  {
    ...CustomerTicket.properties,
    firstMessage: Type.Unsafe<Static<typeof Message>>(Type.Ref('Message')),
  },
  {
    $id: 'CustomerTicketWithMessage',
    description: 'A ticket, as its customer sees it, and the message that opened it',
    examples: [{ ...customerTicketExample(), firstMessage: messageExample }],
  },
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
  {
    additionalProperties: false,
    examples: [
      {
        subject: 'Cannot sign in to the dashboard',
        body: 'Since this morning the login page says my password is wrong, although I reset it.',
        priority: 'high',
        tags: ['login'],
      },
    ],
  },
)

export const UpdateTicketBody = Type.Object(
  {
    subject: Type.Optional(Subject),
    status: Type.Optional(Status),
    priority: Type.Optional(Priority),
    assigneeId: Type.Optional(NullableId),
    tags: Type.Optional(Tags),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ status: 'open', priority: 'urgent', tags: ['login', 'sso'] }],
  },
)

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({ description: 'The ETag of the ticket as read; a stale one answers 412' }),
  ),
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
  {
    additionalProperties: false,
    examples: [
      {
        body: 'Thanks, Ada. I have unlocked your account: please try signing in again.',
        internal: false,
      },
    ],
  },
)

export const TicketPage = Page(Ticket, { description: 'A page of tickets' })

export const CustomerTicketPage = Page(CustomerTicket, {
  description: 'A page of tickets, as their customer sees them',
})

export const MessagePage = Page(Message, { description: 'A page of the thread' })

export type TicketView = Static<typeof Ticket>
export type MessageView = Static<typeof Message>
