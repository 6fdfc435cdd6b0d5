// A tenant's AI provider settings, and their resolution for each AI call. The
// tenant's row holds what it chose; each field it leaves unset falls back to
// the platform's AI_* settings. The key is write-only: sealed at rest
// (lib/secret-box.ts, bound to the tenant), answered as its last four
// characters only.
//
// Two rules keep one tenant's choices from reaching anyone else's secrets or
// network:
// - the platform's AI_API_KEY goes only to the platform's AI_BASE_URL: a
//   tenant that names another base URL must bring its own key (or none);
// - a tenant's base URL follows the webhook URL rules (https, no loopback,
//   private, link-local or metadata address, checked again after DNS when
//   connecting: jobs/ai/ai-http.ts), unless AI_ALLOW_PRIVATE_NETWORKS lets
//   tenants reach a model on a private network (which also allows http).
import { type SQL, sql } from 'drizzle-orm'
import type { Config } from '../../config.ts'
import type { DatabaseHandle } from '../../db/client.ts'
import { type AiProviderName, aiSettings } from '../../db/schema/ai.ts'
import { readInScope, withScope } from '../../db/scoped.ts'
import { isoTime, selectList } from '../../db/sql-fragments.ts'
import { Problem } from '../../lib/problems.ts'
import type { SecretBox } from '../../lib/secret-box.ts'
import { checkWebhookUrl, type WebhookUrlSettings } from '../../lib/webhooks/url-rules.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { AiSettingsView, PutAiSettingsBody } from './settings-schemas.ts'

const s = aiSettings

/** What one AI call runs with, the tenant's choices over the platform's. */
export type ResolvedAiSettings = {
  provider: AiProviderName | 'noop'
  baseUrl: string
  model: string
  embeddingModel: string | null
  /** '' when there is none */
  apiKey: string
  monthlyTokenBudget: number | null
  /** the base URL is the tenant's: connections to it go through the address rules */
  tenantBaseUrl: boolean
}

export type StoredSettings = {
  provider: AiProviderName | null
  baseUrl: string | null
  model: string | null
  embeddingModel: string | null
  apiKey: string | null
  apiKeyLast4: string | null
  monthlyTokenBudget: number | null
  updatedAt: string | null
}

const storedColumns = selectList({
  provider: s.provider,
  baseUrl: s.baseUrl,
  model: s.model,
  embeddingModel: s.embeddingModel,
  apiKey: s.apiKey,
  apiKeyLast4: s.apiKeyLast4,
  monthlyTokenBudget: s.monthlyTokenBudget,
  updatedAt: isoTime(s.updatedAt),
})

/** What the key is sealed against: the tenant it belongs to. */
function keyContext(tenantId: string): string {
  return `ai-key:${tenantId}`
}

/** The URL rules a tenant's base URL is held to. */
export function aiUrlRules(config: Config): WebhookUrlSettings {
  return {
    allowHttp: config.AI_ALLOW_PRIVATE_NETWORKS,
    allowPrivateNetworks: config.AI_ALLOW_PRIVATE_NETWORKS,
  }
}

/** The tenant's stored settings row (none: every field the platform's), for resolveFrom(). */
export function storedSettingsQuery(tenantId: string): SQL {
  return sql`select ${storedColumns} from ${s} where ${s.tenantId} = ${tenantId}`
}

async function readStored(database: DatabaseHandle, tenantId: string) {
  const [row] = await readInScope<StoredSettings>(
    database,
    { tenantId },
    storedSettingsQuery(tenantId),
  )
  return row ?? null
}

/** The settings an AI call of this tenant runs with. */
export async function resolveAiSettings(
  database: DatabaseHandle,
  box: SecretBox,
  config: Config,
  tenantId: string,
): Promise<ResolvedAiSettings> {
  return resolveFrom(await readStored(database, tenantId), box, config, tenantId)
}

