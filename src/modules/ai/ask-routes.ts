// /v1/ai/ask and /v1/ai/history: the agent's copilot (ai:use). An answer is
// grounded in the knowledge base (retrieval with the provider's article
// policy, hybrid with the tenant's embedding model) and, with a ticketId, in
// the ticket's thread as the caller may read it (domain/ai/ask-context.ts).
//
// One path for both media types: the provider's own stream (jobs/ai/copilot-answer.ts)
// is relayed token by token as Server-Sent Events when the client asks for
// text/event-stream, or gathered and answered as JSON. Either way the stored
// answer is exactly the tokens sent. The connection's close aborts the
// provider call (an AbortController on the response's close), so a reader
// that leaves stops the model's work and its cost; nothing is stored then.
// Every ask leaves an ai_generations row (kind `ask`); past the tenant's
// monthly token budget it answers 429 before calling the provider.
//
// The stream is @fastify/sse's, as for GET /v1/events/stream: sends wait for
// 'drain' and race the socket's close, so a reader that stops reading holds
// back the provider read instead of filling memory.
import sseModule, { type SSEPluginOptions } from '@fastify/sse'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyPluginAsync } from 'fastify'
import { Type } from 'typebox'
import { uuidv7 } from 'uuidv7'
import type { Config } from '../../config.ts'
import { askSearchText, readAskTicket } from '../../domain/ai/ask-context.ts'
import { type Asker, clearHistory, listHistory, storeAnswer } from '../../domain/ai/ask-history.ts'
import {
  AskAnswer,
  AskBody,
  AskHistoryEntry,
  AskHistoryQuery,
  AskResponse,
} from '../../domain/ai/ask-schemas.ts'
import { recordGeneration, tokensThisMonth } from '../../domain/ai/generations.ts'
import { retrieveArticles } from '../../domain/ai/kb-retrieval.ts'
import { resolveAiSettings } from '../../domain/ai/settings.ts'
import { publicFailureOf, storedFailure } from '../../domain/jobs/failures.ts'
import { answerQuestion, ClientGone, type CopilotAnswer } from '../../jobs/ai/copilot-answer.ts'
import { embedderFor } from '../../jobs/ai/openai-embeddings.ts'
import { providerFor } from '../../jobs/ai/provider.ts'
import { AiProviderError } from '../../jobs/ai/provider-errors.ts'
import { Page } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { Problem } from '../../lib/problems.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'
import { callerOf } from '../../plugins/access.ts'

/** The plugin as Node loads it (see modules/events/stream-route.ts). */
const fastifySse = sseModule as unknown as FastifyPluginAsync<SSEPluginOptions>

const tags = ['ai']
const use = { access: 'tenant', permission: 'ai:use' } as const

const CLIENT_GONE = storedFailure({
  code: 'client_closed',
  message: 'The client closed the connection before the answer was complete.',
})

const askRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  await app.register(fastifySse, { heartbeatInterval: 0 })
  const box = secretBoxOf(config)
  app.addSchema(AskAnswer)
  app.addSchema(AskHistoryEntry)

  app.post(
    '/ai/ask',
    {
      sse: 'dual',
      config: use,
      schema: {
        operationId: 'askAi',
        tags,
        summary: 'Ask the copilot',
        description:
          'Needs ai:use. Answers from the knowledge base and, with `ticketId`, the ticket’s ' +
          'thread as the caller may read it (internal notes only with messages:internal; a ' +
          'ticket the caller may not see is 404). `Accept: text/event-stream` streams the ' +
          'answer as the model produces it; otherwise JSON once it is complete. Stored in the ' +
          'caller’s history and recorded as a generation (kind `ask`). Past the monthly token ' +
          'budget: 429 `ai_budget_exceeded`, without calling the provider. A provider failure ' +
          'before the stream starts is 502 `ai_provider_unavailable`. Closing the connection ' +
          'stops the provider call; nothing is stored then.',
        body: AskBody,
        response: {
          200: AskResponse,
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required'],
            429: ['ai_budget_exceeded'],
            502: ['ai_provider_unavailable'],
          }),
        },
      },
    },
    async (request, reply) => {
      // The connection's close before the answer is complete (the client
      // left) stops the provider call; listened for first, so that a client
      // gone during retrieval is not answered either.
      const gone = new AbortController()
      const closed = new Promise<void>((resolve) =>
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) gone.abort()
          resolve()
        }),
      )
      const caller = callerOf(request)
      const tenantId = caller.tenantId
      const { question, ticketId } = request.body
      const tenantName = request.tenant!.name
      const [settings, used, ticket] = await Promise.all([
        resolveAiSettings(app.database, box, config, tenantId),
        tokensThisMonth(app.database, tenantId),
        ticketId ? readAskTicket(app.database, caller, ticketId) : null,
      ])
      if (settings.monthlyTokenBudget !== null && used >= settings.monthlyTokenBudget) {
        throw new Problem('ai_budget_exceeded')
      }
      const provider = providerFor(config, settings)
      const embedder = embedderFor(config, settings)
      const { articles } = await retrieveArticles(
        app.database,
        tenantId,
        askSearchText(question, ticket),
        {
          policy: provider.articles,
          embedder,
          onFallback: (err) =>
            request.log.warn(
              { err: (err as Error).message },
              'embeddings failed; full-text retrieval only',
            ),
        },
      )

      const sse = (reply as { sse?: typeof reply.sse }).sse
      const send = async (event: string, data: unknown) => {
        if (gone.signal.aborted) throw new ClientGone()
        await Promise.race([reply.sse.send({ event, data }), closed])
        if (gone.signal.aborted) throw new ClientGone()
      }
      if (sse) {
        sse.sendHeaders()
        reply.raw.flushHeaders()
      }

      const generation = {
        tenantId,
        kind: 'ask' as const,
        ticketId: ticket?.id ?? null,
        provider: provider.name,
        model: provider.model,
      }
      const started = performance.now()
      let answer: CopilotAnswer
      try {
        answer = await answerQuestion(
          config,
          settings,
          provider,
          { tenantName, question, ticket, articles },
          {
            signal: gone.signal,
            onToken: sse ? (text) => send('token', { text }) : () => {},
          },
        )
      } catch (err) {
        const clientGone = err instanceof ClientGone || gone.signal.aborted
        const failure = clientGone
          ? null
          : (publicFailureOf(err as Error) ??
            new AiProviderError('ai_provider_error', (err as Error).message).publicFailure)
        await recordGeneration(app.database, {
          ...generation,
          latencyMs: performance.now() - started,
          outcome: 'error',
          error: failure ? storedFailure(failure) : CLIENT_GONE,
        }).catch((e: Error) => request.log.warn({ err: e.message }, 'generation not recorded'))
        if (clientGone) {
          request.log.info('copilot answer abandoned: the client closed the connection')
          return
        }
        request.log.warn({ err }, 'copilot answer failed')
        if (!sse) throw new Problem('ai_provider_unavailable', failure!.message)
        await send('error', failure).catch(() => {})
        return
      }

      const id = uuidv7()
      await recordGeneration(app.database, {
        ...generation,
        ...answer.usage,
        latencyMs: performance.now() - started,
        sources: answer.sources,
        outcome: answer.outcome,
      })
      await storeAnswer(app.database, askerOf(request), {
        id,
        question,
        answer: answer.text,
        sources: answer.sources,
        ticketId: ticket?.id ?? null,
      })
      if (!sse) return { id, answer: answer.text, sources: answer.sources }
      try {
        await send('sources', { sources: answer.sources })
        await send('done', { id })
      } catch {
        // Gone after the answer was complete: it is stored, the history has it.
      }
      return
    },
  )

  app.get(
    '/ai/history',
    {
      config: use,
      schema: {
        operationId: 'listAiHistory',
        tags,
        summary: 'Your copilot questions and answers, newest first',
        description:
          'Needs ai:use. The caller’s own questions to the copilot (the user’s, or the API ' +
          'key’s), never anyone else’s.',
        querystring: AskHistoryQuery,
        response: {
          200: Page(AskHistoryEntry, { description: 'A page of questions and answers' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) => listHistory(app.database, askerOf(request), request.query),
  )

  app.delete(
    '/ai/history',
    {
      config: use,
      schema: {
        operationId: 'clearAiHistory',
        tags,
        summary: 'Clear your copilot history',
        description:
          'Needs ai:use. Deletes the caller’s own questions and answers (the generations ' +
          'record of the calls stays).',
        response: {
          204: Type.Null({ description: 'Cleared' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      await clearHistory(app.database, askerOf(request))
      return reply.code(204).send(null)
    },
  )
}

function askerOf(request: {
  tenant?: { id: string } | null
  auth?: { userId: string | null; apiKeyId: string | null } | null
}): Asker {
  return {
    tenantId: request.tenant!.id,
    userId: request.auth!.userId,
    apiKeyId: request.auth!.apiKeyId,
  }
}

export default askRoutes
