// Knowledge-base articles: queries and the one visibility rule (readers
// without kb:write see published articles only; others are a 404 to them).
// Search is PostgreSQL full text over a generated column (title weight A,
// body weight B), ranked; the same ranking is what AI replies cite from
// (domain/ai/kb-retrieval.ts). Each call is one statement, sent pipelined
// with its tenant scope.
import { type SQL, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import { uuidv7 } from 'uuidv7'
import type { DatabaseHandle } from '../../db/client.ts'
import { kbArticles } from '../../db/schema/helpdesk.ts'
import { readInScope, writeInScope } from '../../db/scoped.ts'
import { bare, cursorTime, isoTime, searchQuery, textArray } from '../../db/sql-fragments.ts'
import { CursorId, CursorRank, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import type { Permission } from '../../lib/permissions.ts'
import { NotFound } from '../../lib/problems.ts'
import { normaliseTags } from '../../lib/tags.ts'
import { eventCtes } from '../events/record.ts'
import { passageCtes } from './passages.ts'
import type { Article, ListArticlesQuery } from './schemas.ts'

const a = kbArticles
const columns = sql`${a.id} as "id", ${a.title} as "title", ${a.body} as "body",
  ${a.tags} as "tags", ${a.keywords} as "keywords", ${a.published} as "published", ${a.authorId} as "authorId",
  ${isoTime(a.createdAt)} as "createdAt", ${isoTime(a.updatedAt)} as "updatedAt"`

const RankIdCursor = Type.Tuple([CursorRank, CursorId])

/** Who reads the knowledge base: an editor (kb:write) sees drafts too. */
export type Reader = { tenantId: string; editor: boolean }

export function readerFrom(tenantId: string, permissions: ReadonlySet<Permission>): Reader {
  return { tenantId, editor: permissions.has('kb:write') }
}

type NewArticle = {
  title: string
  body: string
  tags?: string[]
  keywords?: string[]
  published?: boolean
}
type ArticlePatch = Partial<NewArticle>

function visible(reader: Reader): SQL {
  const published = reader.editor ? sql`` : sql` and ${a.published}`
  return sql`${a.tenantId} = ${reader.tenantId}${published}`
}

export async function listArticles(
  database: DatabaseHandle,
  reader: Reader,
  query: ListArticlesQuery,
) {
  const ranked = Boolean(query.q)
  const tsquery = searchQuery(query.q ?? '')
  const rank = sql`ts_rank(${a.search}, ${tsquery})`
  const filters: SQL[] = [visible(reader)]
  if (query.q) filters.push(sql`${a.search} @@ ${tsquery}`)
  if (query.tag) filters.push(sql`${a.tags} @> array[${normaliseTags([query.tag])[0]}]::text[]`)
  if (reader.editor && query.published !== undefined) {
    filters.push(sql`${a.published} = ${query.published}`)
  }
  const key = decodeCursor(query.cursor, ranked ? RankIdCursor : TimeIdCursor)
  if (key) {
    const [value, id] = key
    filters.push(
      ranked
        ? sql`(${rank}, ${a.id}) < (${Number(value)}::real, ${id}::uuid)`
        : sql`(${a.updatedAt}, ${a.id}) < (${String(value)}::timestamptz, ${id}::uuid)`,
    )
  }
  const order = ranked
    ? sql`"rank" desc, ${a.id} desc`
    : sql`${a.updatedAt} desc nulls last, ${a.id} desc nulls last`
  const sortColumn = ranked
    ? sql`, ${rank} as "rank"`
    : sql`, ${cursorTime(a.updatedAt)} as "cursorAt"`
  const rows = await readInScope<Article & { rank?: number; cursorAt?: string }>(
    database,
    { tenantId: reader.tenantId },
    sql`select ${columns}${sortColumn}
      from ${a} where ${sql.join(filters, sql` and `)} order by ${order} limit ${query.limit + 1}`,
  )
  return toPage(rows, query.limit, (r) => [ranked ? (r.rank ?? 0) : (r.cursorAt ?? ''), r.id])
}

export async function getArticle(
  database: DatabaseHandle,
  reader: Reader,
  id: string,
): Promise<Article> {
  const [row] = await readInScope<Article>(
    database,
    { tenantId: reader.tenantId },
    sql`select ${columns} from ${a} where ${visible(reader)} and ${a.id} = ${id}`,
  )
  if (!row) throw new NotFound('article')
  return row
}

/**
 * kb_article.published, as CTEs of the statement that writes the article
 * (`written`): `from` says when the write published it (a new article written
 * published, or a draft that became one); otherwise no event and no sequence.
 */
function publishedEvent(tenantId: string, from: SQL): SQL {
  return eventCtes(
    {
      tenantId,
      type: 'kb_article.published',
      data: sql`jsonb_build_object('article', to_jsonb(written) - 'wasPublished')`,
    },
    from,
  )
}

export async function createArticle(
  database: DatabaseHandle,
  tenantId: string,
  authorId: string | null,
  input: NewArticle,
): Promise<Article> {
  const id = uuidv7()
  const [row] = await writeInScope<Article>(
    database,
    { tenantId },
    sql`with written as (
          insert into ${a} (${bare(a.id)}, ${bare(a.tenantId)}, ${bare(a.title)}, ${bare(a.body)},
                           ${bare(a.tags)}, ${bare(a.keywords)}, ${bare(a.published)}, ${bare(a.authorId)})
          values (${id}, ${tenantId}, ${input.title}, ${input.body},
                  ${textArray(normaliseTags(input.tags ?? []))},
                  ${textArray(normaliseKeywords(input.keywords ?? []))}, ${input.published ?? false},
                  ${authorId})
          returning ${columns}),
        ${passageCtes(tenantId, id, input.body)},
        ${publishedEvent(tenantId, sql`written where written.published`)}
        select * from written`,
  )
  if (!row) throw new Error('article insert returned no row')
  return row
}

export async function updateArticle(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  patch: ArticlePatch,
): Promise<Article> {
  const set: SQL[] = [sql`${bare(a.updatedAt)} = now()`]
  if (patch.title !== undefined) set.push(sql`${bare(a.title)} = ${patch.title}`)
  if (patch.body !== undefined) set.push(sql`${bare(a.body)} = ${patch.body}`)
  if (patch.tags !== undefined) {
    set.push(sql`${bare(a.tags)} = ${textArray(normaliseTags(patch.tags))}`)
  }
  if (patch.keywords !== undefined) {
    set.push(sql`${bare(a.keywords)} = ${textArray(normaliseKeywords(patch.keywords))}`)
  }
  if (patch.published !== undefined) set.push(sql`${bare(a.published)} = ${patch.published}`)
  const [row] = await writeInScope<Article>(
    database,
    { tenantId },
    // The row as it was comes from the locked subquery (RETURNING shows only the new one).
    sql`with written as (
          update ${a} set ${sql.join(set, sql`, `)}
          from (select ${a.id} as id, ${a.published} as was from ${a}
                where ${a.tenantId} = ${tenantId} and ${a.id} = ${id} for update) before
          where ${a.tenantId} = ${tenantId} and ${a.id} = before.id
          returning ${columns}, before.was as "wasPublished"),
        ${passageCtes(tenantId, id, patch.body)},
        ${publishedEvent(tenantId, sql`written where written.published and not written."wasPublished"`)}
        select * from written`,
  )
  if (!row) throw new NotFound('article')
  return row
}

/** Keywords as written, trimmed, without blanks or repeats (case-insensitive). */
function normaliseKeywords(keywords: string[]): string[] {
  const seen = new Set<string>()
  return keywords
    .map((k) => k.trim().replace(/\s+/g, ' '))
    .filter((k) => k && !seen.has(k.toLowerCase()) && seen.add(k.toLowerCase()))
}

// Its passages go with it (kb_passages_article_fk, on delete cascade).
export async function deleteArticle(database: DatabaseHandle, tenantId: string, id: string) {
  const rows = await writeInScope<{ id: string }>(
    database,
    { tenantId },
    sql`delete from ${a} where ${a.tenantId} = ${tenantId} and ${a.id} = ${id} returning ${a.id} as id`,
  )
  if (rows.length === 0) throw new NotFound('article')
}
