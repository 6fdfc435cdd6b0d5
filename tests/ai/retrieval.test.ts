// Retrieval for AI replies: articles kept as passages in step with every write
// (through the API), passages seen in their own tenant only, and hybrid
// retrieval (full text fused with embeddings from the LLM stand-in's
// /embeddings) chosen when an embedding model is given, full text alone
// otherwise or when the embedding call fails.
import { sql } from 'drizzle-orm'
import { beforeEach, describe, expect, it } from 'vitest'
import { readInScope } from '../../src/db/scoped.ts'
import { retrieveArticles } from '../../src/domain/ai/kb-retrieval.ts'
import { splitArticle } from '../../src/domain/kb/passages.ts'
import { openaiEmbedder } from '../../src/jobs/ai/openai-embeddings.ts'
import { useTestApp } from '../helpers/app.ts'
import { startLlmStub } from '../helpers/llm-stub.ts'
import { createTestTenant } from '../helpers/tenancy.ts'
import { api, INVOICE_ARTICLE, PASSWORD_ARTICLE } from './arrange.ts'

const stub = await startLlmStub()
const ctx = await useTestApp({ env: { LOG_LEVEL: 'silent', AUTH_RATE_LIMIT_MAX: '1000' } })
const { call, article } = api(ctx)
beforeEach(() => stub.reset())

const ROUTER = {
  title: 'Restarting the router',
  body: `## When to restart

If the light on the router blinks red, nothing loads.

## How

Unplug the router, wait ten seconds and plug it back in. The light turns green within two minutes.`,
}

async function passagesOf(articleId: string) {
  return ctx.sql<{ heading: string; body: string; published: boolean; title: string }[]>`
    select heading, body, published, title from kb_passages where article_id = ${articleId}
    order by position`
}

const embedder = () =>
  openaiEmbedder({ baseUrl: stub.url, apiKey: 'sk-embed', model: 'stub-embed', timeoutMs: 2000 })

describe('passages', () => {
  it('split by heading and paragraph, rewritten with every write, deleted with the article', async () => {
    const acme = await createTestTenant(ctx)
    const written = await article(acme, ROUTER.title, ROUTER.body)
    expect(await passagesOf(written.id)).toEqual([
      {
        heading: 'When to restart',
        body: 'If the light on the router blinks red, nothing loads.',
        published: true,
        title: ROUTER.title,
      },
      {
        heading: 'How',
        body: 'Unplug the router, wait ten seconds and plug it back in. The light turns green within two minutes.',
        published: true,
        title: ROUTER.title,
      },
    ])
    await call(acme.agent, 'PATCH', `/v1/kb/articles/${written.id}`, {
      title: 'Router restarts',
      published: false,
    })
    expect((await passagesOf(written.id)).map((p) => [p.title, p.published])).toEqual([
      ['Router restarts', false],
      ['Router restarts', false],
    ])
    await call(acme.agent, 'PATCH', `/v1/kb/articles/${written.id}`, { body: 'One paragraph.' })
    expect((await passagesOf(written.id)).map((p) => p.body)).toEqual(['One paragraph.'])
    const deleted = await ctx.app.inject({
      method: 'DELETE',
      url: `/v1/kb/articles/${written.id}`,
      headers: acme.agent.headers,
    })
    expect(deleted.statusCode).toBe(204)
    expect(await passagesOf(written.id)).toEqual([])
  })

  it('long paragraphs are cut at sentence ends, short ones of a section merged', () => {
    const sentence = 'The router keeps its settings when it restarts. '
    const passages = splitArticle(`# Intro\n\nShort one.\n\nShort two.\n\n${sentence.repeat(60)}`)
    expect(passages[0]).toEqual({ heading: 'Intro', body: 'Short one.\n\nShort two.' })
    for (const p of passages) expect(p.body.length).toBeLessThanOrEqual(1200)
    expect(passages.slice(1).every((p) => p.body.endsWith('restarts.'))).toBe(true)
  })

  it("another tenant's passages stay invisible, even to a query without its tenant filter", async () => {
    const acme = await createTestTenant(ctx)
    const globex = await createTestTenant(ctx)
    await article(acme, ROUTER.title, ROUTER.body)
    const seen = await readInScope<{ title: string }>(
      ctx.app.database,
      { tenantId: globex.id },
      sql`select title from kb_passages`,
    )
    expect(seen).toEqual([])
  })
})

