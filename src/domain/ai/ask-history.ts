// The copilot's history (ai_questions): each question and the answer it got,
// the asker's own (a user, or an API key), read newest first in cursor pages
// and cleared by its asker. Nobody else reads another's history, not even an
// admin: it is a working notebook, not an audit trail (ai_generations is that).
import { type SQL, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { type AskSource, aiQuestions } from '../../db/schema/ai.ts'
import { readInScope, writeInScope } from '../../db/scoped.ts'
import { cursorTime, isoTime, selectList } from '../../db/sql-fragments.ts'
import { decodeCursor, TimeIdCursor, toPage } from '../../lib/cursor.ts'
import type { AskHistoryEntry, AskHistoryQuery } from './ask-schemas.ts'

const q = aiQuestions

/** Who asked: a user, or an API key (which has no user). */
export type Asker = { tenantId: string; userId: string | null; apiKeyId: string | null }

function ownedBy(asker: Asker): SQL {
  return asker.userId
    ? sql`${q.tenantId} = ${asker.tenantId} and ${q.userId} = ${asker.userId}`
    : sql`${q.tenantId} = ${asker.tenantId} and ${q.userId} is null and ${q.apiKeyId} = ${asker.apiKeyId}`
}

export async function storeAnswer(
  database: DatabaseHandle,
  asker: Asker,
  entry: {
    id: string
    question: string
    answer: string
    sources: AskSource[]
    ticketId: string | null
  },
) {
  await writeInScope(
    database,
    { tenantId: asker.tenantId },
    sql`insert into ${q} (id, tenant_id, user_id, api_key_id, question, answer, sources, ticket_id)
        values (${entry.id}, ${asker.tenantId}, ${asker.userId}, ${asker.userId ? null : asker.apiKeyId},
          ${entry.question}, ${entry.answer}, ${JSON.stringify(entry.sources)}::jsonb, ${entry.ticketId})`,
  )
}

const entryColumns = selectList({
  id: q.id,
  question: q.question,
  answer: q.answer,
  sources: q.sources,
  ticketId: q.ticketId,
  createdAt: isoTime(q.createdAt),
})

export async function listHistory(database: DatabaseHandle, asker: Asker, query: AskHistoryQuery) {
  const limit = query.limit ?? 20
  const filters: SQL[] = [ownedBy(asker)]
  const key = decodeCursor(query.cursor, TimeIdCursor)
  if (key) filters.push(sql`(${q.createdAt}, ${q.id}) < (${key[0]}::timestamptz, ${key[1]}::uuid)`)
  const rows = await readInScope<AskHistoryEntry & { cursorAt: string }>(
    database,
    { tenantId: asker.tenantId },
    sql`select ${entryColumns}, ${cursorTime(q.createdAt)} as "cursorAt" from ${q}
        where ${sql.join(filters, sql` and `)}
        order by ${q.createdAt} desc, ${q.id} desc limit ${limit + 1}`,
  )
  const page = toPage(rows, limit, (row) => [row.cursorAt, row.id])
  return { ...page, data: page.data.map(({ cursorAt: _, ...entry }) => entry) }
}

export async function clearHistory(database: DatabaseHandle, asker: Asker) {
  await writeInScope(
    database,
    { tenantId: asker.tenantId },
    sql`delete from ${q} where ${ownedBy(asker)}`,
  )
}
