// API keys of a tenant: `dp_<prefix>_<secret>`, shown once, stored as the
// SHA-256 of the secret. The prefix is public (it finds the key and appears in
// lists); verification lives in credentials.ts. A key holds only permissions
// its creator holds; creating and revoking one is audited.
import { randomBytes } from 'node:crypto'
import { and, desc, eq, isNull, sql } from 'drizzle-orm'
import type { Static } from 'typebox'
import type { DatabaseHandle } from '../../db/client.ts'
import { apiKeys } from '../../db/schema/access.ts'
import { withScope } from '../../db/scoped.ts'
import { assertHoldsAll, type Permission } from '../../lib/permissions.ts'
import { BadRequest, NotFound } from '../../lib/problems.ts'
import { hashToken, randomToken } from '../../lib/tokens.ts'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import type { ApiKey } from './schemas.ts'

type ApiKeyRow = typeof apiKeys.$inferSelect

const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

function randomPrefix(): string {
  // 12 characters from 36: ~62 bits, plenty for a unique lookup id.
  return [...randomBytes(12)].map((b) => PREFIX_ALPHABET[b % 36]).join('')
}

function presentApiKey(row: ApiKeyRow): Static<typeof ApiKey> {
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
function assertKeyWithinCaller(held: Iterable<string>, wanted: Iterable<string>) {
  assertHoldsAll(held, wanted, {
    code: 'permission_escalation',
    detail: (missing) => `A key cannot hold permissions you do not hold: ${missing}.`,
  })
}

/** Creates a key; its secret is in `key`, which is never readable again. */
export async function createApiKey(
  database: DatabaseHandle,
  caller: { tenantId: string; permissions: ReadonlySet<Permission> },
  input: { name: string; permissions: Permission[]; expiresAt?: string; createdBy: string | null },
  actor: AuditActor,
) {
  assertKeyWithinCaller(caller.permissions, input.permissions)
  if (input.expiresAt && Date.parse(input.expiresAt) <= Date.now()) {
    throw new BadRequest('validation_failed', 'expiresAt must be in the future.', [
      { path: 'body/expiresAt', message: 'must be in the future' },
    ])
  }
  const { tenantId } = caller
  const prefix = randomPrefix()
  const secret = randomToken(32)
  const row = await withScope(database, { tenantId }, async (tx) => {
    const [created] = await tx
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
    const key = created!
    await recordAudit(tx, {
      tenantId,
      action: 'api_key.created',
      targetType: 'api_key',
      targetId: key.id,
      data: { name: key.name, permissions: key.permissions },
      ...actor,
    })
    return key
  })
  return { ...presentApiKey(row), key: `dp_${prefix}_${secret}` }
}

/** The tenant's active keys, newest first. */
export async function listApiKeys(database: DatabaseHandle, tenantId: string) {
  const rows = await withScope(database, { tenantId }, (tx) =>
    tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
      .orderBy(desc(apiKeys.createdAt)),
  )
  return rows.map(presentApiKey)
}

export async function revokeApiKey(
  database: DatabaseHandle,
  tenantId: string,
  id: string,
  actor: AuditActor,
): Promise<void> {
  await withScope(database, { tenantId }, async (tx) => {
    const [row] = await tx
      .update(apiKeys)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
      .returning({ id: apiKeys.id, name: apiKeys.name })
    if (!row) throw new NotFound('API key')
    await recordAudit(tx, {
      tenantId,
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: row.id,
      data: { name: row.name },
      ...actor,
    })
  })
}
