// What a failed query tells the log and the error handler. Drizzle wraps the
// driver's error in one whose message and fields hold the whole SQL and every
// parameter value (a 100 KB message body, a password hash); the log gets the
// statement's name, the SQLSTATE code and the server's message instead.

/** The PostgreSQL error (postgres.js or PGlite) inside `error`, if there is one. */
type DatabaseError = {
  code: string
  message: string
  severity?: string
  routine?: string
  constraint_name?: string
  /** PGlite's name for constraint_name */
  constraint?: string
  table_name?: string
  column_name?: string
}

function isDatabaseError(value: unknown): value is DatabaseError {
  if (typeof value !== 'object' || value === null) return false
  const { code, severity } = value as { code?: unknown; severity?: unknown }
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string'
}

export function databaseErrorOf(error: unknown): DatabaseError | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current; depth++) {
    if (isDatabaseError(current)) return current
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * The constraint a failed statement violated, when it failed with `sqlstate`
 * (23505: a unique index; 23503: a foreign key), else null: how a write tells
 * a race it lost (a duplicate inserted meanwhile) from a failure.
 */
export function violatedConstraint(error: unknown, sqlstate: '23505' | '23503'): string | null {
  const database = databaseErrorOf(error)
  if (database?.code !== sqlstate) return null
  return database.constraint_name ?? database.constraint ?? null
}

/** `insert into "messages"`, `update "tickets"`, `select from "tickets"`: which statement, no values. */
function statementName(text: string): string {
  const sqlText = text.trim()
  const write = /^(insert\s+into|update|delete\s+from)\s+("[^"]+"|[\w.]+)/i.exec(sqlText)
  if (write) return `${write[1]?.toLowerCase().replace(/\s+/g, ' ')} ${write[2]}`
  const verb = /^\w+/.exec(sqlText)?.[0]?.toLowerCase() ?? 'query'
  const from = /\bfrom\s+("[^"]+"|[\w.]+)/i.exec(sqlText)
  return from ? `${verb} from ${from[1]}` : verb
}

// The server quotes a rejected value at the end of some messages
// (`invalid input syntax for type uuid: "..."`): that is a parameter value.
const QUOTED_VALUE = /: ".*"$/s

/** The log's view of a failed query, or undefined when `error` is not one. */
export function serializeDatabaseError(error: unknown): Record<string, unknown> | undefined {
  const database = databaseErrorOf(error)
  const query = (error as { query?: unknown }).query
  if (!database && typeof query !== 'string') return undefined
  const err = error as Error
  return {
    type: err.name,
    message: 'database query failed',
    statement: typeof query === 'string' ? statementName(query) : undefined,
    code: database?.code,
    dbMessage: database?.message.replace(QUOTED_VALUE, ': [value]').slice(0, 200),
    severity: database?.severity,
    routine: database?.routine,
    constraint: database?.constraint_name,
    table: database?.table_name,
    column: database?.column_name,
    // The stack's first line repeats the message (SQL and values): frames only.
    stack: err.stack
      ?.split('\n')
      .filter((line) => line.startsWith('    at '))
      .join('\n'),
  }
}
