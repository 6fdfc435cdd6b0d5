// `npm run bench:retrieval`: how long retrieval for an AI reply takes over a
// tenant with 10,000 knowledge-base passages (1,000 articles of 10 passages),
// on the real PostgreSQL (BENCH_RETRIEVAL_DATABASE_URL, default
// deskpilot_bench_retrieval on 127.0.0.1, created and migrated when missing).
// It times, as the application runs them (as deskpilot_app, under row-level
// security): full-text search alone, and hybrid retrieval with every passage
// already embedded (1,536 dimensions, OpenAI's text-embedding-3-small size),
// the query's vector coming from a local function so that only the database
// work is timed. Prints the median and the 95th percentile of 30 questions each.
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { ARTICLES } from '../eval/ai/knowledge-base.ts'
import { QUESTIONS } from '../eval/ai/questions.ts'
import { openDatabase } from '../src/db/client.ts'
import { retrieveArticles } from '../src/domain/ai/kb-retrieval.ts'
import type { Embedder } from '../src/domain/ai/passage-embeddings.ts'
import { prepareDatabase } from './setup.ts'

const URL_ =
  process.env.BENCH_RETRIEVAL_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/deskpilot_bench_retrieval'
const ARTICLE_COUNT = 1000
const PASSAGES_PER_ARTICLE = 10
const DIMENSIONS = 1536
const ROUNDS = 30

/** Paragraphs made of the evaluation set's words, so that questions match some of them. */
function vocabulary(): string[] {
  const text = ARTICLES.map((a) => `${a.title} ${a.body}`).join(' ')
  return [...new Set(text.toLowerCase().match(/[a-z]{3,}/g) ?? [])]
}

function randomUnit(): number[] {
  const v = Array.from({ length: DIMENSIONS }, () => Math.random() - 0.5)
  const norm = Math.hypot(...v)
  return v.map((x) => x / norm)
}

function stats(times: number[]) {
  const sorted = [...times].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms`
}

async function main() {
  await prepareDatabase(URL_)
  const owner = postgres(URL_, { max: 1, onnotice: () => {} })
  const tenantId = uuidv7()
  const words = vocabulary()
  console.log(`seeding ${ARTICLE_COUNT * PASSAGES_PER_ARTICLE} passages…`)
  await owner`insert into tenants (id, name, slug) values (${tenantId}, 'Bench', ${`bench-${tenantId}`})`
  const database = await openDatabase({
    url: URL_,
    dataDir: '.data',
    poolMax: 2,
    applicationName: 'bench-retrieval',
  })
  try {
    const paragraph = () =>
      Array.from({ length: 60 }, () => words[Math.floor(Math.random() * words.length)]).join(' ')
    for (let start = 0; start < ARTICLE_COUNT; start += 100) {
      const articles = Array.from({ length: 100 }, (_, i) => ({
        id: uuidv7(),
        title: `Article ${start + i}: ${paragraph().slice(0, 40)}`,
      }))
      await owner`insert into kb_articles ${owner(
        articles.map((a) => ({
          id: a.id,
          tenant_id: tenantId,
          title: a.title,
          body: '…',
          published: true,
        })),
      )}`
      const passages = articles.flatMap((a) =>
        Array.from({ length: PASSAGES_PER_ARTICLE }, (_, position) => ({
          id: uuidv7(),
          tenant_id: tenantId,
          article_id: a.id,
          position,
          title: a.title,
          heading: `Section ${position}`,
          body: paragraph(),
          published: true,
        })),
      )
      await owner`insert into kb_passages ${owner(passages)}`
    }
    // Vectors are made in SQL: sending 15 million numbers as text would take longer than the run.
    await owner`update kb_passages set
        embedding = array(select (random() - 0.5)::real from generate_series(1, ${DIMENSIONS}) where id is not null),
        embedding_model = 'bench'
      where tenant_id = ${tenantId}`
    await owner`update kb_passages set embedding_bits = (
        select string_agg(case when x > 0 then '1' else '0' end, '' order by i)
        from unnest(embedding) with ordinality as e(x, i))::varbit
      where tenant_id = ${tenantId}`
    await owner`vacuum analyze kb_passages`
    const embedder: Embedder = { model: 'bench', embed: async (texts) => texts.map(randomUnit) }
    const questions = QUESTIONS.map((q) => `${q.subject}\n${q.body}`)
    for (const [name, withEmbeddings] of [
      ['full text', null],
      ['hybrid', embedder],
    ] as const) {
      const times: number[] = []
      for (let i = 0; i < ROUNDS + 3; i++) {
        const started = performance.now()
        await retrieveArticles(database, tenantId, questions[i % questions.length]!, {
          policy: 'ranked',
          embedder: withEmbeddings,
        })
        // The first rounds warm the caches and prepare the statements.
        if (i >= 3) times.push(performance.now() - started)
      }
      console.log(`${name.padEnd(10)} ${stats(times)}`)
    }
  } finally {
    await owner`delete from tenants where id = ${tenantId}`
    await owner.end({ timeout: 1 })
    await database.close()
  }
}

await main()
