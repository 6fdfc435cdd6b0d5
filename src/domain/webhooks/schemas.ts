// Webhook endpoints and their deliveries as the api shows them, and what the
// webhook routes take (TypeBox): the one source of their validation, their
// types and the OpenAPI document.
import { type Static, type TSchema, Type } from 'typebox'
import { eventTypes } from '../../db/schema/events.ts'
import { deliveryStates } from '../../db/schema/webhooks.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

const Nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description })

const Url = Type.String({
  minLength: 8,
  maxLength: 2048,
  description:
    'https (http only where WEBHOOK_ALLOW_HTTP is set); no credentials; never a loopback, ' +
    'private, link-local or metadata address, checked again after DNS at every delivery',
})

const EventFilter = Type.Array(
  Type.Union([...eventTypes.map((t) => Type.Literal(t)), Type.Literal('*')]),
  {
    minItems: 1,
    maxItems: eventTypes.length + 1,
    uniqueItems: true,
    description: 'The event types delivered, or ["*"] for all',
  },
)

const Description = Type.String({ maxLength: 500 })

const example = {
  id: EXAMPLE_IDS.webhook,
  url: 'https://crm.example.com/hooks/deskpilot',
  events: ['ticket.created', 'ticket.updated'],
  description: 'CRM sync',
  active: true,
  disabledReason: null,
  failingSince: null,
  previousSecretExpiresAt: null,
  createdAt: EXAMPLE_TIMES.ticket,
  updatedAt: EXAMPLE_TIMES.ticket,
}

export const Webhook = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String(),
    events: Type.Array(Type.String()),
    description: Nullable(Type.String(), 'What it is for'),
    active: Type.Boolean({ description: 'false: nothing is delivered to it' }),
    disabledReason: Nullable(
      Type.String(),
      'Why Deskpilot turned it off (every delivery failed for 3 days); null otherwise',
    ),
    failingSince: Nullable(
      Type.String({ format: 'date-time' }),
      'Since when every attempt has failed; null after a success',
    ),
    previousSecretExpiresAt: Nullable(
      Type.String({ format: 'date-time' }),
      'Until then deliveries carry a signature with the secret before the last rotation too',
    ),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Webhook', examples: [example] },
)
export type Webhook = Static<typeof Webhook>

export const WebhookWithSecret = Type.Intersect(
  [
    Type.Ref('Webhook'),
    Type.Object({
      secret: Type.String({
        pattern: '^whsec_',
        description:
          'The signing secret, shown this once: keep it where the receiver verifies signatures',
      }),
    }),
  ],
  {
    description: 'The endpoint, and its signing secret shown once',
    examples: [{ ...example, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
  },
)

export const CreateWebhookBody = Type.Object(
  {
    url: Url,
    events: EventFilter,
    description: Type.Optional(Description),
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  {
    additionalProperties: false,
    examples: [{ url: 'https://crm.example.com/hooks/deskpilot', events: ['ticket.created'] }],
  },
)
export type CreateWebhookBody = Static<typeof CreateWebhookBody>

export const UpdateWebhookBody = Type.Object(
  {
    url: Type.Optional(Url),
    events: Type.Optional(EventFilter),
    description: Type.Optional(Nullable(Description, 'null removes it')),
    active: Type.Optional(
      Type.Boolean({ description: 'true turns a disabled endpoint on again (and clears why)' }),
    ),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ active: false }] },
)
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>

export const DeliveryAttempt = Type.Object({
  at: Type.String({ format: 'date-time' }),
  statusCode: Type.Optional(Type.Integer({ description: "The receiver's HTTP status" })),
  error: Type.Optional(Type.String({ description: 'Why it failed' })),
  latencyMs: Type.Integer(),
  responseExcerpt: Type.String({ description: "The first KiB of the receiver's answer" }),
})

export const WebhookDelivery = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    eventId: Type.String({ format: 'uuid', description: 'Sent as webhook-id on every attempt' }),
    type: Type.String({ description: 'The event type, or webhook.test' }),
    state: Type.Union(
      deliveryStates.map((s) => Type.Literal(s)),
      {
        description:
          'pending: an attempt is due; succeeded; failed: no more retries; cancelled: the ' +
          'endpoint was turned off before it could be delivered',
      },
    ),
    attempts: Type.Array(DeliveryAttempt),
    nextAttemptAt: Nullable(Type.String({ format: 'date-time' }), 'When the next retry is due'),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'WebhookDelivery',
    examples: [
      {
        id: EXAMPLE_IDS.delivery,
        eventId: EXAMPLE_IDS.event,
        type: 'ticket.created',
        state: 'succeeded',
        attempts: [
          {
            at: EXAMPLE_TIMES.ticket,
            statusCode: 200,
            latencyMs: 84,
            responseExcerpt: '{"ok":true}',
          },
        ],
        nextAttemptAt: null,
        createdAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
)
export type WebhookDelivery = Static<typeof WebhookDelivery>

export const ListWebhooksQuery = Type.Object(PageQuery, { additionalProperties: false })

export const ListDeliveriesQuery = Type.Object(
  {
    ...PageQuery,
    state: Type.Optional(Type.Union(deliveryStates.map((s) => Type.Literal(s)))),
  },
  { additionalProperties: false },
)
export type ListDeliveriesQuery = Static<typeof ListDeliveriesQuery>
