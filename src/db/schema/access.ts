// The tenant boundary: roles, memberships, invitations and API keys. All are
// tenant-scoped with row-level security (drizzle/*_rls_*.sql), and composite
// foreign keys (tenant_id, x_id) so no row can point into another tenant.
import { sql } from 'drizzle-orm'
import {
  boolean,
  foreignKey,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core'
import { createdAt, primaryId, updatedAt } from './columns.ts'
import { tenantRef } from './tenants.ts'
import { users } from './users.ts'

export const roles = pgTable(
  'roles',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    permissions: text('permissions').array().notNull().default(sql`'{}'::text[]`),
    /** owner, admin, agent, customer: created with the tenant, never edited */
    builtin: boolean('builtin').notNull().default(false),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique('roles_tenant_id_id_key').on(t.tenantId, t.id),
    uniqueIndex('roles_tenant_name_key').on(t.tenantId, sql`lower(${t.name})`),
  ],
)

export const memberships = pgTable(
  'memberships',
  {
    tenantId: tenantRef(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    roleId: uuid('role_id').notNull(),
    active: boolean('active').notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.userId] }),
    foreignKey({
      name: 'memberships_role_fk',
      columns: [t.tenantId, t.roleId],
      foreignColumns: [roles.tenantId, roles.id],
    }),
    index('memberships_user_idx').on(t.userId),
    index('memberships_tenant_role_idx').on(t.tenantId, t.roleId),
  ],
)

export const invitations = pgTable(
  'invitations',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    email: text('email').notNull(),
    roleId: uuid('role_id').notNull(),
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    /** minted by the email job (the raw token exists only in the email) */
    tokenHash: text('token_hash'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    acceptedBy: uuid('accepted_by').references(() => users.id, { onDelete: 'set null' }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('invitations_tenant_id_id_key').on(t.tenantId, t.id),
    foreignKey({
      name: 'invitations_role_fk',
      columns: [t.tenantId, t.roleId],
      foreignColumns: [roles.tenantId, roles.id],
    }),
    uniqueIndex('invitations_token_hash_key').on(t.tokenHash),
    index('invitations_tenant_created_idx').on(t.tenantId, t.createdAt),
  ],
)

export const apiKeys = pgTable(
  'api_keys',
  {
    id: primaryId(),
    tenantId: tenantRef(),
    name: text('name').notNull(),
    /** the public id part of `dp_<prefix>_<secret>`, used to find the key */
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    permissions: text('permissions').array().notNull(),
    createdBy: uuid('created_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    unique('api_keys_tenant_id_id_key').on(t.tenantId, t.id),
    uniqueIndex('api_keys_prefix_key').on(t.prefix),
    index('api_keys_tenant_created_idx').on(t.tenantId, t.createdAt),
  ],
)
