// A tenant's settings and their defaults, in one place: the schema the api
// validates and shows, the defaults a setting not stored yet takes, and the
// SQL that reads a setting with its default (the ticket writes and the AI
// reply job read aiReplyMode in their own statements).
import { type SQL, sql } from 'drizzle-orm'
import { type Static, Type } from 'typebox'
import {
  aiReplyModes,
  aiTriageModes,
  customerPortalModes,
  tenants,
} from '../../db/schema/tenants.ts'

/** One of a setting's values, as the schema (and the OpenAPI document) shows them. */
function oneOf<const T extends readonly string[]>(values: T, description: string) {
  return Type.Unsafe<T[number]>(
    Type.Union(
      values.map((value) => Type.Literal(value)),
      { description },
    ),
  )
}

export const AiReplyMode = oneOf(
  aiReplyModes,
  'off: no AI replies; draft: internal AI drafts; auto: AI answers customers',
)
export type AiReplyMode = Static<typeof AiReplyMode>

export const CustomerPortal = oneOf(
  customerPortalModes,
  'invite: customers join by invitation only; open: any signed-in user with a verified ' +
    'email may join as a customer (POST /v1/portal/join)',
)
export type CustomerPortal = Static<typeof CustomerPortal>

export const AiTriage = oneOf(
  aiTriageModes,
  "off: no triage; suggest: a new ticket's `ai` gets a summary, language, sentiment, " +
    'priority and tags for an agent to consider; apply: the priority and tags are set too',
)
export type AiTriage = Static<typeof AiTriage>

export const TenantSettings = Type.Object(
  { aiReplyMode: AiReplyMode, aiTriage: AiTriage, customerPortal: CustomerPortal },
  { additionalProperties: false },
)
export type TenantSettings = Static<typeof TenantSettings>

export const SETTING_DEFAULTS: TenantSettings = {
  aiReplyMode: 'off',
  aiTriage: 'off',
  customerPortal: 'invite',
}

/** The settings as stored, every key that is not there at its default. */
export function settingsWithDefaults(stored: Partial<TenantSettings>): TenantSettings {
  return {
    aiReplyMode: stored.aiReplyMode ?? SETTING_DEFAULTS.aiReplyMode,
    aiTriage: stored.aiTriage ?? SETTING_DEFAULTS.aiTriage,
    customerPortal: stored.customerPortal ?? SETTING_DEFAULTS.customerPortal,
  }
}

/** A setting of the tenants row in scope, with its default: `coalesce(settings ->> key, default)`. */
export function settingOf<K extends keyof TenantSettings>(key: K): SQL<TenantSettings[K]> {
  return sql<
    TenantSettings[K]
  >`coalesce(${tenants.settings} ->> ${literal(key)}, ${literal(SETTING_DEFAULTS[key])})`
}

/** A setting of one tenant, as a scalar subquery for a statement about something else. */
export function tenantSetting<K extends keyof TenantSettings>(
  tenantId: string,
  key: K,
): SQL<TenantSettings[K]> {
  return sql<
    TenantSettings[K]
  >`(select ${settingOf(key)} from ${tenants} where ${tenants.id} = ${tenantId})`
}

/** Whether a customer's message gets an AI reply queued, in this mode. */
export function aiRepliesOn(mode: AiReplyMode): boolean {
  return mode === 'draft' || mode === 'auto'
}

/** Whether a new ticket gets a triage job, in this mode. */
export function aiTriageOn(mode: AiTriage): boolean {
  return mode === 'suggest' || mode === 'apply'
}

/** Keys and defaults are ours, never input: written into the statement as literals. */
function literal(value: string): SQL {
  return sql.raw(`'${value.replaceAll("'", "''")}'`)
}
