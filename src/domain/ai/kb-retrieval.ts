// Retrieval for AI replies, over the tenant's published knowledge-base
// passages (domain/kb/passages.ts: articles split by heading and paragraph).
//
// Full-text search always: the customer's words are reduced to English
// lexemes (as plainto_tsquery would) and ORed, since a message rarely
// contains every word of an article; a lexeme of PREFIX_MIN letters or more
// also matches as a prefix ("deliv" finds "deliveri", which the stemmer keeps
// apart), and ts_rank orders the passages (title and keywords weigh most, then
// the heading, then the text). When the caller has an embedding model,
// passage-embeddings.ts ranks the passages by meaning too, and the two lists
// are fused by reciprocal rank (fuseRankings): hybrid retrieval. Passages are
// then grouped by article, each article ranked by its best passage.
//
// What a provider gets depends on who judges relevance (pickArticles):
// - `vetted`, for the builtin provider, which quotes what it gets as the answer:
//   an OR query matches on one shared common word, so a match must also be good
//   enough on its words alone (goodEnough): it shares at least two of the
//   customer's distinct terms (or the only one, for a one-term question), and
//   at least one of them is in its title, keywords or heading, or they are a
//   third of the customer's terms. Meaning alone (embeddings) never vets.
// - `ranked`, for a model, which can judge relevance itself: the best
//   candidates in rank order, up to MODEL_ARTICLES and MODEL_CONTEXT_CHARS, so a
//   ticket that shares one word with the right article ("router") still shows
//   it to the model. Each is marked `vetted` or not, for citing (jobs/ai/openai-prompt.ts).
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { kbPassages } from '../../db/schema/kb-passages.ts'
import { readInScope } from '../../db/scoped.ts'
import { type Embedder, similarPassages } from './passage-embeddings.ts'

export type RetrievedArticle = {
  id: string
  title: string
  /** the article's best passages, in the article's order, bounded for prompts */
  body: string
  /** its best passage, for quoting */
  excerpt: string
  /** passes the builtin provider's threshold: close enough to cite without a model's judgement */
  vetted: boolean
}

/** passages each ranking keeps before fusion and grouping */
export const PASSAGE_CANDIDATES = 40
const EVIDENCE_MIN = 3
const COVERAGE_MIN = 0.2
const MARGIN_MIN = 1.2
/** articles a model is shown, best first, while their bodies fit in MODEL_CONTEXT_CHARS */
const MODEL_ARTICLES = 5
const MODEL_CONTEXT_CHARS = 9000
const ARTICLE_CHARS = 3000
const EXCERPT_CHARS = 700
const QUERY_CHARS = 4000
const QUERY_TERMS = 64
const PREFIX_MIN = 4
/** reciprocal rank fusion's constant (Cormack et al.): damps the weight of the very first ranks */
const RRF_K = 60

const p = kbPassages

/** A passage as the full-text query returns it (the vector query adds no lexical counts). */
export type PassageCandidate = {
  id: string
  articleId: string
  position: number
  title: string
  heading: string
  body: string
  /** the customer's distinct terms found in the passage (its title, keywords, heading or text) */
  matched: number
  /** ... found in its title, keywords or heading */
  titleMatched: number
  /** the customer's distinct terms */
  terms: number
  /** the summed weight (idf) of the terms found in the passage, in its title, keywords or heading, in the question */
  weight: number
  titleWeight: number
  queryWeight: number
  /** the customer's terms that some article uses */
  known: number
  /** the tenant's published articles */
  articleCount: number
}

/** The customer's terms found among a tsvector's lexemes (equal, or as a prefix when long enough), as an SQL filter on `w.lexeme`. */
function found(vector: SQL | typeof p.search): SQL {
  return sql`exists (select 1 from unnest(tsvector_to_array(${vector})) x
    where x = w.lexeme or (length(w.lexeme) >= ${PREFIX_MIN} and starts_with(x, w.lexeme)))`
}

/**
 * The full-text candidates for `text` (an SQL text expression, so that it can
 * be read from the ticket in the same statement), best first; pickArticles()
 * keeps the good ones. Each term of the customer's is weighed by how rare it
 * is in the tenant's knowledge base (inverse document frequency over its
 * published articles): sharing "order" with an article says little, sharing
 * "grinder" says much; a term no article uses weighs nothing.
 */
