// TypeBox schemas of the ticket and message routes: bodies, headers, params,
// pages and the ticket-with-first-message answer (the ticket, the message and
// the list's filters are the domain's: domain/tickets/schemas.ts).
import { type Static, type TSchema, Type } from 'typebox'
import { MAX_MERGE_SOURCES } from '../../domain/tickets/merge.ts'
import { CustomerTicket, Message, Priority, Status, Ticket } from '../../domain/tickets/schemas.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS } from '../../lib/examples.ts'
import { Page } from '../../lib/page.ts'
import { Tag } from '../../lib/tags.ts'

const Id = Type.String({ format: 'uuid' })
/** A shared schema's first example, to build the examples of what holds it. */
const exampleOf = (schema: TSchema) =>
  (schema as { examples: Record<string, unknown>[] }).examples[0]
const NullableId = Type.Union([Id, Type.Null()])
const Tags = Type.Array(Tag, { maxItems: 20, description: 'Stored trimmed and lowercase' })
const Subject = Type.String({ minLength: 1, maxLength: 250, pattern: '\\S' })
const Body = Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S' })
const AttachmentIds = Type.Array(Type.String({ format: 'uuid' }), {
  maxItems: 20,
  uniqueItems: true,
  description:
    'Your own uploads (POST /v1/attachments) not attached yet; any other id fails the ' +
    'request with 422 invalid_attachment',
})

export const TicketWithMessage = Type.Object(
  {
    ...Ticket.properties,
    firstMessage: Type.Unsafe<Static<typeof Message>>(Type.Ref('Message')),
  },
  {
    $id: 'TicketWithMessage',
    description: 'A ticket and the message that opened it',
    examples: [{ ...exampleOf(Ticket), firstMessage: exampleOf(Message) }],
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
    examples: [{ ...exampleOf(CustomerTicket), firstMessage: exampleOf(Message) }],
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
      Type.String({
        format: 'uuid',
        description: 'A contact id. Agents and API keys only; a customer is its own requester',
      }),
    ),
    requester: Type.Optional(
      Type.Object(
        {
          email: Type.String({
            minLength: 3,
            maxLength: 254,
            description:
              'Stored lowercased, NFKC-folded, domain in ASCII; a non-ASCII local part is refused (invalid_email)',
          }),
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        {
          additionalProperties: false,
          description:
            'Agents and API keys only, instead of requesterId: the contact with this email, made when there is none',
        },
      ),
    ),
    attachmentIds: Type.Optional(AttachmentIds),
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

/** A merge answers to both: If-Match on the target, and Idempotency-Key. */
export const MergeHeaders = Type.Object({
  ...IfMatchHeaders.properties,
  ...IdempotencyHeaders.properties,
})

export const MergeTicketsBody = Type.Object(
  {
    sourceIds: Type.Array(Id, {
      minItems: 1,
      maxItems: MAX_MERGE_SOURCES,
      uniqueItems: true,
      description:
        'The tickets to merge into this one: live, not closed, not merged, with the same requester',
    }),
  },
  { additionalProperties: false, examples: [{ sourceIds: [EXAMPLE_IDS.duplicateTicket] }] },
)

export const ListMessagesQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })

export const CreateMessageBody = Type.Object(
  {
    body: Body,
    internal: Type.Optional(Type.Boolean({ description: 'An internal note (messages:internal)' })),
    attachmentIds: Type.Optional(AttachmentIds),
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
