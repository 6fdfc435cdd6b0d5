// Contacts: the people a tenant supports. A ticket's requester is a contact,
// not a user account: most customers write in by email or through an
// integration and never sign up. A customer member is linked to its contact
// (user_id), and sees that contact's tickets. Tenant-scoped with row-level
// security (drizzle/0015_rls_contacts_mail_files.sql).
import { sql } from 'drizzle-orm'
import { index, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core'
import { createdAt, primaryId, tsvector, updatedAt } from './columns.ts'
import { tenantRef } from './tenants.ts'
import { users } from './users.ts'

export const contacts = pgTable(
  'contacts',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    /**
     * normalised by domain/contacts/contact-email.ts (NFKC, lowercase, domain
     * in ASCII); null once erased
     */
    email: text('email'),
    name: text('name'),
    /** the tenant's own id for this person */
    externalId: text('external_id'),
    /** the customer member who is this person */
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    erasedAt: timestamp('erased_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** name and email words, for q (prefix matches through :*) */
    search: tsvector('search')
      .notNull()
      .generatedAlwaysAs(
        sql`to_tsvector('simple'::regconfig, coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || replace(coalesce(email, ''), '@', ' '))`,
      ),
  },
  (t) => [
    unique('contacts_tenant_id_id_key').on(t.tenantId, t.id),
    uniqueIndex('contacts_tenant_email_key').on(t.tenantId, t.email),
    uniqueIndex('contacts_tenant_external_id_key').on(t.tenantId, t.externalId),
    uniqueIndex('contacts_tenant_user_key').on(t.tenantId, t.userId),
    index('contacts_created_idx').on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    // The list's email-prefix match (starts_with, leakproof, so usable under
    // row-level security): text_pattern_ops compares bytes, so the index
    // serves a prefix in any database collation, not only in "C".
    index('contacts_email_prefix_idx').on(t.tenantId, t.email.op('text_pattern_ops')),
    index('contacts_search_idx').using('gin', t.tenantId, t.search),
  ],
)
