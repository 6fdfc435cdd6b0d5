// An embedding model behind an OpenAI-compatible `/embeddings` endpoint
// (OpenAI, Ollama, vLLM, LM Studio): the Embedder that hybrid retrieval takes
// (domain/ai/passage-embeddings.ts). One call, with a timeout and no retries of
// its own: retrieval falls back to full-text search when it fails, so a slow or
// failing provider costs a reply its hybrid ranking, never the reply. The key
// goes in a header only, never in an error.

import type { Config } from '../../config.ts'
import type { Embedder } from '../../domain/ai/passage-embeddings.ts'
import type { ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { type AiFetch, aiFetchFor } from './ai-http.ts'
import { AiProviderError } from './provider-errors.ts'

export type EmbeddingSettings = {
  baseUrl: string
  apiKey: string
  model: string
  timeoutMs: number
  /** how to reach the endpoint: the address rules for a tenant's URL (ai-http.ts); fetch otherwise */
  fetch?: AiFetch
}

export function openaiEmbedder(settings: EmbeddingSettings): Embedder {
  const url = `${settings.baseUrl.replace(/\/+$/, '')}/embeddings`
  return {
    model: settings.model,
    async embed(texts: string[]) {
      if (texts.length === 0) return []
      let res: Response
      try {
        res = await (settings.fetch ?? fetch)(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: settings.model, input: texts }),
          signal: AbortSignal.timeout(settings.timeoutMs),
        })
      } catch (err) {
        const e = err as Error
        if (e.name === 'TimeoutError') {
          throw new AiProviderError(
            'ai_timeout',
            `embeddings timed out after ${settings.timeoutMs} ms`,
          )
        }
        throw new AiProviderError('ai_provider_unreachable', `embeddings unreachable: ${e.message}`)
      }
      if (!res.ok) {
        await res.body?.cancel()
        throw new AiProviderError('ai_provider_error', `embeddings answered ${res.status}`)
      }
      const answer = (await res.json().catch(() => null)) as {
        data?: { index?: number; embedding?: unknown }[]
      } | null
      const data = answer?.data
      if (!Array.isArray(data) || data.length !== texts.length) {
        throw new AiProviderError('ai_provider_error', 'malformed answer from /embeddings')
      }
      // OpenAI answers in input order and says so with `index`; sort by it anyway.
      const ordered = [...data].sort((x, y) => (x.index ?? 0) - (y.index ?? 0))
      return ordered.map((d) => {
        if (!Array.isArray(d.embedding) || d.embedding.some((x) => typeof x !== 'number')) {
          throw new AiProviderError('ai_provider_error', 'malformed embedding from /embeddings')
        }
        return d.embedding as number[]
      })
    },
  }
}

/** The embedder of the tenant's settings: its embedding model on its provider, or none. */
export function embedderFor(config: Config, settings: ResolvedAiSettings): Embedder | null {
  if (settings.provider !== 'openai' || !settings.embeddingModel) return null
  return openaiEmbedder({
    baseUrl: settings.baseUrl,
    apiKey: settings.apiKey,
    model: settings.embeddingModel,
    timeoutMs: config.AI_TIMEOUT_MS,
    fetch: aiFetchFor(settings, config),
  })
}
