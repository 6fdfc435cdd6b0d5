// How AI calls reach their provider. The platform's endpoint (AI_BASE_URL, set
// by whoever runs Deskpilot) is fetched as it is; a base URL a tenant chose is
// held to the webhook URL rules on every call: its text before connecting (a
// literal private address, plain http), and every address its name resolves
// to when connecting, through an undici Agent whose lookup applies the rules
// (lib/webhooks/agents.ts), so DNS pointing at 127.0.0.1 or the metadata
// service gets nowhere. AI_ALLOW_PRIVATE_NETWORKS lifts both, for a model
// served on the tenants' own network.
import { lookup as dnsLookup } from 'node:dns'
import type { LookupFunction } from 'node:net'
import { Agent, fetch as undiciFetch } from 'undici'
import type { Config } from '../../config.ts'
import { aiUrlRules, type ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { guardedLookup } from '../../lib/webhooks/agents.ts'
import { checkWebhookUrl } from '../../lib/webhooks/url-rules.ts'
import { AiProviderError } from './provider-errors.ts'

let guarded: Agent | undefined

function guardedAgent(): Agent {
  guarded ??= new Agent({
    connect: { lookup: guardedLookup(dnsLookup as LookupFunction, false) },
  })
  return guarded
}

export type AiFetch = (url: string, init: RequestInit) => Promise<Response>

/** The fetch for this tenant's settings: guarded when the tenant chose the URL. */
export function aiFetchFor(settings: ResolvedAiSettings, config: Config): AiFetch {
  if (!settings.tenantBaseUrl || config.AI_ALLOW_PRIVATE_NETWORKS) return fetch
  return async (url, init) => {
    const checked = checkWebhookUrl(url, aiUrlRules(config))
    if (!checked.ok) {
      throw new AiProviderError(
        'ai_provider_unreachable',
        `AI base URL refused: ${checked.message}`,
      )
    }
    const response = await undiciFetch(url, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      // A redirect could name a literal address, which no lookup sees.
      redirect: 'error',
      dispatcher: guardedAgent(),
    })
    return response as unknown as Response
  }
}
