// Tenant resolution: which tenant a request is about (X-Tenant-ID, id or slug;
// else the subdomain of Host under BASE_DOMAIN; the header wins), and the
// caller's standing in it (a membership's role, or an API key's own tenant and
// permissions). No tenant named → 400 tenant_required; a tenant that does not
// exist, is deleted, or that the caller does not belong to → the same 404.
// Permissions are expanded here (lib/permissions.ts: tickets:read_all grants
// tickets:read, ...), so every guard and check downstream sees what is granted.
//
// An API key acts for the person who created it, with its own permissions
// narrowed to what that person holds now: the creator's membership is read
// through the same cache, so removing, deactivating or demoting them changes
// what their keys can do on the next request in every api copy. A key whose
// creator is no longer an active member (or whose account is gone) stops
// working altogether, rather than running on with nobody answerable for it.
//
// A visitor route (POST /v1/portal/join) resolves the tenant the same way but
// needs no membership: resolveVisitedTenant.
//
// Tenants and memberships are cached per process for a few seconds; writes
// invalidate every api copy at once through Redis (lib/invalidating-cache.ts),
// so a removed member or a changed role takes effect immediately.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { loadMembership, type MemberStanding } from '../domain/members/memberships.ts'
import { findTenantByReference } from '../domain/tenants/tenants.ts'
import { createInvalidatingCache, type InvalidatingCache } from '../lib/invalidating-cache.ts'
import { intersectPermissions } from '../lib/permissions.ts'
import { BadRequest, NotFound, Unauthorized } from '../lib/problems.ts'

type CachedTenant = Awaited<ReturnType<typeof findTenantByReference>>
type CachedMembership = MemberStanding | null

declare module 'fastify' {
  interface FastifyInstance {
    tenantCaches: {
      tenants: InvalidatingCache<CachedTenant>
      memberships: InvalidatingCache<CachedMembership>
    }
  }
}

/**
 * The membership cache's key of a user in a tenant; without a user, the
 * prefix that invalidates every membership of the tenant (a role changed).
 */
export function membershipCacheKey(tenantId: string, userId?: string): string {
  return `${tenantId}:${userId ?? ''}`
}

/** The tenant reference of a request: the header, else the subdomain under BASE_DOMAIN. */
export function tenantReference(request: FastifyRequest, baseDomain: string | undefined) {
  const header = request.headers['x-tenant-id']
  if (typeof header === 'string' && header.trim() !== '') return header.trim().toLowerCase()
  if (!baseDomain) return null
  const host = (request.hostname ?? '').toLowerCase()
  const suffix = `.${baseDomain}`
  if (!host.endsWith(suffix)) return null
  const sub = host.slice(0, -suffix.length)
  return sub && !sub.includes('.') ? sub : null
}

async function tenantPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts
  const common = { redis: app.redis, channelPrefix: config.REDIS_PREFIX, maxEntries: 50_000 }
  const tenantCache = await createInvalidatingCache<CachedTenant>({
    ...common,
    name: 'tenants',
    ttlMs: 30_000,
  })
  const membershipCache = await createInvalidatingCache<CachedMembership>({
    ...common,
    name: 'memberships',
    ttlMs: 5_000,
  })
  app.decorate('tenantCaches', { tenants: tenantCache, memberships: membershipCache })
  app.addHook('onClose', async () => {
    await tenantCache.close()
    await membershipCache.close()
  })

  const loadTenant = (ref: string) => findTenantByReference(app.db, ref)

  const membershipOf = (tenantId: string, userId: string) =>
    membershipCache.get(membershipCacheKey(tenantId, userId), () =>
      loadMembership(app.database, tenantId, userId),
    )

  /** The live tenant the request names: 400 when it names none, 404 when there is no such tenant. */
  const namedTenant = async (request: FastifyRequest) => {
    const ref = tenantReference(request, config.BASE_DOMAIN)
    if (!ref) {
      throw new BadRequest(
        'tenant_required',
        'Name the tenant with the X-Tenant-ID header (id or slug) or its subdomain.',
      )
    }
    if (!request.auth) throw new Unauthorized()
    const tenant = await tenantCache.get(ref, () => loadTenant(ref))
    if (!tenant) throw new NotFound('tenant')
    return tenant
  }

  // A visitor (access 'visitor': a signed-in user joining through the portal)
  // needs no membership; it gets its standing when it has one, so the route
  // can tell a member from a stranger.
  app.decorate('resolveVisitedTenant', async (request: FastifyRequest) => {
    const tenant = await namedTenant(request)
    const userId = request.auth?.userId
    if (!userId) throw new Unauthorized()
    const membership = await membershipOf(tenant.id, userId)
    request.tenant = membership
      ? { ...tenant, ...membership }
      : { ...tenant, roleId: null, roleName: null, permissions: new Set() }
  })

  app.decorate('resolveTenant', async (request: FastifyRequest) => {
    const tenant = await namedTenant(request)
    const auth = request.auth
    if (!auth) throw new Unauthorized()

    if (auth.via === 'api_key') {
      if (auth.apiKeyTenantId !== tenant.id) throw new NotFound('tenant')
      const creatorId = auth.apiKeyCreatedBy
      const creator = creatorId ? await membershipOf(tenant.id, creatorId) : null
      if (!creator) {
        throw new Unauthorized(
          'invalid_token',
          'The API key no longer works: the person who created it is no longer an active member.',
        )
      }
      request.tenant = {
        ...tenant,
        roleId: null,
        roleName: null,
        permissions: intersectPermissions(auth.apiKeyPermissions ?? [], creator.permissions),
      }
      return
    }
    const userId = auth.userId
    if (!userId) throw new Unauthorized()
    const membership = await membershipOf(tenant.id, userId)
    if (!membership) throw new NotFound('tenant')
    request.tenant = { ...tenant, ...membership }
  })
}

export default fp(tenantPlugin, { name: 'tenant', dependencies: ['db', 'redis', 'access'] })
