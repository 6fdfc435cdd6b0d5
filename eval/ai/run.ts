// `npm run eval:ai`: how well AI replies answer from the knowledge base, on the
// committed evaluation set (knowledge-base.ts, questions.ts). It writes the
// articles into a fresh tenant of a database of its own on the real
// PostgreSQL (EVAL_DATABASE_URL, default deskpilot_eval on 127.0.0.1, created
// and migrated when missing), asks each question through the same retrieval
// and provider code the reply job runs, and prints per provider:
// - right article first: answerable questions whose first cited article is the one that answers it;
// - wrong citations: cited articles that do not answer the question (any, for an unanswerable one);
// - hand-off rate: unanswerable questions answered by a hand-off, citing nothing
//   (and how many answerable ones were handed off).
// The builtin provider always runs; an OpenAI-compatible endpoint runs too when
// AI_BASE_URL and AI_MODEL are set (AI_API_KEY if it needs one, and
// AI_EMBEDDING_MODEL for hybrid retrieval). `--verbose` lists every miss.
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { prepareDatabase } from '../../bench/setup.ts'
import type { Config } from '../../src/config.ts'
import { openDatabase } from '../../src/db/client.ts'
import { type ArticlePolicy, retrieveArticles } from '../../src/domain/ai/kb-retrieval.ts'
import type { Embedder } from '../../src/domain/ai/passage-embeddings.ts'
import { createArticle } from '../../src/domain/kb/articles.ts'
import { builtinProvider } from '../../src/jobs/ai/builtin-provider.ts'
import { openaiEmbedder } from '../../src/jobs/ai/openai-embeddings.ts'
import { openaiProvider } from '../../src/jobs/ai/openai-provider.ts'
import type { AiProvider } from '../../src/jobs/ai/provider.ts'
import { ARTICLES } from './knowledge-base.ts'
import { QUESTIONS } from './questions.ts'

const EVAL_DATABASE_URL =
  process.env.EVAL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/deskpilot_eval'
const verbose = process.argv.includes('--verbose')

type Outcome = { question: (typeof QUESTIONS)[number]; cited: string[]; mode: string }

async function main() {
  await prepareDatabase(EVAL_DATABASE_URL)
  const owner = postgres(EVAL_DATABASE_URL, { max: 1, onnotice: () => {} })
  const database = await openDatabase({
    url: EVAL_DATABASE_URL,
    dataDir: '.data',
    poolMax: 4,
    applicationName: 'deskpilot-eval',
  })
  const tenantId = uuidv7()
  await owner`insert into tenants (id, name, slug) values (${tenantId}, 'Beanly', ${`eval-${tenantId}`})`
  try {
    const keyOf = new Map<string, string>()
    for (const article of ARTICLES) {
      const written = await createArticle(database, tenantId, null, {
        title: article.title,
        body: article.body,
        keywords: article.keywords,
        published: true,
      })
      keyOf.set(written.id, article.key)
    }
    const runs: { name: string; provider: AiProvider; embedder: Embedder | null }[] = [
      { name: 'builtin', provider: builtinProvider, embedder: null },
    ]
    const endpoint = openaiEndpoint()
    if (endpoint) runs.push(endpoint)
    else console.log('(no AI_BASE_URL and AI_MODEL: the OpenAI-compatible run is skipped)\n')
    for (const run of runs) {
      const outcomes: Outcome[] = []
      for (const question of QUESTIONS) {
        const text = `${question.subject}\n${question.body}`
        const { articles, mode } = await retrieveArticles(database, tenantId, text, {
          policy: run.provider.articles as ArticlePolicy,
          embedder: run.embedder,
          onFallback: (err) => console.warn(`embeddings failed, full text only: ${err}`),
        })
        const reply = await run.provider.generateReply({
          tenantName: 'Beanly',
          ticket: { id: uuidv7(), number: 1, subject: question.subject },
          requesterName: 'Sam',
          thread: [
            { authorType: 'customer', body: question.body, createdAt: new Date().toISOString() },
          ],
          articles,
        })
        outcomes.push({ question, cited: reply.sources.map((s) => keyOf.get(s.id)!), mode })
      }
      report(run.name, outcomes)
    }
  } finally {
    await owner`delete from tenants where id = ${tenantId}`
    await owner.end({ timeout: 1 })
    await database.close()
  }
}

function openaiEndpoint() {
  const baseUrl = process.env.AI_BASE_URL
  const model = process.env.AI_MODEL
  if (!baseUrl || !model) return null
  const apiKey = process.env.AI_API_KEY ?? ''
  const timeoutMs = Number(process.env.AI_TIMEOUT_MS ?? 60_000)
  const config = {
    AI_BASE_URL: baseUrl,
    AI_API_KEY: apiKey,
    AI_MODEL: model,
    AI_TIMEOUT_MS: timeoutMs,
    AI_MAX_RETRIES: 2,
    AI_RETRY_BASE_MS: 500,
    AI_RETRY_MAX_WAIT_MS: 30_000,
  } as Config
  const embeddingModel = process.env.AI_EMBEDDING_MODEL
  return {
    name: `openai-compatible (${model}${embeddingModel ? `, embeddings ${embeddingModel}` : ''})`,
    // The endpoint the person running the evaluation configured, called as the platform's own.
    provider: openaiProvider(config, {
      provider: 'openai',
      baseUrl: baseUrl.replace(/\/+$/, ''),
      model,
      embeddingModel: embeddingModel ?? null,
      apiKey,
      monthlyTokenBudget: null,
      tenantBaseUrl: false,
    }),
    embedder: embeddingModel
      ? openaiEmbedder({ baseUrl, apiKey, model: embeddingModel, timeoutMs })
      : null,
  }
}

function percent(part: number, whole: number) {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(1)}% (${part}/${whole})`
}

function report(name: string, outcomes: Outcome[]) {
  const answerable = outcomes.filter((o) => o.question.answer)
  const unanswerable = outcomes.filter((o) => !o.question.answer)
  const rightFirst = answerable.filter((o) => o.cited[0] === o.question.answer)
  const wrong = outcomes.flatMap((o) => o.cited.filter((c) => c !== o.question.answer))
  const handedOff = unanswerable.filter((o) => o.cited.length === 0)
  const answerableHandedOff = answerable.filter((o) => o.cited.length === 0)
  const modes = [...new Set(outcomes.map((o) => o.mode))].join(', ')
  console.log(`${name} (retrieval: ${modes})`)
  console.log(`  right article first   ${percent(rightFirst.length, answerable.length)}`)
  console.log(`  wrong citations       ${wrong.length}`)
  console.log(`  hand-off, unanswerable ${percent(handedOff.length, unanswerable.length)}`)
  console.log(`  hand-off, answerable   ${percent(answerableHandedOff.length, answerable.length)}`)
  if (verbose) {
    for (const o of outcomes) {
      const right = o.question.answer
        ? o.cited[0] === o.question.answer && o.cited.every((c) => c === o.question.answer)
        : o.cited.length === 0
      if (!right) {
        console.log(
          `  ✗ [${o.question.answer ?? 'none'}] ${o.question.subject}: ${o.question.body}\n      cited: ${o.cited.join(', ') || '(hand-off)'}`,
        )
      }
    }
  }
  console.log('')
}

await main()
