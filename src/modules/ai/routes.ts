// /v1/ai: the tenant's AI provider settings (ai:manage), a live test of them,
// the model list, and the record of every generation with its usage. The rules
// are the domain's (domain/ai/settings.ts, generations.ts); the provider calls
// go through jobs/ai (the same code the worker's jobs use).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config.ts'
import { listGenerations, usage } from '../../domain/ai/generations.ts'
import { putAiSettings, readAiSettings, resolveAiSettings } from '../../domain/ai/settings.ts'
import {
  AiGeneration,
  AiModelList,
  AiSettingsView,
  AiTestResult,
  AiUsage,
  ListGenerationsQuery,
  PutAiSettingsBody,
  UsageQuery,
} from '../../domain/ai/settings-schemas.ts'
import { requestActor } from '../../domain/audit/record.ts'
import { listModels } from '../../jobs/ai/models.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { Problem } from '../../lib/problems.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'

const tags = ['ai']
const manage = { access: 'tenant', permission: 'ai:manage' } as const

const aiRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const { config } = opts
  const box = secretBoxOf(config)
  app.addSchema(AiSettingsView)
  app.addSchema(AiGeneration)

  app.get(
    '/ai/settings',
    {
      config: manage,
      schema: {
        operationId: 'getAiSettings',
        tags,
        summary: "The tenant's AI provider settings",
        description:
          "Needs ai:manage. Fields the tenant has not set show the platform's AI_* value, with " +
          '`inherited` saying which. The key is never shown: `apiKeyLast4` only.',
        response: {
          200: ref(AiSettingsView, { description: 'The settings' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) => readAiSettings(app.database, box, config, request.tenant!.id),
  )

  app.put(
    '/ai/settings',
    {
      config: manage,
      schema: {
        operationId: 'putAiSettings',
        tags,
        summary: "Set the tenant's AI provider",
        description:
          "Needs ai:manage. Replaces the settings: a field absent or null falls back to the platform's; " +
          '`apiKey` absent keeps the stored key, null removes it. The key is kept encrypted ' +
          "(AES-256-GCM) and never answered. The platform's own key is only ever sent to the " +
          "platform's base URL. `baseUrl` follows the webhook URL rules (422 " +
          '`invalid_ai_base_url`), checked again after DNS at every call. Audited as ' +
          '`ai.settings_changed` (without the key).',
        body: PutAiSettingsBody,
        response: {
          200: ref(AiSettingsView, { description: 'The settings now' }),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required'],
            422: ['invalid_ai_base_url'],
          }),
        },
      },
    },
    async (request) =>
      putAiSettings(
        { database: app.database, box, config },
        request.tenant!.id,
        request.body,
        requestActor(request),
      ),
  )

  app.post(
    '/ai/settings/test',
    {
      config: manage,
      schema: {
        operationId: 'testAiSettings',
        tags,
        summary: 'One live call with the settings',
        description:
          "Needs ai:manage. Lists the provider's models with the tenant's settings: " +
          '`{ok: true, latencyMs, models}`, or `{ok: false, error}` with the provider’s error ' +
          '(never the key, even where the provider quotes it).',
        response: { 200: AiTestResult, ...tenantRouteProblems },
      },
    },
    async (request) => {
      const settings = await resolveAiSettings(app.database, box, config, request.tenant!.id)
      const started = performance.now()
      const result = await listModels(config, settings)
      const latencyMs = Math.round(performance.now() - started)
      return result.ok ? { ok: true, latencyMs, models: result.models } : { ...result, latencyMs }
    },
  )

  app.get(
    '/ai/models',
    {
      config: { access: 'tenant', permission: { anyOf: ['ai:use', 'ai:manage'] } },
      schema: {
        operationId: 'listAiModels',
        tags,
        summary: "The models the tenant's provider serves",
        description:
          'Needs ai:use or ai:manage. `GET <baseUrl>/models` of the tenant’s provider; the ' +
          'builtin provider lists `builtin`. A provider that cannot be reached answers 502 ' +
          '`ai_provider_unavailable`.',
        response: {
          200: AiModelList,
          ...tenantRouteProblems,
          ...problemResponses({ 502: ['ai_provider_unavailable'] }),
        },
      },
    },
    async (request) => {
      const settings = await resolveAiSettings(app.database, box, config, request.tenant!.id)
      const result = await listModels(config, settings)
      if (!result.ok) throw new Problem('ai_provider_unavailable', result.error)
      return { data: result.models.map((id) => ({ id })) }
    },
  )

  app.get(
    '/ai/generations',
    {
      config: manage,
      schema: {
        operationId: 'listAiGenerations',
        tags,
        summary: 'Every model call, newest first',
        description:
          'Needs ai:manage. Each call the tenant’s AI made (replies, and later the copilot, ' +
          'triage and summaries): provider, model, tokens, latency, sources and outcome.',
        querystring: ListGenerationsQuery,
        response: {
          200: Page(AiGeneration, { description: 'A page of generations' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => listGenerations(app.database, request.tenant!.id, request.query),
  )

  app.get(
    '/ai/usage',
    {
      config: manage,
      schema: {
        operationId: 'getAiUsage',
        tags,
        summary: 'Calls and tokens per kind and model',
        description:
          'Needs ai:manage. Between `from` and `to` (RFC 3339), by default the current calendar ' +
          'month (UTC), the span the monthly token budget counts.',
        querystring: UsageQuery,
        response: {
          200: AiUsage,
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required'] }),
        },
      },
    },
    async (request) => usage(app.database, request.tenant!.id, request.query),
  )
}

export default aiRoutes
