// How the copilot's answer is produced, token by token, for the route to relay.
// The `openai` provider streams: Chat Completions with `stream: true` (and
// `stream_options.include_usage`, for the tokens the budget counts), read as
// the Server-Sent Events OpenAI sends, each delta handed to onToken as it
// arrives; onToken's promise is awaited, so a slow reader slows the read from
// the provider instead of piling text up in memory. A failure before the
// first token is retried like any call (429, 5xx, network); after it, a retry
// would repeat what the reader already has, so it is not. The signal is the
// asker's: a closed connection aborts the provider call (ClientGone).
// The builtin provider (no network) quotes the vetted articles, or says the
// knowledge base has no answer; its text goes out a line at a time.
import type { Config } from '../../config.ts'
import type { MessageSource } from '../../db/schema/helpdesk.ts'
import type { ResolvedAiSettings } from '../../domain/ai/settings.ts'
import { type AiFetch, aiFetchFor } from './ai-http.ts'
import { type AskPromptInput, buildAskMessages } from './ask-prompt.ts'
import { citedArticles } from './openai-prompt.ts'
import { throwUnlessOk, withRetries } from './openai-provider.ts'
import { type AiProvider, articleSource } from './provider.ts'
import { AiProviderError, AiProviderRejected } from './provider-errors.ts'

export type CopilotAnswer = {
  /** exactly the tokens handed to onToken, joined */
  text: string
  sources: MessageSource[]
  usage?: { promptTokens: number; completionTokens: number }
  outcome: 'ok' | 'handoff'
}

export type AnswerOptions = {
  onToken: (text: string) => Promise<void> | void
  /** aborted when the asker goes away */
  signal: AbortSignal
}

/** The asker closed the connection before the answer was complete. */
export class ClientGone extends Error {
  constructor() {
    super('the client closed the connection before the answer was complete')
    this.name = 'ClientGone'
  }
}

/** How many articles the builtin provider quotes. */
const MAX_QUOTED = 2

export const BUILTIN_NO_ANSWER =
  'The knowledge base has no article that answers this question, so there is nothing ' +
  'reliable to quote: answer it from your own knowledge or ask a colleague.'

export async function answerQuestion(
  config: Config,
  settings: ResolvedAiSettings,
  provider: AiProvider,
  input: AskPromptInput,
  options: AnswerOptions,
): Promise<CopilotAnswer> {
  if (provider.name === 'openai') return streamFromModel(config, settings, input, options)
  return quoteArticles(input, options)
}

async function quoteArticles(
  input: AskPromptInput,
  options: AnswerOptions,
): Promise<CopilotAnswer> {
  const quoted = input.articles.filter((a) => a.vetted).slice(0, MAX_QUOTED)
  const lines =
    quoted.length === 0
      ? [BUILTIN_NO_ANSWER]
      : quoted.flatMap((article, i) => {
          const excerpt = article.excerpt.trim().replace(/\s+/g, ' ')
          return [
            ...(i > 0 ? [''] : []),
            `From “${article.title}” [${i + 1}]:`,
            ...(excerpt ? [`> ${excerpt}`] : []),
          ]
        })
  const text = lines.join('\n')
  for (const piece of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (options.signal.aborted) throw new ClientGone()
    await options.onToken(piece)
  }
  return {
    text,
    sources: quoted.map(articleSource),
    outcome: quoted.length === 0 ? 'handoff' : 'ok',
  }
}

async function streamFromModel(
  config: Config,
  settings: ResolvedAiSettings,
  input: AskPromptInput,
  options: AnswerOptions,
): Promise<CopilotAnswer> {
  const fetch = aiFetchFor(settings, config)
  const body = JSON.stringify({
    model: settings.model,
    messages: buildAskMessages(input),
    temperature: 0.2,
    stream: true,
    stream_options: { include_usage: true },
  })
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(config.AI_TIMEOUT_MS)])
  const failed = (err: unknown): never => {
    if (options.signal.aborted) throw new ClientGone()
    if (err instanceof AiProviderError || err instanceof AiProviderRejected) throw err
    const e = err as Error
    if (e.name === 'TimeoutError' || signal.aborted) {
      throw new AiProviderError(
        'ai_timeout',
        `AI provider timed out after ${config.AI_TIMEOUT_MS} ms`,
        {
          retryable: true,
        },
      )
    }
    throw new AiProviderError(
      'ai_provider_unreachable',
      `AI provider unreachable: ${e.cause ?? e.message}`,
      {
        retryable: true,
      },
    )
  }
  const res = await withRetries(config, () =>
    openStream(fetch, `${settings.baseUrl}/chat/completions`, settings.apiKey, body, signal).catch(
      failed,
    ),
  )
  let text = ''
  let usage: CopilotAnswer['usage']
  try {
    for await (const data of sseData(res.body!)) {
      if (data === '[DONE]') break
      let chunk: {
        choices?: { delta?: { content?: unknown } }[]
        usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null
      }
      try {
        chunk = JSON.parse(data)
      } catch {
        throw new AiProviderError('ai_provider_error', 'malformed chunk from the AI provider')
      }
      const piece = chunk.choices?.[0]?.delta?.content
      if (typeof piece === 'string' && piece !== '') {
        text += piece
        await options.onToken(piece)
      }
      if (chunk.usage) {
        const tokens = (value: unknown) => (typeof value === 'number' && value >= 0 ? value : 0)
        usage = {
          promptTokens: tokens(chunk.usage.prompt_tokens),
          completionTokens: tokens(chunk.usage.completion_tokens),
        }
      }
    }
  } catch (err) {
    await res.body?.cancel().catch(() => {})
    failed(err)
  }
  if (options.signal.aborted) throw new ClientGone()
  if (text.trim() === '') {
    throw new AiProviderError('ai_provider_error', 'the AI provider streamed no answer text')
  }
  return {
    text,
    sources: citedArticles(text, input.articles),
    ...(usage ? { usage } : {}),
    outcome: 'ok',
  }
}

async function openStream(
  fetch: AiFetch,
  url: string,
  apiKey: string,
  body: string,
  signal: AbortSignal,
): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
    },
    body,
    signal,
  })
  await throwUnlessOk(res)
  if (!res.body || !(res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    await res.body?.cancel()
    throw new AiProviderError('ai_provider_error', 'the AI provider did not answer with a stream')
  }
  return res
}

/** The `data` of each Server-Sent Event of a body (multi-line data joined by \n). */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = ''
  let data: string[] = []
  for await (const part of body.pipeThrough(new TextDecoderStream())) {
    buffer += part
    let newline = buffer.search(/\r\n|\r|\n/)
    // A \r at the very end may be the first half of a \r\n split across parts.
    while (newline !== -1 && !(newline === buffer.length - 1 && buffer.endsWith('\r'))) {
      const line = buffer.slice(0, newline)
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1))
      if (line === '') {
        if (data.length > 0) yield data.join('\n')
        data = []
      } else if (line.startsWith('data:')) {
        data.push(line.slice(5).replace(/^ /, ''))
      }
      newline = buffer.search(/\r\n|\r|\n/)
    }
  }
  if (data.length > 0) yield data.join('\n')
}
