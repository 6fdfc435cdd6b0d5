// A background job as its tenant reads it (GET /v1/jobs/{id}): its state,
// attempts, result and, for a failure, the public form of the error.
import { type Static, Type } from 'typebox'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

export const Job = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.String({ examples: ['ai-reply'] }),
    state: Type.Union([
      Type.Literal('queued'),
      Type.Literal('running'),
      Type.Literal('succeeded'),
      Type.Literal('failed'),
    ]),
    attempts: Type.Integer(),
    maxAttempts: Type.Integer(),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    error: Type.Optional(
      Type.String({
        description: 'Why the last attempt failed, written for the tenant',
        examples: ['The AI provider could not be reached.'],
      }),
    ),
    errorCode: Type.Optional(
      Type.String({
        description:
          'A stable code for the failure when it has one: ai_provider_unreachable, ' +
          'ai_provider_rejected, ai_provider_error, ai_timeout',
        examples: ['ai_provider_unreachable'],
      }),
    ),
    createdAt: Type.String({ format: 'date-time' }),
    startedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    finishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  {
    $id: 'Job',
    examples: [
      {
        id: EXAMPLE_IDS.job,
        type: 'ai-reply',
        state: 'succeeded',
        attempts: 1,
        maxAttempts: 5,
        result: { messageId: EXAMPLE_IDS.reply },
        createdAt: EXAMPLE_TIMES.ticket,
        startedAt: EXAMPLE_TIMES.ticket,
        finishedAt: EXAMPLE_TIMES.reply,
      },
    ],
  },
)
export type Job = Static<typeof Job>
