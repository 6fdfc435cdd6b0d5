// API keys of a tenant: `dp_<prefix>_<secret>`, shown once, stored as the
// SHA-256 of the secret. The prefix is public (it finds the key and appears in
// lists); verification lives in lib/api-key-credentials.ts.
import { randomBytes } from 'node:crypto'
import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.ts'
import { apiKeys } from '../../db/schema/access.ts'
import { assertHoldsAll, type Permission } from '../../lib/permissions.ts'
import { hashToken, randomToken } from '../../lib/tokens.ts'

type ApiKeyRow = typeof apiKeys.$inferSelect

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

function randomPrefix(): string {
  // 12 characters from 36: ~62 bits, plenty for a unique lookup id.
  return [...randomBytes(12)].map((b) => PREFIX_ALPHABET[b % 36]).join('')
}

export function presentApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    name: row.name,
    prefix: `dp_${row.prefix}`,
    permissions: row.permissions as Permission[],
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  }
}

/** A key holds only permissions its creator holds (inclusions counted). */
export function assertKeyWithinCaller(held: Iterable<string>, wanted: Iterable<string>) {
  assertHoldsAll(held, wanted, {
    code: 'permission_escalation',
    detail: (missing) => `A key cannot hold permissions you do not hold: ${missing}.`,
  })
}

export async function createApiKey(
  tx: DbOrTx,
  tenantId: string,
  input: { name: string; permissions: Permission[]; expiresAt?: string; createdBy: string | null },
) {
  const prefix = randomPrefix()
  const secret = randomToken(32)
  const [row] = await tx
    .insert(apiKeys)
    .values({
      tenantId,
      name: input.name,
      prefix,
      secretHash: hashToken(secret),
      permissions: [...new Set(input.permissions)],
      createdBy: input.createdBy,
      expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
    })
    .returning()
  return { row: row!, key: `dp_${prefix}_${secret}` }
}

export async function listApiKeys(tx: DbOrTx, tenantId: string) {
  return tx
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .orderBy(desc(apiKeys.createdAt))
}

export async function revokeApiKey(tx: DbOrTx, tenantId: string, id: string) {
  const [row] = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id, name: apiKeys.name })
  return row ?? null
}
