// An event as the feed shows it (GET /v1/events), and the feed's query. `data`
// is shaped for its reader by the query (feed.ts: the customer's view of a
// ticket, which the row keeps beside the agent's), so its schema is open: a
// per-type object holding the resource under its name.
import { type Static, Type } from 'typebox'
import { eventTypes } from '../../db/schema/events.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { ref } from '../../lib/page.ts'

export const EventType = Type.Enum(eventTypes)

export const Event = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: EventType,
    sequence: Type.Integer({ minimum: 1, description: 'Increases by one per event of the tenant' }),
    occurredAt: Type.String({ format: 'date-time' }),
    data: Type.Object(
      {},
      {
        additionalProperties: true,
        description:
          'The resource as its GET shows it to this reader, under its name: {ticket} ' +
          '(ticket.updated adds changes: {field: [old, new]}, ticket.merged mergedIds), ' +
          '{message}, {contact}, {article} or {job}',
      },
    ),
  },
  {
    $id: 'Event',
    examples: [
      {
        id: EXAMPLE_IDS.message,
        type: 'ticket.updated',
        sequence: 42,
        occurredAt: EXAMPLE_TIMES.ticket,
        data: {
          ticket: { id: EXAMPLE_IDS.ticket, status: 'open' },
          changes: { status: ['new', 'open'] },
        },
      },
    ],
  },
)
export type Event = Static<typeof Event>

const typeList = `(${eventTypes.map((t) => t.replace('.', '\\.')).join('|')})`

export const ListEventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        maxLength: 512,
        description:
          "A page's nextCursor, or an event's sequence: the feed starts after it (omit for the oldest kept)",
      }),
    ),
    type: Type.Optional(
      Type.String({
        maxLength: 400,
        pattern: `^${typeList}(,${typeList})*$`,
        description: 'Only these types, comma-separated: ticket.created,message.created',
      }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Events per page' }),
    ),
  },
  { additionalProperties: false },
)
export type ListEventsQuery = Static<typeof ListEventsQuery>

export const EventPage = Type.Object(
  {
    data: Type.Array(ref(Event)),
    nextCursor: Type.String({
      description:
        'Pass as `after` for what comes next; never null: at the end, where to poll from',
    }),
  },
  { description: 'One page of the feed, oldest first' },
)
