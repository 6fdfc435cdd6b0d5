// The AI settings, the model list, the generations and the usage as the api
// shows them, and what their routes take (TypeBox).
import { type Static, type TSchema, Type } from 'typebox'
import { aiProviders, generationKinds, generationOutcomes } from '../../db/schema/ai.ts'
import { PageQuery } from '../../lib/cursor.ts'
import { EXAMPLE_IDS, EXAMPLE_TIMES } from '../../lib/examples.ts'

const Nullable = <T extends TSchema>(schema: T, description: string) =>
  Type.Union([schema, Type.Null()], { description })

const Provider = Type.Union([Type.Literal(aiProviders[0]), Type.Literal(aiProviders[1])], {
  description:
    'builtin: no network, answers only by quoting vetted articles; openai: any ' +
    'OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio)',
})

export const AiSettingsView = Type.Object(
  {
    provider: Provider,
    baseUrl: Type.String({ description: "The endpoint's base URL (…/v1)" }),
    model: Type.String(),
    embeddingModel: Nullable(Type.String(), 'The embedding model for retrieval; null: none'),
    apiKeyLast4: Nullable(Type.String(), "The last 4 characters of the tenant's key"),
    hasApiKey: Type.Boolean({ description: 'A key is sent (the tenant’s, or the platform’s)' }),
    monthlyTokenBudget: Nullable(
      Type.Integer(),
      'Prompt and completion tokens the tenant may use per calendar month (UTC); null: no cap',
    ),
    inherited: Type.Object(
      {
        provider: Type.Boolean(),
        baseUrl: Type.Boolean(),
        model: Type.Boolean(),
        apiKey: Type.Boolean(),
      },
      { description: "true where the platform's AI_* setting applies" },
    ),
    updatedAt: Nullable(Type.String({ format: 'date-time' }), 'null: never set'),
  },
  {
    $id: 'AiSettings',
    examples: [
      {
        provider: 'openai',
        baseUrl: 'https://api.openai.com/v1',
        model: 'gpt-4o-mini',
        embeddingModel: 'text-embedding-3-small',
        apiKeyLast4: 'x9Qz',
        hasApiKey: true,
        monthlyTokenBudget: 2_000_000,
        inherited: { provider: false, baseUrl: true, model: false, apiKey: false },
        updatedAt: EXAMPLE_TIMES.ticket,
      },
    ],
  },
)
export type AiSettingsView = Static<typeof AiSettingsView>

const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' })

export const PutAiSettingsBody = Type.Object(
  {
    provider: Type.Optional(Nullable(Provider, "null or absent: the platform's")),
    baseUrl: Type.Optional(
      Nullable(
        Type.String({ minLength: 8, maxLength: 2048 }),
        "null or absent: the platform's. https, and no private or loopback address unless the " +
          'platform sets AI_ALLOW_PRIVATE_NETWORKS (422 invalid_ai_base_url)',
      ),
    ),
    model: Type.Optional(Nullable(Text(200), "null or absent: the platform's")),
    embeddingModel: Type.Optional(Nullable(Text(200), 'null or absent: no embeddings')),
    apiKey: Type.Optional(
      Nullable(
        Type.String({ minLength: 8, maxLength: 500, pattern: '^[\\x21-\\x7e]+$' }),
        'Write-only. Absent: the stored key stays; null: removed. Kept encrypted',
      ),
    ),
    monthlyTokenBudget: Type.Optional(
      Nullable(Type.Integer({ minimum: 0, maximum: 2_000_000_000 }), 'null or absent: no cap'),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        apiKey: 'sk-proj-3xAmPlEkEy9Qz',
        monthlyTokenBudget: 2_000_000,
      },
    ],
  },
)
export type PutAiSettingsBody = Static<typeof PutAiSettingsBody>

export const AiTestResult = Type.Object(
  {
    ok: Type.Boolean(),
    latencyMs: Type.Optional(Type.Integer()),
    models: Type.Optional(Type.Array(Type.String())),
    error: Type.Optional(Type.String({ description: "The provider's error, never the key" })),
  },
  {
    description: 'One live call with the settings',
    examples: [{ ok: true, latencyMs: 182, models: ['gpt-4o-mini', 'text-embedding-3-small'] }],
  },
)

export const AiModelList = Type.Object(
  { data: Type.Array(Type.Object({ id: Type.String() })) },
  {
    description: "The models the tenant's provider serves",
    examples: [{ data: [{ id: 'gpt-4o-mini' }] }],
  },
)

export const AiGeneration = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    kind: Type.Union(generationKinds.map((k) => Type.Literal(k))),
    ticketId: Nullable(Type.String({ format: 'uuid' }), 'The ticket it was about'),
    provider: Type.String(),
    model: Type.String(),
    promptTokens: Type.Integer(),
    completionTokens: Type.Integer(),
    latencyMs: Type.Integer(),
    sources: Type.Array(
      Type.Object({ kind: Type.String(), id: Type.String(), title: Type.String() }),
    ),
    outcome: Type.Union(generationOutcomes.map((o) => Type.Literal(o))),
    error: Nullable(Type.String(), "The failure's code and safe message"),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'AiGeneration',
    examples: [
      {
        id: EXAMPLE_IDS.job,
        kind: 'reply',
        ticketId: EXAMPLE_IDS.ticket,
        provider: 'openai',
        model: 'gpt-4o-mini',
        promptTokens: 1211,
        completionTokens: 164,
        latencyMs: 2380,
        sources: [{ kind: 'kb_article', id: EXAMPLE_IDS.article, title: 'Resetting the router' }],
        outcome: 'ok',
        error: null,
        createdAt: EXAMPLE_TIMES.reply,
      },
    ],
  },
)
export type AiGeneration = Static<typeof AiGeneration>

export const ListGenerationsQuery = Type.Object(
  {
    ...PageQuery,
    kind: Type.Optional(Type.Union(generationKinds.map((k) => Type.Literal(k)))),
    ticketId: Type.Optional(Type.String({ format: 'uuid' })),
  },
  { additionalProperties: false },
)
export type ListGenerationsQuery = Static<typeof ListGenerationsQuery>

export const UsageQuery = Type.Object(
  {
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
)

export const AiUsage = Type.Object(
  {
    from: Type.String({ format: 'date-time' }),
    to: Type.String({ format: 'date-time' }),
    data: Type.Array(
      Type.Object({
        kind: Type.String(),
        model: Type.String(),
        calls: Type.Integer(),
        promptTokens: Type.Integer(),
        completionTokens: Type.Integer(),
      }),
    ),
  },
  {
    description: 'Calls and tokens per kind and model between from and to',
    examples: [
      {
        from: '2025-03-01T00:00:00.000Z',
        to: '2025-04-01T00:00:00.000Z',
        data: [
          {
            kind: 'reply',
            model: 'gpt-4o-mini',
            calls: 412,
            promptTokens: 498_120,
            completionTokens: 61_904,
          },
        ],
      },
    ],
  },
)
