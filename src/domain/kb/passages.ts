// Knowledge-base passages: an article's body split by heading and paragraph
// into pieces of bounded size, what retrieval ranks and what a reply quotes
// (a whole article is too long to quote and dilutes a model's context). The
// split is done here, in JavaScript, and written by the very statement that
// writes the article (articles.ts), so passages never lag behind it; deleting
// an article deletes its passages (foreign key, on delete cascade).
//
// Splitting: blocks are separated by blank lines; a block whose first line is
// a Markdown heading (`#` to `######`) starts a section. Consecutive
// paragraphs of one section are merged while they fit in TARGET_CHARS, so a
// passage is a few sentences that belong together; a paragraph longer than
// MAX_CHARS is cut at sentence ends (or, failing those, at spaces).
import { type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { kbPassages } from '../../db/schema/kb-passages.ts'
import { bare } from '../../db/sql-fragments.ts'

export type Passage = { heading: string; body: string }

const TARGET_CHARS = 700
const MAX_CHARS = 1200
const HEADING = /^#{1,6}[ \t]+(.+?)[ \t#]*$/

export function splitArticle(body: string): Passage[] {
  const passages: Passage[] = []
  let heading = ''
  let current: string[] = []
  let size = 0
  const flush = () => {
    if (current.length > 0) passages.push({ heading, body: current.join('\n\n') })
    current = []
    size = 0
  }
  for (const block of body.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/)) {
    const lines = block.trim().split('\n')
    const title = HEADING.exec(lines[0] ?? '')
    if (title) {
      flush()
      heading = title[1]!.trim()
      lines.shift()
    }
    const text = lines.join('\n').trim()
    if (!text) continue
    for (const piece of cut(text)) {
      if (size > 0 && size + piece.length > TARGET_CHARS) flush()
      current.push(piece)
      size += piece.length
    }
  }
  flush()
  // An article with no text under its headings is still found by its title.
  return passages.length > 0 ? passages : [{ heading, body: '' }]
}

/** A paragraph in pieces of at most MAX_CHARS, cut after a sentence where one ends in time. */
function cut(text: string): string[] {
  const pieces: string[] = []
  let rest = text
  while (rest.length > MAX_CHARS) {
    const window = rest.slice(0, MAX_CHARS)
    const sentenceEnd = Math.max(
      ...['. ', '! ', '? ', '.\n', '\n'].map((end) => window.lastIndexOf(end)),
    )
    const at = sentenceEnd > MAX_CHARS / 3 ? sentenceEnd + 1 : window.lastIndexOf(' ')
    const end = at > 0 ? at : MAX_CHARS
    pieces.push(rest.slice(0, end).trim())
    rest = rest.slice(end).trim()
  }
  if (rest) pieces.push(rest)
  return pieces
}

const p = kbPassages

/**
 * CTEs that write an article's passages from `written` (the CTE that wrote the
 * article, with its title, keywords and published flag as columns). With a
 * new body, positions are upserted and those past the new count deleted (the
 * two touch different rows, so the unique key never sees a transient clash);
 * an upserted passage drops its embedding when its text changed. Without one
 * (a patch of the title, keywords or published flag only), the copied
 * columns are updated, and embeddings of a retitled article dropped.
 */
export function passageCtes(tenantId: string, articleId: string, body: string | undefined): SQL {
  const keywords = sql`array_to_string(written.keywords, ', ')`
  if (body === undefined) {
    return sql`passages as (
        update ${p} set ${bare(p.title)} = written.title, ${bare(p.keywords)} = ${keywords},
          ${bare(p.published)} = written.published,
          ${bare(p.embedding)} = case when ${p.title} = written.title and ${p.keywords} = ${keywords}
                                 then ${p.embedding} end,
          ${bare(p.embeddingBits)} = case when ${p.title} = written.title and ${p.keywords} = ${keywords}
                                     then ${p.embeddingBits} end,
          ${bare(p.embeddingModel)} = case when ${p.title} = written.title and ${p.keywords} = ${keywords}
                                      then ${p.embeddingModel} end
        from written
        where ${p.tenantId} = ${tenantId} and ${p.articleId} = ${articleId})`
  }
  const records = splitArticle(body).map((passage, position) => ({
    id: uuidv7(),
    position,
    ...passage,
  }))
  const changed = sql`(${p.title}, ${p.keywords}, ${p.heading}, ${p.body})
    is distinct from (excluded.title, excluded.keywords, excluded.heading, excluded.body)`
  return sql`passages as (
      insert into ${p} (${bare(p.id)}, ${bare(p.tenantId)}, ${bare(p.articleId)}, ${bare(p.position)},
                        ${bare(p.title)}, ${bare(p.keywords)}, ${bare(p.heading)}, ${bare(p.body)},
                        ${bare(p.published)})
      select r.id, ${tenantId}, written.id, r.position, written.title, ${keywords}, r.heading, r.body,
             written.published
      from written, jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as r(id uuid, position smallint, heading text, body text)
      on conflict (tenant_id, article_id, position) do update set
        title = excluded.title, keywords = excluded.keywords, heading = excluded.heading,
        body = excluded.body, published = excluded.published,
        embedding = case when ${changed} then null else ${p.embedding} end,
        embedding_bits = case when ${changed} then null else ${p.embeddingBits} end,
        embedding_model = case when ${changed} then null else ${p.embeddingModel} end
      returning ${p.position} as position),
    stale_passages as (
      delete from ${p}
      where ${p.tenantId} = ${tenantId} and ${p.articleId} = ${articleId}
        and exists (select 1 from written)
        and ${p.position} >= ${records.length})`
}
