// The models a tenant's provider serves (GET <baseUrl>/models), for the model
// list and the settings test. The builtin provider serves one: `builtin`. A
// provider's error reaches the tenant without the key, even where the
// provider's answer quotes it.
import type { Config } from '../../config.ts'
import type { ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { aiFetchFor } from './ai-http.ts'

export type ModelsResult = { ok: true; models: string[] } | { ok: false; error: string }

export async function listModels(
  config: Config,
  settings: ResolvedAiSettings,
): Promise<ModelsResult> {
  if (settings.provider !== 'openai') return { ok: true, models: [settings.provider] }
  const scrub = (text: string) =>
    settings.apiKey ? text.split(settings.apiKey).join('[key]') : text
  try {
    const res = await aiFetchFor(settings, config)(`${settings.baseUrl}/models`, {
      headers: {
        accept: 'application/json',
        ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
      },
      signal: AbortSignal.timeout(config.AI_TIMEOUT_MS),
    })
    const text = await res.text()
    if (!res.ok) return { ok: false, error: scrub(`HTTP ${res.status}: ${text.slice(0, 300)}`) }
    const body = JSON.parse(text) as { data?: { id?: unknown }[] }
    const models = (body.data ?? [])
      .map((m) => m.id)
      .filter((id): id is string => typeof id === 'string')
    return { ok: true, models }
  } catch (err) {
    const e = err as Error & { cause?: Error }
    const reason =
      e.name === 'TimeoutError' ? `timed out after ${config.AI_TIMEOUT_MS} ms` : e.message
    return { ok: false, error: scrub(e.cause ? `${reason}: ${e.cause.message}` : reason) }
  }
}
