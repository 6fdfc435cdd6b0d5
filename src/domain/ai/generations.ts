// The record of every model call (ai_generations): written after each call,
// whatever its outcome, read as a list and as usage per kind and model, and
// summed over the calendar month (UTC) for the tenant's token budget.
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import {
  aiGenerations,
  aiSettings,
  type GenerationKind,
  type GenerationOutcome,
} from '../../db/schema/ai.ts'
import { readInScope, writeInScope } from '../../db/scoped.ts'
import { cursorTime, isoTime, selectList } from '../../db/sql-fragments.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { BadRequest } from '../../lib/problems.ts'
import type { AiGeneration, ListGenerationsQuery } from './settings-schemas.ts'

const g = aiGenerations

export type NewGeneration = {
  tenantId: string
  kind: GenerationKind
  ticketId?: string | null
  provider: string
  model: string
  promptTokens?: number
  completionTokens?: number
  latencyMs: number
  sources?: { kind: string; id: string; title: string }[]
  outcome: GenerationOutcome
  error?: string | null
}

export async function recordGeneration(database: DatabaseHandle, gen: NewGeneration) {
  await writeInScope(
    database,
    { tenantId: gen.tenantId },
    sql`insert into ${g} (id, tenant_id, kind, ticket_id, provider, model, prompt_tokens,
          completion_tokens, latency_ms, sources, outcome, error)
        values (gen_random_uuid(), ${gen.tenantId}, ${gen.kind}, ${gen.ticketId ?? null},
          ${gen.provider}, ${gen.model}, ${Math.round(gen.promptTokens ?? 0)},
          ${Math.round(gen.completionTokens ?? 0)}, ${Math.round(gen.latencyMs)},
          ${JSON.stringify(gen.sources ?? [])}::jsonb, ${gen.outcome}, ${gen.error ?? null})`,
  )
}

/** Tokens the tenant used this calendar month (UTC), as `{ used }`. */
export function monthTokensQuery(tenantId: string): SQL {
  return sql`select coalesce(sum(${g.promptTokens} + ${g.completionTokens}), 0)::float8 as used
    from ${g} where ${g.tenantId} = ${tenantId}
      and ${g.createdAt} >= date_trunc('month', now() at time zone 'utc') at time zone 'utc'
      and ${g.promptTokens} + ${g.completionTokens} > 0`
}

/** Whether the tenant's monthly token budget (if it has one) is spent, as `{ spent }`. */
export function budgetSpentQuery(tenantId: string): SQL {
  return sql`select coalesce((select ${aiSettings.monthlyTokenBudget} from ${aiSettings}
      where ${aiSettings.tenantId} = ${tenantId}) <= (select used from (${monthTokensQuery(tenantId)}) u),
    false) as spent`
}

export async function tokensThisMonth(database: DatabaseHandle, tenantId: string) {
  const [row] = await readInScope<{ used: number }>(
    database,
    { tenantId },
    monthTokensQuery(tenantId),
  )
  return row?.used ?? 0
}

const generationColumns = selectList({
  id: g.id,
  kind: g.kind,
  ticketId: g.ticketId,
  provider: g.provider,
  model: g.model,
  promptTokens: g.promptTokens,
  completionTokens: g.completionTokens,
  latencyMs: g.latencyMs,
  sources: g.sources,
  outcome: g.outcome,
  error: g.error,
  createdAt: isoTime(g.createdAt),
})

export async function listGenerations(
  database: DatabaseHandle,
  tenantId: string,
  query: ListGenerationsQuery,
) {
  const limit = query.limit ?? 20
  const filters: SQL[] = [sql`${g.tenantId} = ${tenantId}`]
  if (query.kind) filters.push(sql`${g.kind} = ${query.kind}`)
  if (query.ticketId) filters.push(sql`${g.ticketId} = ${query.ticketId}`)
  const key = decodeCursor(query.cursor, TimeIdCursor)
  if (key) filters.push(sql`(${g.createdAt}, ${g.id}) < (${key[0]}::timestamptz, ${key[1]}::uuid)`)
  const rows = await readInScope<AiGeneration & { cursorAt: string }>(
    database,
    { tenantId },
    sql`select ${generationColumns}, ${cursorTime(g.createdAt)} as "cursorAt" from ${g}
        where ${sql.join(filters, sql` and `)}
        order by ${g.createdAt} desc, ${g.id} desc limit ${limit + 1}`,
  )
  const page = toPage(rows, limit, (row) => [row.cursorAt, row.id])
  return { ...page, data: page.data.map(({ cursorAt: _, ...generation }) => generation) }
}

/** Calls and tokens per kind and model in [from, to): by default the current month (UTC). */
export async function usage(
  database: DatabaseHandle,
  tenantId: string,
  range: { from?: string; to?: string },
) {
  const now = new Date()
  const from = range.from
    ? new Date(range.from)
    : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))
  const to = range.to
    ? new Date(range.to)
    : new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))
  if (!(from < to)) throw new BadRequest('validation_failed', '`from` must be before `to`.')
  const data = await readInScope<{
    kind: string
    model: string
    calls: number
    promptTokens: number
    completionTokens: number
  }>(
    database,
    { tenantId },
    sql`select ${g.kind} as kind, ${g.model} as model, count(*)::int as calls,
               sum(${g.promptTokens})::float8 as "promptTokens",
               sum(${g.completionTokens})::float8 as "completionTokens"
        from ${g} where ${g.tenantId} = ${tenantId}
          and ${g.createdAt} >= ${from.toISOString()}::timestamptz
          and ${g.createdAt} < ${to.toISOString()}::timestamptz
        group by 1, 2 order by 1, 2`,
  )
  return { from: from.toISOString(), to: to.toISOString(), data }
}
