// AI per tenant: the tenant's provider settings (one row, every field
// optional: what is not set falls back to the platform's AI_* settings) and the
// record of every model call (ai_generations), which also counts the tokens a
// monthly budget is held to; and the copilot's questions and answers
// (ai_questions), each its asker's own (a user or an API key). Row-level
// security: drizzle's AI settings and copilot migrations (tenant_isolation).
import { sql } from 'drizzle-orm'
import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId, updatedAt } from './columns.ts'
import { tenantRef, tenants } from './tenants.ts'

export const aiProviders = ['builtin', 'openai'] as const
export type AiProviderName = (typeof aiProviders)[number]

export const aiSettings = pgTable('ai_settings', {
  tenantId: uuid('tenant_id')
    .primaryKey()
    .references(() => tenants.id, { onDelete: 'cascade' }),
  provider: text('provider').$type<AiProviderName>(),
  baseUrl: text('base_url'),
  model: text('model'),
  embeddingModel: text('embedding_model'),
  /** the provider's key, sealed (lib/secret-box.ts); never read back */
  apiKey: text('api_key'),
  apiKeyLast4: text('api_key_last4'),
  monthlyTokenBudget: integer('monthly_token_budget'),
  updatedAt: updatedAt(),
})

export const generationKinds = ['reply', 'ask', 'triage', 'summary', 'test'] as const
export type GenerationKind = (typeof generationKinds)[number]
export const generationOutcomes = ['ok', 'handoff', 'error'] as const
export type GenerationOutcome = (typeof generationOutcomes)[number]

export const aiGenerations = pgTable(
  'ai_generations',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    kind: text('kind').$type<GenerationKind>().notNull(),
    ticketId: uuid('ticket_id'),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    promptTokens: integer('prompt_tokens').notNull().default(0),
    completionTokens: integer('completion_tokens').notNull().default(0),
    latencyMs: integer('latency_ms').notNull().default(0),
    sources: jsonb('sources')
      .$type<{ kind: string; id: string; title: string }[]>()
      .notNull()
      .default([]),
    outcome: text('outcome').$type<GenerationOutcome>().notNull(),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [
    index('ai_generations_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    // The budget's sum over the month.
    index('ai_generations_tenant_tokens_idx')
      .on(t.tenantId, t.createdAt)
      .where(sql`${t.promptTokens} + ${t.completionTokens} > 0`),
  ],
)

/** A source the copilot's answer rests on: a knowledge-base article. */
export type AskSource = { kind: string; id: string; title: string }

export const aiQuestions = pgTable(
  'ai_questions',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    /** who asked: a user, or (for an API key) null with apiKeyId set */
    userId: uuid('user_id'),
    apiKeyId: uuid('api_key_id'),
    question: text('question').notNull(),
    answer: text('answer').notNull(),
    sources: jsonb('sources').$type<AskSource[]>().notNull().default([]),
    ticketId: uuid('ticket_id'),
    createdAt: createdAt(),
  },
  (t) => [
    // The asker's history, newest first (GET /v1/ai/history), and its deletion.
    index('ai_questions_tenant_user_created_idx').on(t.tenantId, t.userId, t.createdAt, t.id),
    index('ai_questions_tenant_key_created_idx').on(t.tenantId, t.apiKeyId, t.createdAt, t.id),
  ],
)
