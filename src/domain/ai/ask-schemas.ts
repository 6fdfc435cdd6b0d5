// The copilot as the api shows it (POST /v1/ai/ask, GET/DELETE /v1/ai/history):
// what it takes, its answer as JSON and as Server-Sent Events, and a history entry.
import { type Static, Type } from 'typebox'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'
import { ref } from '../../lib/page.ts'

export const AskBody = Type.Object(
  {
    question: Type.String({
      minLength: 1,
      maxLength: 4000,
      description: 'What the agent asks, in their own words',
    }),
    ticketId: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          'A ticket to ground the answer in: its thread as the caller may see it (internal notes only with messages:internal)',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      { question: 'How does the customer reset the router?', ticketId: EXAMPLE_IDS.ticket },
    ],
  },
)
export type AskBody = Static<typeof AskBody>

export const AskSource = Type.Object(
  {
    kind: Type.String({ description: 'kb_article' }),
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
  },
  { description: 'A knowledge-base article the answer rests on' },
)

const exampleSources = [
  { kind: 'kb_article', id: EXAMPLE_IDS.article, title: 'Resetting the router' },
]

export const AskAnswer = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: "The stored answer's id (GET /v1/ai/history)" }),
    answer: Type.String(),
    sources: Type.Array(AskSource),
  },
  {
    $id: 'AiAskAnswer',
    description: 'The answer, as stored in the caller’s history',
    examples: [
      {
        id: EXAMPLE_IDS.job,
        answer: 'Hold the reset button for ten seconds until the light blinks green [1].',
        sources: exampleSources,
      },
    ],
  },
)
export type AskAnswer = Static<typeof AskAnswer>

const streamExample = [
  'event: token\ndata: {"text":"Hold the reset button"}\n\n',
  'event: token\ndata: {"text":" for ten seconds [1]."}\n\n',
  `event: sources\ndata: ${JSON.stringify({ sources: exampleSources })}\n\n`,
  `event: done\ndata: {"id":"${EXAMPLE_IDS.job}"}\n\n`,
].join('')

/** The 200 of POST /v1/ai/ask: JSON by default, Server-Sent Events when asked for. */
export const AskResponse = {
  description:
    'The answer. `application/json` (the default): `{id, answer, sources}` once it is complete. ' +
    '`text/event-stream` (Accept: text/event-stream): `event: token` messages (data ' +
    '`{"text": "..."}`) as the model produces them, then `event: sources` (data ' +
    '`{"sources": [...]}`) and `event: done` (data `{"id": "..."}`, the stored answer); the ' +
    'tokens joined are exactly the stored answer. A provider failure after the stream began ' +
    'ends it with `event: error` (data `{"code": "...", "message": "..."}`) and stores nothing.',
  content: {
    'application/json': { schema: ref(AskAnswer) },
    'text/event-stream': {
      schema: Type.String({
        description: 'The answer as Server-Sent Events (text/event-stream, UTF-8)',
        examples: [streamExample],
      }),
    },
  },
}

export const AskHistoryEntry = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    question: Type.String(),
    answer: Type.String(),
    sources: Type.Array(AskSource),
    ticketId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
      description: 'The ticket the question was about, if any',
    }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'AiAskHistoryEntry',
    examples: [
      {
        id: EXAMPLE_IDS.job,
        question: 'How does the customer reset the router?',
        answer: 'Hold the reset button for ten seconds until the light blinks green [1].',
        sources: exampleSources,
        ticketId: EXAMPLE_IDS.ticket,
        createdAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
)
export type AskHistoryEntry = Static<typeof AskHistoryEntry>

export const AskHistoryQuery = Type.Object({ ...PageQuery }, { additionalProperties: false })
export type AskHistoryQuery = Static<typeof AskHistoryQuery>