describe('hybrid retrieval', () => {
  it('with an embedding model: passages embedded once, full text and meaning fused', async () => {
    const acme = await createTestTenant(ctx)
    const password = await article(acme, PASSWORD_ARTICLE.title, PASSWORD_ARTICLE.body)
    await article(acme, INVOICE_ARTICLE.title, INVOICE_ARTICLE.body)
    const question = 'I forgot my password, how do I reset it?'
    const first = await retrieveArticles(ctx.app.database, acme.id, question, {
      policy: 'ranked',
      embedder: embedder(),
    })
    expect(first.mode).toBe('hybrid')
    expect(first.articles[0]).toMatchObject({ id: password.id, vetted: true })
    const calls = stub.requests.filter((r) => r.path.endsWith('/embeddings'))
    // The pending passages in one batch, then the question.
    expect(calls.map((r) => (r.body.input as string[]).length)).toEqual([2, 1])
    expect(calls[0]!.headers.authorization).toBe('Bearer sk-embed')
    const stored = await ctx.sql`
      select embedding_model, cardinality(embedding) as dims, length(embedding_bits) as bits
      from kb_passages where tenant_id = ${acme.id}`
    expect(stored).toEqual([
      { embedding_model: 'stub-embed', dims: 64, bits: 64 },
      { embedding_model: 'stub-embed', dims: 64, bits: 64 },
    ])

    stub.reset()
    const again = await retrieveArticles(ctx.app.database, acme.id, question, {
      policy: 'ranked',
      embedder: embedder(),
    })
    expect(again.mode).toBe('hybrid')
    // Stored vectors are reused: only the question is embedded.
    expect(stub.requests.map((r) => (r.body.input as string[]).length)).toEqual([1])
  })

  it('a passage found by meaning alone is shown to a model, never vetted', async () => {
    const acme = await createTestTenant(ctx)
    const router = await article(acme, ROUTER.title, ROUTER.body)
    // No word in common with the article's text for full-text search ("blinking" ≠ "blinks").
    const { mode, articles } = await retrieveArticles(ctx.app.database, acme.id, 'blinking', {
      policy: 'ranked',
      embedder: embedder(),
    })
    expect(mode).toBe('hybrid')
    expect(articles.map((a) => [a.id, a.vetted])).toEqual([[router.id, false]])
    const vetted = await retrieveArticles(ctx.app.database, acme.id, 'blinking', {
      policy: 'vetted',
      embedder: embedder(),
    })
    expect(vetted.articles).toEqual([])
  })

  it('without an embedding model, or with one that fails: full-text search alone', async () => {
    const acme = await createTestTenant(ctx)
    const password = await article(acme, PASSWORD_ARTICLE.title, PASSWORD_ARTICLE.body)
    const question = 'How do I reset my password?'
    const plain = await retrieveArticles(ctx.app.database, acme.id, question, {
      policy: 'vetted',
      embedder: null,
    })
    expect(plain.mode).toBe('fulltext')
    expect(plain.articles.map((a) => a.id)).toEqual([password.id])
    expect(stub.requests).toEqual([])

    stub.embeddingsDown = true
    const failures: unknown[] = []
    const down = await retrieveArticles(ctx.app.database, acme.id, question, {
      policy: 'vetted',
      embedder: embedder(),
      onFallback: (err) => failures.push(err),
    })
    expect(down.mode).toBe('fulltext')
    expect(down.articles.map((a) => a.id)).toEqual([password.id])
    expect(failures).toHaveLength(1)
    expect(String(failures[0])).not.toContain('sk-embed')

    await stub.close()
    const unreachable = await retrieveArticles(ctx.app.database, acme.id, question, {
      policy: 'vetted',
      embedder: embedder(),
    })
    expect(unreachable).toMatchObject({ mode: 'fulltext', articles: [{ id: password.id }] })
  })
})
