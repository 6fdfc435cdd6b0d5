// Column definitions every table repeats: a time-ordered UUID key and
// creation/update times. (The tenant reference lives beside the tenants table.)
import { customType, timestamp, uuid } from 'drizzle-orm/pg-core'
import { uuidv7 } from 'uuidv7'

export const primaryId = () => uuid('id').primaryKey().$defaultFn(uuidv7)

export const createdAt = () =>
  timestamp('created_at', { withTimezone: true }).notNull().defaultNow()

export const updatedAt = () =>
  timestamp('updated_at', { withTimezone: true }).notNull().defaultNow()

/** PostgreSQL's full-text document type (drizzle-orm has no column type for it). */
export const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })
