// The ticket and its messages as the api shows them (TypeBox): the rows the
// ticket reads and writes return, and the filters of the ticket list. Two
// views of a ticket: the agents' (Ticket) and the customer's (CustomerTicket,
// see ticket-views.ts).
import { type Static, Type } from 'typebox'
import { ticketPriorities, ticketStatuses } from '../../db/schema/helpdesk.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES, EXAMPLE_USER } from '../../lib/examples.ts'
import { Tag } from '../../lib/tags.ts'
import { listedExample, MessageAttachment } from '../files/schemas.ts'

const Id = Type.String({ format: 'uuid' })
const Time = Type.String({ format: 'date-time' })
const NullableId = Type.Union([Id, Type.Null()])

export const Status = Type.Enum(ticketStatuses, {
  description: 'closed is final; see the README for the transitions',
})
export const Priority = Type.Enum(ticketPriorities)

const requesterExample = {
  id: EXAMPLE_IDS.contact,
  email: EXAMPLE_USER.email,
  name: EXAMPLE_USER.name,
}

/** A ticket's requester: its contact (email and name are null once the contact is erased). */
const Requester = Type.Object(
  {
    id: Id,
    email: Type.Union([Type.String(), Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()]),
  },
  { description: "The requester's contact; email and name are null once it is erased" },
)

/** What the AI triage and summary jobs found (jobs/ai/triage-processor.ts). */
export const TicketAi = Type.Union(
  [
    Type.Object({
      summary: Type.String(),
      language: Type.Optional(Type.String({ description: 'BCP 47, as the model named it' })),
      sentiment: Type.Optional(Type.Enum(['negative', 'neutral', 'positive'])),
      suggestedPriority: Type.Optional(Priority),
      suggestedTags: Type.Optional(
        Type.Array(Type.String(), { description: "Only tags the tenant's tickets already use" }),
      ),
      generatedAt: Time,
    }),
    Type.Null(),
  ],
  {
    description:
      "The AI's summary and, once triaged (the tenant's aiTriage), the language, sentiment, " +
      'priority and tags it suggests; null until a triage or summary job stored some. Agents only.',
  },
)

const MergedIntoId = Type.Union([Id, Type.Null()], {
  description: 'Set when this ticket was merged into that one (and so closed)',
})
const FollowUpOfId = Type.Union([Id, Type.Null()], {
  description: 'The closed ticket that a later email on its thread followed up',
})

export const Ticket = Type.Object(
  {
    id: Id,
    number: Type.Integer({ description: 'Per-tenant sequence: 1, 2, 3, ...' }),
    subject: Type.String(),
    status: Status,
    priority: Priority,
    requesterId: Id,
    requester: Requester,
    assigneeId: NullableId,
    tags: Type.Array(Type.String()),
    mergedIntoId: MergedIntoId,
    followUpOfId: FollowUpOfId,
    ai: TicketAi,
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
    requesterId: EXAMPLE_IDS.contact,
    requester: requesterExample,
    assigneeId: null,
    tags: ['login'],
    mergedIntoId: null,
    followUpOfId: null,
    ai: {
      summary: 'The customer cannot sign in since this morning, although they reset the password.',
      language: 'en',
      sentiment: 'negative',
      suggestedPriority: 'high',
      suggestedTags: ['login'],
      generatedAt: EXAMPLE_TIMES.ticket,
    },
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
  attachments: [listedExample],
  createdAt: EXAMPLE_TIMES.ticket,
}

/** The agent's example, less what a customer never sees. */
function customerTicketExample() {
  const { priority: _p, assigneeId: _a, tags: _t, ai: _ai, ...shown } = ticketExample()
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
    requester: Requester,
    mergedIntoId: MergedIntoId,
    followUpOfId: FollowUpOfId,
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
    contactId: Type.Optional(
      Type.Union([Id, Type.Null()], {
        description: "A customer's message: the contact who wrote it",
      }),
    ),
    body: Type.String(),
    internal: Type.Boolean({ description: 'An internal note: never shown to customers' }),
    sources: Type.Optional(Type.Array(Source, { description: 'AI messages: what they cite' })),
    attachments: Type.Optional(
      Type.Array(MessageAttachment, {
        description: 'Its files, listed ones first; GET /v1/attachments/{id} downloads each',
      }),
    ),
    createdAt: Time,
  },
  { $id: 'Message', examples: [messageExample] },
)

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

/**
 * A ticket row as the reads and writes return it, in either view (the routes'
 * serializer drops what a view does not show): the version is its ETag's.
 */
export type TicketRow = Static<typeof Ticket> & { version: number }
export type MessageRow = Static<typeof Message>
