// Which tenant an inbound mail is for: the first of its recipients that is an
// address of INBOUND_DOMAIN naming a live tenant, `<slug>@INBOUND_DOMAIN`
// (plus-addressing allowed: `acme+billing@…` is acme's). Only the first 100
// recipients are looked at (the parser keeps no more).
import type { DatabaseHandle } from '../../db/client.ts'
import { findTenantByReference } from '../tenants/tenants.ts'

/** The slug an address names at `domain`, or null when it is not one of its addresses. */
export function slugOfAddress(address: string, domain: string): string | null {
  const at = address.lastIndexOf('@')
  if (at < 1 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null
  const local = address.slice(0, at).toLowerCase().split('+')[0] ?? ''
  return /^[a-z0-9-]{3,40}$/.test(local) ? local : null
}

export async function tenantOfRecipients(
  database: DatabaseHandle,
  recipients: readonly string[],
  domain: string | undefined,
): Promise<{ id: string; slug: string } | null> {
  if (!domain) return null
  const slugs = [...new Set(recipients.map((r) => slugOfAddress(r, domain)))]
  for (const slug of slugs) {
    if (slug === null) continue
    const tenant = await findTenantByReference(database.db, slug)
    if (tenant) return tenant
  }
  return null
}
