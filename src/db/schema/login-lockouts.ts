// Failed sign-ins counted per email address, whether or not an account has that
// address, so a lock (423) answers the same for a stranger's address as for a
// real one and tells nobody who is registered. Keyed by the SHA-256 of the
// normalised address: the table never holds addresses that tried and failed.
// Not tenant-scoped (an address is global, like users), so no row-level security.
import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'

export const loginLockouts = pgTable('login_lockouts', {
  /** SHA-256 (hex) of the normalised (trimmed, lowercased) email address */
  emailHash: text('email_hash').primaryKey(),
  /** consecutive failures since the last success, unlock or expired lock */
  failures: integer('failures').notNull().default(0),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})