export function passagesQuery(tenantId: string, text: SQL): SQL {
  const titleVector = sql`to_tsvector('english', ${p.title} || ' ' || ${p.keywords} || ' ' || ${p.heading})`
  return sql`with terms as (
          select array(
            select distinct lexeme from unnest(to_tsvector('english', left(${text}, ${QUERY_CHARS})))
            where lexeme ~ '^[[:alnum:]]+$' limit ${QUERY_TERMS}) as lexemes
        ), query as (
          select lexemes, nullif(array_to_string(array(
            select quote_literal(l) || case when length(l) >= ${PREFIX_MIN} then ':*' else '' end
            from unnest(lexemes) l), ' | '), '')::tsquery as q
          from terms
        ), articles as (
          select count(distinct ${p.articleId})::float8 as n from ${p}
          where ${p.tenantId} = ${tenantId} and ${p.published}
        ), weights as (
          select l as lexeme, ln(1 + articles.n / df.n) as idf
          from query, articles, unnest(query.lexemes) l,
            lateral (select count(distinct ${p.articleId})::float8 as n from ${p}
                     where ${p.tenantId} = ${tenantId} and ${p.published}
                       and ${p.search} @@ (quote_literal(l)
                         || case when length(l) >= ${PREFIX_MIN} then ':*' else '' end)::tsquery) df
          where df.n > 0
        )
        select ${p.id} as id, ${p.articleId} as "articleId", ${p.position} as position,
          ${p.title} as title, ${p.heading} as heading, ${p.body} as body,
          (select count(*)::int from weights w where ${found(p.search)}) as matched,
          (select count(*)::int from weights w where ${found(titleVector)}) as "titleMatched",
          cardinality(query.lexemes)::int as terms,
          (select coalesce(sum(w.idf), 0)::float8 from weights w where ${found(p.search)}) as weight,
          (select coalesce(sum(w.idf), 0)::float8 from weights w where ${found(titleVector)}) as "titleWeight",
          (select coalesce(sum(w.idf), 0)::float8 from weights w) as "queryWeight",
          (select count(*)::int from weights) as known,
          (select n from articles)::int as "articleCount"
        from ${p}, query
        where ${p.tenantId} = ${tenantId} and ${p.published} and query.q is not null
          and ${p.search} @@ query.q
        order by ts_rank(${p.search}, query.q) desc, ${p.id}
        limit ${PASSAGE_CANDIDATES}`
}

/** Who judges which candidates answer the ticket: the threshold below, or the model. */
export type ArticlePolicy = 'vetted' | 'ranked'

/**
 * Two rankings of passages fused by reciprocal rank: each passage scores
 * the sum of 1 / (RRF_K + its rank) over the lists it is in. Ranks, not
 * scores, are added, so full-text and cosine scores need no common scale.
 */
export function fuseRankings<T extends { id: string }>(...rankings: T[][]): T[] {
  const fused = new Map<string, { item: T; score: number }>()
  for (const ranking of rankings) {
    ranking.forEach((item, index) => {
      const entry = fused.get(item.id) ?? { item, score: 0 }
      // A full-text row carries the lexical counts the vetting needs; keep it.
      if ('matched' in item && !('matched' in entry.item)) entry.item = item
      entry.score += 1 / (RRF_K + index + 1)
      fused.set(item.id, entry)
    })
  }
  return [...fused.values()].sort((x, y) => y.score - x.score).map((e) => e.item)
}

type Lexical =
  | 'matched'
  | 'titleMatched'
  | 'terms'
  | 'weight'
  | 'titleWeight'
  | 'queryWeight'
  | 'known'
  | 'articleCount'
type Passage = Omit<PassageCandidate, Lexical> & Partial<Pick<PassageCandidate, Lexical>>

type ArticleCandidate = {
  id: string
  title: string
  passages: Passage[]
  /** its best passage's lexical score (lexicalScore), 0 when only meaning found it */
  score: number
  best: Passage
  vetted: boolean
}

/**
 * A passage's lexical evidence: the weight of the customer's terms it has,
 * those in its title, keywords or heading counted twice.
 */
function lexicalScore(c: Passage): number {
  return (c.weight ?? 0) + (c.titleWeight ?? 0)
}

/**
 * The ranked passages grouped by article, in the order of each article's best
 * passage; the lexically best article is vetted when it is good enough.
 */
function byArticle(ranked: Passage[]): ArticleCandidate[] {
  const articles = new Map<string, ArticleCandidate>()
  for (const passage of ranked) {
    const score = lexicalScore(passage)
    let article = articles.get(passage.articleId)
    if (!article) {
      article = {
        id: passage.articleId,
        title: passage.title,
        passages: [],
        score,
        best: passage,
        vetted: false,
      }
      articles.set(passage.articleId, article)
    }
    article.passages.push(passage)
    if (score > article.score) {
      article.score = score
      article.best = passage
    }
  }
  const candidates = [...articles.values()]
  const [first, second] = [...candidates].sort((x, y) => y.score - x.score)
  if (first) first.vetted = goodEnough(first.best, second?.score ?? 0)
  return candidates
}

