// Retrieval for AI replies: PostgreSQL full-text search over the tenant's
// published knowledge-base articles (the generated `search` vector: title
// weight A, body weight B). The customer's words are reduced to English
// lexemes (as plainto_tsquery would) and ORed, since a customer's message
// rarely contains every word of an article; ts_rank orders the matches, and
// ts_headline cuts the passages around the matched terms for quoting.
//
// What a provider gets depends on who judges relevance (pickArticles):
// - `vetted`, for the builtin provider, which quotes what it gets as the answer:
//   an OR query matches on one shared common word, so a match must also be good
//   enough: it shares at least two of the customer's distinct terms (or the only
//   one, for a one-term question), and at least one of them is in its title or
//   they are a third of the customer's terms. Anything weaker is no answer.
// - `ranked`, for a model, which can judge relevance itself: the best
//   candidates in rank order, up to MODEL_ARTICLES and MODEL_CONTEXT_CHARS, so a
//   ticket that shares one word with the right article ("router") still shows
//   it to the model. Each is marked `vetted` or not, for citing (jobs/ai/openai-prompt.ts).
import { type SQL, sql } from 'drizzle-orm'
import { kbArticles } from '../../db/schema/helpdesk.ts'

export type RetrievedArticle = {
  id: string
  title: string
  /** the body, cut to a bounded length for prompts */
  body: string
  /** the passages of the body around the customer's terms (ts_headline) */
  excerpt: string
  /** passes the builtin provider's threshold: close enough to cite without a model's judgement */
  vetted: boolean
}

const CANDIDATES = 5
/** articles the builtin provider may quote from */
const KEEP = 3
/** articles a model is shown, best first, while their bodies fit in MODEL_CONTEXT_CHARS */
const MODEL_ARTICLES = CANDIDATES
const MODEL_CONTEXT_CHARS = 9000
const QUERY_CHARS = 4000
const QUERY_TERMS = 64
const ARTICLE_CHARS = 3000

const a = kbArticles

type Candidate = RetrievedArticle & { matched: number; titleMatched: number; terms: number }

/**
 * The candidates for `text` (an SQL text expression, so that it can be read
 * from the ticket in the same statement); pickArticles() keeps the good ones.
 */
export function articlesQuery(tenantId: string, text: SQL): SQL {
  return sql`with terms as (
          select array(
            select distinct lexeme from unnest(to_tsvector('english', left(${text}, ${QUERY_CHARS})))
            where lexeme ~ '^[[:alnum:]]+$' limit ${QUERY_TERMS}) as lexemes
        ), query as (
          select lexemes, nullif(array_to_string(
            array(select quote_literal(l) from unnest(lexemes) l), ' | '), '')::tsquery as q
          from terms
        )
        select ${a.id} as id, ${a.title} as title, left(${a.body}, ${ARTICLE_CHARS}) as body,
          ts_headline('english', ${a.body}, query.q,
            'StartSel="", StopSel="", MinWords=15, MaxWords=45, MaxFragments=2, FragmentDelimiter=" … "')
            as excerpt,
          cardinality(array(select unnest(tsvector_to_array(${a.search}))
                            intersect select unnest(query.lexemes)))::int as matched,
          cardinality(array(select unnest(tsvector_to_array(to_tsvector('english', ${a.title})))
                            intersect select unnest(query.lexemes)))::int as "titleMatched",
          cardinality(query.lexemes)::int as terms
        from ${a}, query
        where ${a.tenantId} = ${tenantId} and ${a.published} and query.q is not null
          and ${a.search} @@ query.q
        order by ts_rank(${a.search}, query.q) desc, ${a.id}
        limit ${CANDIDATES}`
}

/** Who judges which candidates answer the ticket: the threshold below, or the model. */
export type ArticlePolicy = 'vetted' | 'ranked'

export function pickArticles(
  rows: Record<string, unknown>[],
  policy: ArticlePolicy,
): RetrievedArticle[] {
  const candidates = (rows as Candidate[]).map((c) => ({ ...c, vetted: goodEnough(c) }))
  const picked =
    policy === 'vetted'
      ? candidates.filter((c) => c.vetted).slice(0, KEEP)
      : withinBudget(candidates.slice(0, MODEL_ARTICLES))
  return picked.map(({ id, title, body, excerpt, vetted }) => ({
    id,
    title,
    body,
    excerpt,
    vetted,
  }))
}

/** The best-ranked candidates whose title and body fit the budget together (always the best one). */
function withinBudget(ranked: (Candidate & { vetted: boolean })[]) {
  const kept: typeof ranked = []
  let used = 0
  for (const article of ranked) {
    const size = article.title.length + article.body.length
    if (kept.length > 0 && used + size > MODEL_CONTEXT_CHARS) continue
    kept.push(article)
    used += size
  }
  return kept
}

function goodEnough(c: Candidate): boolean {
  if (c.matched < Math.min(2, c.terms)) return false
  return c.titleMatched >= 1 || c.matched * 3 >= c.terms
}
