// An OpenAI-compatible Chat Completions server on 127.0.0.1 (node:http), for
// tests of the `openai` AI provider. It records every request and answers
// from a script: the queued answers first, one per request, then `fallback`.
// An answer is a normal completion, a 429 with Retry-After, a 5xx, a 4xx, a
// hang (no answer: the client's timeout must fire), malformed JSON or a
// completion without content. It can listen on a given port, so a test can
// close it (connections refused) and start it again where the client points.
// `/embeddings` answers deterministic vectors (a hashed bag of words: texts
// sharing words point the same way), or 500 while `embeddingsDown` is set.
// A request with `stream: true` is answered as OpenAI streams: text/event-stream,
// one `data: {"choices":[{"delta":{"content":...}}]}` chunk per token, the
// usage chunk when `stream_options.include_usage` asks for it, then
// `data: [DONE]`; a `stream-hang` answer sends its first tokens and then
// nothing, and the stub records when the client closed the connection.

import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type StubAnswer =
  | { kind: 'ok'; content?: string }
  | { kind: 'rate-limit'; retryAfter: string }
  | { kind: 'error'; status?: number }
  | { kind: 'refuse'; status?: number; body?: unknown }
  | { kind: 'hang' }
  | { kind: 'malformed' }
  | { kind: 'empty' }
  /** streams its tokens (the content split in words when not given), then hangs before [DONE] when `hang` */
  | {
      kind: 'stream'
      tokens?: string[]
      hang?: boolean
      usage?: { prompt: number; completion: number }
    }

export type StubRequest = {
  path: string
  headers: IncomingHttpHeaders
  body: {
    model?: string
    messages?: { role: string; content: string }[]
    [key: string]: unknown
  }
  at: number
  /** when the client closed the connection before the answer ended */
  closedAt?: number
}

export type LlmStub = {
  /** the base URL to put in AI_BASE_URL (ends in /v1) */
  url: string
  requests: StubRequest[]
  /** the content of a normal answer */
  content: string
  fallback: StubAnswer
  /** runs before each answer: a change made while the model is thinking */
  beforeAnswer: (() => Promise<unknown>) | null
  /** /embeddings answers 500 while set */
  embeddingsDown: boolean
  /** queues answers for the next requests, in order */
  answer(...answers: StubAnswer[]): void
  reset(): void
  close(): Promise<void>
}

export async function startLlmStub(opts: { port?: number } = {}): Promise<LlmStub> {
  const queued: StubAnswer[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: StubRequest['body'] = {}
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {}
      const recorded: StubRequest = {
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      }
      stub.requests.push(recorded)
      res.on('close', () => {
        if (!res.writableFinished) recorded.closedAt = Date.now()
      })
      if (req.url?.endsWith('/embeddings')) return embeddings(body, res)
      let answer = queued.shift() ?? stub.fallback
      if (body.stream === true && answer.kind === 'ok') {
        answer = { kind: 'stream', tokens: (answer.content ?? stub.content).match(/\S+\s*/g) ?? [] }
      }
      if (stub.beforeAnswer) {
        stub.beforeAnswer().then(() => respond(answer, body, res))
        return
      }
      respond(answer, body, res)
    })
  })
  const embeddings = (body: StubRequest['body'], res: ServerResponse) => {
    res.writeHead(stub.embeddingsDown ? 500 : 200, { 'content-type': 'application/json' })
    if (stub.embeddingsDown) return res.end('{"error": {"message": "embeddings are down"}}')
    const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)]
    const data = input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: bagOfWords(text),
    }))
    res.end(JSON.stringify({ object: 'list', data, model: body.model ?? 'stub-embedding' }))
  }
  const respond = (answer: StubAnswer, body: StubRequest['body'], res: ServerResponse) => {
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(value))
    }
    switch (answer.kind) {
      case 'ok':
        return json(200, completion(body.model ?? 'stub', answer.content ?? stub.content))
      case 'rate-limit':
        return json(
          429,
          { error: { message: 'Rate limit reached', type: 'rate_limit' } },
          { 'retry-after': answer.retryAfter },
        )
      case 'error':
        return json(answer.status ?? 500, { error: { message: 'The server had an error' } })
      case 'refuse':
        return json(answer.status ?? 400, answer.body ?? { error: { message: 'Invalid request' } })
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' })
        return res.end('{"choices": [{"message": ')
      case 'empty': {
        const answer = completion(body.model ?? 'stub', '')
        answer.choices[0]!.message = { role: 'assistant' } as { role: string; content: string }
        return json(200, answer)
      }
      case 'hang':
        return // never answers; close() drops the connection
      case 'stream':
        return streamAnswer(answer, body, res)
    }
  }
  const streamAnswer = (
    answer: Extract<StubAnswer, { kind: 'stream' }>,
    body: StubRequest['body'],
    res: ServerResponse,
  ) => {
    const tokens = answer.tokens ?? stub.content.match(/\S+\s*/g) ?? []
    const id = `chatcmpl-${Date.now()}`
    const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model ?? 'stub', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.write(chunk({ role: 'assistant', content: '' }))
    for (const token of tokens) res.write(chunk({ content: token }))
    if (answer.hang) return // the rest never comes; the client's abort closes the connection
    const options = body.stream_options as { include_usage?: boolean } | undefined
    if (options?.include_usage) {
      const usage = answer.usage ?? { prompt: 42, completion: tokens.length }
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion } })}\n\n`,
      )
    }
    res.end('data: [DONE]\n\n')
  }
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const stub: LlmStub = {
    url: `http://127.0.0.1:${port}/v1`,
    requests: [],
    content: 'Hello! Reset your password from Settings → Security [1].',
    fallback: { kind: 'ok' },
    beforeAnswer: null,
    embeddingsDown: false,
    answer(...answers) {
      queued.push(...answers)
    },
    reset() {
      queued.length = 0
      stub.requests.length = 0
      stub.fallback = { kind: 'ok' }
      stub.beforeAnswer = null
      stub.embeddingsDown = false
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return stub
}

function completion(model: string, content: string) {
  return {
    id: `chatcmpl-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  }
}

export const STUB_EMBEDDING_DIMENSIONS = 64

/** A text's words (lower case, a trailing s dropped) hashed into a fixed number of counts. */
export function bagOfWords(text: string): number[] {
  const vector = new Array<number>(STUB_EMBEDDING_DIMENSIONS).fill(0)
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const stem = word.length > 3 ? word.replace(/s$/, '') : word
    const slot =
      createHash('sha1').update(stem).digest().readUInt32BE(0) % STUB_EMBEDDING_DIMENSIONS
    vector[slot]! += 1
  }
  return vector
}