/**
 * The articles a provider gets from the ranked passages (full-text, or fused
 * with the passages closest in meaning): `vetted`, the one article that passed
 * the threshold, if any; `ranked`, the best few in rank order.
 */
export function pickArticles(ranked: Passage[], policy: ArticlePolicy): RetrievedArticle[] {
  const candidates = byArticle(ranked)
  if (policy === 'vetted') return candidates.filter((c) => c.vetted).map(asRetrieved)
  return withinBudget(candidates.slice(0, MODEL_ARTICLES).map(asRetrieved))
}

function asRetrieved(article: ArticleCandidate): RetrievedArticle {
  // The quote is the passage with the most of the customer's words, else the best-ranked one.
  const best = article.score > 0 ? article.best : article.passages[0]!
  const inOrder = [...article.passages].sort((x, y) => x.position - y.position)
  let body = ''
  for (const passage of inOrder) {
    const text = passage.heading ? `${passage.heading}\n${passage.body}` : passage.body
    if (body && body.length + text.length > ARTICLE_CHARS) continue
    body = body ? `${body}\n\n${text}` : text
  }
  return {
    id: article.id,
    title: article.title,
    body: body.slice(0, ARTICLE_CHARS),
    excerpt: best.body.slice(0, EXCERPT_CHARS),
    vetted: article.vetted,
  }
}

/** The best-ranked candidates whose title and body fit the budget together (always the best one). */
function withinBudget(ranked: RetrievedArticle[]) {
  const kept: RetrievedArticle[] = []
  let used = 0
  for (const article of ranked) {
    const size = article.title.length + article.body.length
    if (kept.length > 0 && used + size > MODEL_CONTEXT_CHARS) continue
    kept.push(article)
    used += size
  }
  return kept
}

/**
 * Whether the lexically best article may be cited without a model's judgement
 * (its best passage, and the next article's score). The evidence is counted in
 * units of the rarest term's weight, ln(1 + articles), so that the bar means
 * the same for a knowledge base of 20 articles or 2,000:
 * - at least EVIDENCE_MIN such units (a title, keyword or heading match counting twice);
 * - at least two of the customer's terms, one in the title, keywords or heading;
 * - at least COVERAGE_MIN of the weight of the customer's terms that the knowledge base uses;
 * - MARGIN_MIN times the evidence of the next article: when two articles match
 *   about as well, the words cannot tell which one answers, and a human should.
 */
function goodEnough(c: Passage, nextScore: number): boolean {
  if (c.weight === undefined || c.queryWeight === undefined || !c.articleCount) return false
  const unit = Math.log(1 + c.articleCount)
  const score = lexicalScore(c)
  return (
    score >= EVIDENCE_MIN * unit &&
    (c.matched ?? 0) >= 2 &&
    (c.titleMatched ?? 0) >= 1 &&
    c.weight >= COVERAGE_MIN * c.queryWeight &&
    score >= MARGIN_MIN * nextScore
  )
}

export type RetrievalOptions = {
  policy: ArticlePolicy
  /** the tenant's embedding model, or null: full-text search alone */
  embedder: Embedder | null
  /** told why hybrid retrieval fell back to full text (the embedding call failed) */
  onFallback?: (err: unknown) => void
}

export type Retrieval = { articles: RetrievedArticle[]; mode: 'hybrid' | 'fulltext' }

/**
 * The articles for `text` (a question), by full-text search and, with an
 * embedder, hybrid retrieval; a failing embedder costs the hybrid part only.
 */
export async function retrieveArticles(
  database: DatabaseHandle,
  tenantId: string,
  text: string,
  options: RetrievalOptions,
): Promise<Retrieval> {
  const fulltext = await readInScope<PassageCandidate>(
    database,
    { tenantId },
    passagesQuery(tenantId, sql`${text}::text`),
  )
  return withMeaning(database, tenantId, text, fulltext, options)
}

/**
 * Hybrid retrieval from full-text candidates already read (the reply job reads
 * them with the ticket, in one round trip): the passages closest in meaning
 * fused with them, or, with no embedder or a failing one, the full-text
 * candidates alone.
 */
export async function withMeaning(
  database: DatabaseHandle,
  tenantId: string,
  text: string,
  fulltext: PassageCandidate[],
  options: RetrievalOptions,
): Promise<Retrieval> {
  if (options.embedder && text.trim()) {
    try {
      const similar = await similarPassages(database, tenantId, text, options.embedder)
      const fused = fuseRankings<Passage>(fulltext, similar)
      return { articles: pickArticles(fused, options.policy), mode: 'hybrid' }
    } catch (err) {
      options.onFallback?.(err)
    }
  }
  return { articles: pickArticles(fulltext, options.policy), mode: 'fulltext' }
}
