// The `openai` provider: any OpenAI-compatible Chat Completions endpoint
// (OpenAI, Ollama, vLLM, LM Studio) at the tenant's base URL, or the
// platform's AI_BASE_URL (domain/ai/settings.ts resolves which, and the key). One call has a timeout
// (AI_TIMEOUT_MS) and retries what may pass: 429 and 5xx (waiting as long as
// Retry-After says, up to AI_RETRY_MAX_WAIT_MS), timeouts and network errors,
// AI_MAX_RETRIES times. Any other 4xx is our request's fault: no retry, at this
// level or the job's (UnrecoverableError). An answer without a reply text is an
// error the job may retry. The API key goes in a header only, never in an error;
// every error carries a stable code and a safe message for the tenant, and its
// detail (status, body, address) for the log (provider-errors.ts).
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../../config.ts'
import type { ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { type AiFetch, aiFetchFor } from './ai-http.ts'
import { buildChatMessages, citedArticles } from './openai-prompt.ts'
import type { AiProvider, ReplyInput } from './provider.ts'
import { AiProviderError, AiProviderRejected } from './provider-errors.ts'

function callFor(config: Config, settings: ResolvedAiSettings): Call {
  return {
    url: `${settings.baseUrl}/chat/completions`,
    apiKey: settings.apiKey,
    timeoutMs: config.AI_TIMEOUT_MS,
    fetch: aiFetchFor(settings, config),
  }
}

export function openaiProvider(config: Config, settings: ResolvedAiSettings): AiProvider {
  const call = callFor(config, settings)
  return {
    name: 'openai',
    model: settings.model,
    // A model judges relevance itself: it gets the best few candidates, not only the vetted.
    articles: 'ranked',
    async generateReply(input: ReplyInput) {
      const body = JSON.stringify({
        model: settings.model,
        messages: buildChatMessages(input),
        temperature: 0.2,
      })
      const answer = await withRetries(config, () => complete(call, body))
      return {
        body: answer.content,
        sources: citedArticles(answer.content, input.articles),
        usage: answer.usage,
      }
    },
  }
}

/**
 * One call asking for a JSON object (`response_format: json_object`), with the
 * call's retries: the content as the model wrote it, for the caller to parse
 * and validate (triage-processor.ts).
 */
export function completeJson(
  config: Config,
  settings: ResolvedAiSettings,
  messages: { role: 'system' | 'user'; content: string }[],
): Promise<Answer> {
  const body = JSON.stringify({
    model: settings.model,
    messages,
    temperature: 0,
    response_format: { type: 'json_object' },
  })
  const call = callFor(config, settings)
  return withRetries(config, () => complete(call, body))
}

type Call = { url: string; apiKey: string; timeoutMs: number; fetch: AiFetch }
export type Answer = { content: string; usage: { promptTokens: number; completionTokens: number } }

export async function withRetries<T>(config: Config, call: () => Promise<T>): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await call()
    } catch (err) {
      if (!(err instanceof AiProviderError) || !err.retryable || retry >= config.AI_MAX_RETRIES) {
        throw err
      }
      const backoff = config.AI_RETRY_BASE_MS * 2 ** retry * (0.75 + Math.random() / 2)
      const wait = err.retryAfterMs ?? backoff
      // A longer wait than we will hold a worker slot for: the job's own backoff takes over.
      if (wait > config.AI_RETRY_MAX_WAIT_MS) throw err
      await sleep(wait)
    }
  }
}

async function complete(call: Call, body: string): Promise<Answer> {
  let res: Response
  try {
    res = await call.fetch(call.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}),
      },
      body,
      signal: AbortSignal.timeout(call.timeoutMs),
    })
  } catch (err) {
    const e = err as Error
    if (e instanceof AiProviderError) throw e
    if (e.name === 'TimeoutError') {
      throw timedOut(call.timeoutMs)
    }
    throw new AiProviderError(
      'ai_provider_unreachable',
      `AI provider unreachable: ${e.cause ?? e.message}`,
      { retryable: true },
    )
  }
  await throwUnlessOk(res)
  let answer: unknown
  try {
    answer = await res.json()
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') {
      throw timedOut(call.timeoutMs)
    }
    throw new AiProviderError(
      'ai_provider_error',
      'malformed answer from the AI provider: not JSON',
    )
  }
  const parsed = answer as {
    choices?: { message?: { content?: unknown } }[]
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown }
  }
  const content = parsed?.choices?.[0]?.message?.content
  if (typeof content !== 'string' || content.trim() === '') {
    throw new AiProviderError(
      'ai_provider_error',
      'malformed answer from the AI provider: no choices[0].message.content',
    )
  }
  const tokens = (value: unknown) => (typeof value === 'number' && value >= 0 ? value : 0)
  return {
    content: content.trim(),
    usage: {
      promptTokens: tokens(parsed.usage?.prompt_tokens),
      completionTokens: tokens(parsed.usage?.completion_tokens),
    },
  }
}

/**
 * The provider's status judged, for every call: 429 and 5xx are retryable
 * (with Retry-After), any other non-2xx is our request's fault (no retry).
 */
export async function throwUnlessOk(res: Response): Promise<void> {
  if (res.status === 429 || res.status >= 500) {
    await res.body?.cancel()
    throw new AiProviderError('ai_provider_error', `AI provider answered ${res.status}`, {
      retryable: true,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    })
  }
  if (!res.ok) {
    const detail = (await res.text().catch(() => '')).slice(0, 200)
    throw new AiProviderRejected(`AI provider refused the request: ${res.status} ${detail}`.trim())
  }
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The provider did not answer within AI_TIMEOUT_MS: retried, like a network error. */
function timedOut(timeoutMs: number) {
  return new AiProviderError('ai_timeout', `AI provider timed out after ${timeoutMs} ms`, {
    retryable: true,
  })
}