export function resolveFrom(
  row: StoredSettings | null,
  box: SecretBox,
  config: Config,
  tenantId: string,
): ResolvedAiSettings {
  const platformUrl = config.AI_BASE_URL.replace(/\/+$/, '')
  const tenantUrl = row?.baseUrl ? row.baseUrl.replace(/\/+$/, '') : null
  const ownUrl = tenantUrl !== null && tenantUrl !== platformUrl
  const tenantKey = row?.apiKey ? box.open(row.apiKey, keyContext(tenantId)) : null
  return {
    provider: row?.provider ?? config.AI_PROVIDER,
    baseUrl: tenantUrl ?? platformUrl,
    model: row?.model ?? config.AI_MODEL,
    embeddingModel: row?.embeddingModel ?? null,
    // The platform's key never goes to a URL the tenant chose.
    apiKey: tenantKey ?? (ownUrl ? '' : config.AI_API_KEY),
    monthlyTokenBudget: row?.monthlyTokenBudget ?? null,
    tenantBaseUrl: ownUrl,
  }
}

/** The settings as GET /v1/ai/settings shows them: the tenant's, the platform's where unset. */
export async function readAiSettings(
  database: DatabaseHandle,
  box: SecretBox,
  config: Config,
  tenantId: string,
): Promise<AiSettingsView> {
  const row = await readStored(database, tenantId)
  const resolved = resolveFrom(row, box, config, tenantId)
  return {
    provider: resolved.provider === 'noop' ? 'builtin' : resolved.provider,
    baseUrl: resolved.baseUrl,
    model: resolved.model,
    embeddingModel: resolved.embeddingModel,
    apiKeyLast4: row?.apiKeyLast4 ?? null,
    hasApiKey: resolved.apiKey !== '',
    monthlyTokenBudget: resolved.monthlyTokenBudget,
    inherited: {
      provider: !row?.provider,
      baseUrl: !row?.baseUrl,
      model: !row?.model,
      apiKey: !row?.apiKey,
    },
    updatedAt: row?.updatedAt ?? null,
  }
}

/**
 * Replaces the tenant's settings with the body (PUT): a field left out or null
 * falls back to the platform's; `apiKey` left out keeps the stored key, null
 * removes it. The base URL is judged here (422 invalid_ai_base_url) and again,
 * after DNS, at every call.
 */
export async function putAiSettings(
  deps: { database: DatabaseHandle; box: SecretBox; config: Config },
  tenantId: string,
  body: PutAiSettingsBody,
  actor: AuditActor,
): Promise<AiSettingsView> {
  const { database, box, config } = deps
  let baseUrl: string | null = null
  if (body.baseUrl != null) {
    const checked = checkWebhookUrl(body.baseUrl, aiUrlRules(config))
    if (!checked.ok) {
      throw new Problem('invalid_ai_base_url', checked.message, {
        errors: [{ path: 'body/baseUrl', message: checked.message }],
      })
    }
    baseUrl = checked.url.href.replace(/\/+$/, '')
  }
  const key =
    body.apiKey === undefined
      ? sql`${s.apiKey}`
      : body.apiKey === null
        ? sql`null`
        : sql`${box.seal(body.apiKey, keyContext(tenantId))}`
  const last4 =
    body.apiKey === undefined
      ? sql`${s.apiKeyLast4}`
      : body.apiKey === null
        ? sql`null`
        : sql`${body.apiKey.slice(-4)}`
  const values = {
    provider: body.provider ?? null,
    baseUrl,
    model: body.model ?? null,
    embeddingModel: body.embeddingModel ?? null,
    budget: body.monthlyTokenBudget ?? null,
  }
  await withScope(database, { tenantId }, async (tx) => {
    // Insert first with no key, then set every field: one statement keeps the stored key
    // when the body leaves it out.
    await tx.execute(
      sql`insert into ${s} (tenant_id) values (${tenantId}) on conflict (tenant_id) do nothing`,
    )
    await tx.execute(
      sql`update ${s} set provider = ${values.provider}, base_url = ${values.baseUrl},
            model = ${values.model}, embedding_model = ${values.embeddingModel},
            monthly_token_budget = ${values.budget}, api_key = ${key}, api_key_last4 = ${last4},
            updated_at = now()
          where ${s.tenantId} = ${tenantId}`,
    )
    await recordAudit(tx, {
      tenantId,
      action: 'ai.settings_changed',
      targetType: 'tenant',
      targetId: tenantId,
      ...actor,
      data: {
        fields: Object.keys(body).filter((k) => k !== 'apiKey'),
        ...(body.apiKey === undefined ? {} : { apiKey: body.apiKey === null ? 'removed' : 'set' }),
      },
    })
  })
  return readAiSettings(database, box, config, tenantId)
}
