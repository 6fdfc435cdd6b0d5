// Verifies a machine credential `dp_<prefix>_<secret>`. The prefix finds the key
// through the narrow api_key_by_prefix read path (no tenant is known yet); the
// secret is compared by its SHA-256 digest in constant time. A key acts only in
// its own tenant, with its stored permissions narrowed to what the person who
// created it holds now (plugins/tenant.ts), so it carries that person's id.
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm'
import type { DatabaseHandle } from '../../db/client.ts'
import { apiKeys } from '../../db/schema/access.ts'
import { withScope } from '../../db/scoped.ts'
import { isPermission, type Permission } from '../../lib/permissions.ts'
import { hashToken, sameDigest } from '../../lib/tokens.ts'

export const API_KEY_PATTERN = /^dp_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/

export type VerifiedApiKey = {
  apiKeyId: string
  tenantId: string
  permissions: Permission[]
  /** the person whose rights bound the key; null once that account is deleted */
  createdBy: string | null
}

/** lastUsedAt is written at most once a minute per key, so hot keys cost no write per request. */
const LAST_USED_RESOLUTION_MS = 60_000

export async function verifyApiKey(
  database: DatabaseHandle,
  token: string,
): Promise<VerifiedApiKey | null> {
  const match = API_KEY_PATTERN.exec(token)
  if (!match) return null
  const [, prefix, secret] = match as unknown as [string, string, string]
  const [key] = await withScope(database, { apiKeyPrefix: prefix }, (tx) =>
    tx
      .select({
        id: apiKeys.id,
        tenantId: apiKeys.tenantId,
        secretHash: apiKeys.secretHash,
        permissions: apiKeys.permissions,
        createdBy: apiKeys.createdBy,
        expiresAt: apiKeys.expiresAt,
        revokedAt: apiKeys.revokedAt,
        lastUsedAt: apiKeys.lastUsedAt,
      })
      .from(apiKeys)
      .where(eq(apiKeys.prefix, prefix)),
  )
  if (!key || !sameDigest(key.secretHash, hashToken(secret))) return null
  const now = Date.now()
  if (key.revokedAt || (key.expiresAt && key.expiresAt.getTime() <= now)) return null
  if (!key.lastUsedAt || now - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
    await withScope(database, { tenantId: key.tenantId }, (tx) =>
      tx
        .update(apiKeys)
        .set({ lastUsedAt: sql`now()` })
        .where(
          and(
            eq(apiKeys.tenantId, key.tenantId),
            eq(apiKeys.id, key.id),
            or(
              isNull(apiKeys.lastUsedAt),
              lt(apiKeys.lastUsedAt, sql`now() - interval '1 minute'`),
            ),
          ),
        ),
    )
  }
  return {
    apiKeyId: key.id,
    tenantId: key.tenantId,
    permissions: key.permissions.filter(isPermission),
    createdBy: key.createdBy,
  }
}
