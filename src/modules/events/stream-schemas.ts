// The live stream's inputs (where to start, which types) and its answer as the
// OpenAPI document shows it: a text/event-stream whose messages carry the
// feed's Event (domain/events/schemas.ts) as their data.
import { Type } from 'typebox'
import { ListEventsQuery } from '../../domain/events/schemas.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

export const StreamEventsQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({
        maxLength: 512,
        description:
          "Replay from the feed after this point (a feed page's nextCursor, or a sequence); " +
          'Last-Event-ID wins over it. Omit both for only what happens from now on',
      }),
    ),
    type: ListEventsQuery.properties.type,
  },
  { additionalProperties: false },
)

export const StreamEventsHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,15}$',
      description:
        'The sequence of the last event received (EventSource sends it when it reconnects): ' +
        'the stream replays what came after it, skipping and repeating nothing',
      examples: ['42'],
    }),
  ),
})

const example = JSON.stringify({
  id: EXAMPLE_IDS.message,
  type: 'ticket.created',
  sequence: 42,
  occurredAt: EXAMPLE_TIMES.ticket,
  data: { ticket: { id: EXAMPLE_IDS.ticket, subject: 'The router is blinking red' } },
})

export const EventStream = {
  description:
    'Server-Sent Events, one message per event, oldest first: `id: <sequence>`, ' +
    '`event: <type>`, `data: <the event as JSON: {id, type, sequence, occurredAt, data}>`; a ' +
    'comment (`: heartbeat`) every EVENT_STREAM_HEARTBEAT_SECONDS (15); ends when the session ' +
    'or key is revoked, and with a `retry:` hint when the server shuts down',
  content: {
    'text/event-stream': {
      schema: Type.String({
        description: 'The event stream (text/event-stream, UTF-8)',
        examples: [`id: 42\nevent: ticket.created\ndata: ${example}\n\n: heartbeat\n\n`],
      }),
    },
  },
}
