// Knowledge-base articles: queries and the one visibility rule (callers
// without kb:write see published articles only; others are a 404 to them).
// Search is PostgreSQL full text over a generated column (title weight A,
// body weight B), ranked; the same ranking is what AI replies cite from.
import { type SQL, sql } from 'drizzle-orm'
import { Type } from 'typebox'
import { uuidv7 } from 'uuidv7'
import type { DbOrTx } from '../../db/client.ts'
import { kbArticles } from '../../db/schema/helpdesk.ts'
import { rowsOf } from '../../db/scoped.ts'
import { cursorTime, isoTime, searchQuery, textArray } from '../../db/sql-fragments.ts'
import { CursorId, CursorRank, decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import { normaliseTags } from '../../lib/tags.ts'
import type { ArticleView, ListArticlesQuery } from './schemas.ts'

const a = kbArticles
const columns = sql`${a.id} as "id", ${a.title} as "title", ${a.body} as "body",
  ${a.tags} as "tags", ${a.published} as "published", ${a.authorId} as "authorId",
  ${isoTime(a.createdAt)} as "createdAt", ${isoTime(a.updatedAt)} as "updatedAt"`

const RankIdCursor = Type.Tuple([CursorRank, CursorId])

export type Reader = { tenantId: string; editor: boolean }

function visible(reader: Reader): SQL {
  const published = reader.editor ? sql`` : sql` and ${a.published}`
  return sql`${a.tenantId} = ${reader.tenantId}${published}`
}

export function listArticlesQuery(reader: Reader, query: ListArticlesQuery) {
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
  const statement = sql`select ${columns}${sortColumn}
    from ${a} where ${sql.join(filters, sql` and `)} order by ${order} limit ${query.limit + 1}`
  type Row = ArticleView & { rank?: number; cursorAt?: string }
  return {
    statement,
    toPage: (rows: Row[]) =>
      toPage(rows, query.limit, (r) => [ranked ? (r.rank ?? 0) : (r.cursorAt ?? ''), r.id]),
  }
}

export async function getArticle(tx: DbOrTx, reader: Reader, id: string) {
  const [row] = await rowsOf<ArticleView>(
    tx,
    sql`select ${columns} from ${a} where ${visible(reader)} and ${a.id} = ${id}`,
  )
  return row ?? null
}

export async function createArticle(
  tx: DbOrTx,
  tenantId: string,
  authorId: string | null,
  input: { title: string; body: string; tags?: string[]; published?: boolean },
) {
  const [row] = await rowsOf<ArticleView>(
    tx,
    sql`insert into ${a} (id, tenant_id, title, body, tags, published, author_id)
        values (${uuidv7()}, ${tenantId}, ${input.title}, ${input.body},
                ${textArray(normaliseTags(input.tags ?? []))}, ${input.published ?? false}, ${authorId})
        returning ${columns}`,
  )
  if (!row) throw new Error('article insert returned no row')
  return row
}

export async function updateArticle(
  tx: DbOrTx,
  tenantId: string,
  id: string,
  patch: { title?: string; body?: string; tags?: string[]; published?: boolean },
) {
  const set: SQL[] = [sql`updated_at = now()`]
  if (patch.title !== undefined) set.push(sql`title = ${patch.title}`)
  if (patch.body !== undefined) set.push(sql`body = ${patch.body}`)
  if (patch.tags !== undefined) set.push(sql`tags = ${textArray(normaliseTags(patch.tags))}`)
  if (patch.published !== undefined) set.push(sql`published = ${patch.published}`)
  const [row] = await rowsOf<ArticleView>(
    tx,
    sql`update ${a} set ${sql.join(set, sql`, `)}
        where ${a.tenantId} = ${tenantId} and ${a.id} = ${id} returning ${columns}`,
  )
  return row ?? null
}

export async function deleteArticle(tx: DbOrTx, tenantId: string, id: string) {
  const rows = await rowsOf<{ id: string }>(
    tx,
    sql`delete from ${a} where ${a.tenantId} = ${tenantId} and ${a.id} = ${id} returning ${a.id} as id`,
  )
  return rows.length > 0
}
