// Deny by default. Every route declares who may call it in `config.access`:
//   'public'  anyone (health, docs, login, signup, ...)
//   'user'    an authenticated user, not tenant-scoped (/v1/auth/me, /v1/tenants)
//   'visitor' a signed-in user (not an API key) in the request's tenant, member
//             or not: the tenant is resolved as for 'tenant' (400, 404), and
//             no membership is needed (POST /v1/portal/join, the one route a
//             non-member may call in a tenant); request.tenant carries the
//             caller's membership when there is one, else no role and no
//             permissions
//   'mail'    a mail gateway: the platform's INBOUND_EMAIL_TOKEN, or a tenant's
//             API key holding email:ingest (POST /v1/inbound/email); the route
//             brings that check as its own onRequest hook (modules/inbound),
//             and a 'mail' route without one refuses to start
//   'tenant'  a member of the request's tenant (or an API key of it), holding
//             what `config.permission` names, if anything:
//     'tickets:write'                 that permission (403 forbidden otherwise)
//     { anyOf: ['ai:use', ...] }      at least one of them (403 forbidden)
//     { allOf: ['contacts:write', 'tenant:manage'] }
//                                     every one of them (403 forbidden); with
//                                     anyOf too, both must hold
//     { ..., owner: true }            and the caller's role is the owner role,
//                                     checked after the permissions (403 owner_required)
//     { ..., unlessSelf: 'userId' }   no permission needed when that path
//                                     parameter is the caller's own user id (leaving)
//     { ..., hideAs: 'job' }          refused as 404 not_found ("The job was not
//                                     found."), not 403: the caller learns nothing
//                                     of what exists
// This plugin wires the matching guards onto each route as it is registered and
// refuses to start when a route declares nothing, so a forgotten guard is a
// failed start, not a hole. It writes the declaration to the route's OpenAPI
// operation as `x-access` and `x-permission` (the same string or object), which
// clients and the permission-matrix test read. Rules that depend on the
// resource's data (who outranks whom, which ticket fields a caller may change)
// are not route guards: they live in each module's service or guards file.
// The guards themselves are app.authenticate (plugins/auth.ts),
// app.resolveTenant (plugins/tenant.ts) and the permission guards below.
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import { type Caller, callerFrom } from '../domain/tickets/caller.ts'
import type { Permission } from '../lib/permissions.ts'
import { Forbidden, NotFound } from '../lib/problems.ts'

export type Access = 'public' | 'user' | 'visitor' | 'mail' | 'tenant'

/** What a tenant route needs beyond membership: see the header comment. */
export type PermissionRule =
  | Permission
  | {
      /** at least one of these */
      anyOf?: readonly Permission[]
      /** every one of these */
      allOf?: readonly Permission[]
      /** and the caller's role is the tenant's owner role */
      owner?: true
      /** the path parameter that, naming the caller's own user id, waives the permissions */
      unlessSelf?: string
      /** refuse as a 404 for this kind of thing rather than a 403 */
      hideAs?: string
    }

/** Who the request is, set by app.authenticate. */
export type AuthContext = {
  via: 'bearer' | 'cookie' | 'api_key'
  userId: string | null
  sessionId: string | null
  apiKeyId: string | null
  /** an API key acts in its own tenant only, with its permissions narrowed to its creator's */
  apiKeyTenantId: string | null
  apiKeyPermissions: readonly Permission[] | null
  /** the person behind an API key (its creator): what the key does is bounded by their rights */
  apiKeyCreatedBy: string | null
  isPlatformAdmin: boolean
}

/** The tenant of the request and the caller's standing in it, set by app.resolveTenant. */
export type TenantContext = {
  id: string
  slug: string
  name: string
  roleId: string | null
  roleName: string | null
  /** expanded: includes every permission that a held one includes (lib/permissions.ts) */
  permissions: ReadonlySet<Permission>
}

/** The caller of a tenant route, as the ticket rules see it (the rule is the domain's). */
export function callerOf(request: FastifyRequest): Caller {
  return callerFrom({
    tenantId: request.tenant!.id,
    permissions: request.tenant!.permissions,
    userId: request.auth!.userId,
    apiKeyId: request.auth!.apiKeyId,
  })
}

/**
 * The person answerable for a request: the signed-in user, or the creator of
 * the API key. What the request creates (a key, an invitation) records them,
 * so it follows their rights later, whichever credential made it.
 */
export function personBehind(auth: AuthContext | null): string | null {
  return auth?.userId ?? auth?.apiKeyCreatedBy ?? null
}

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
    permission?: PermissionRule
  }
  interface FastifyRequest {
    auth: AuthContext | null
    tenant: TenantContext | null
  }
  interface FastifyInstance {
    /** 401 unless the request carries a valid credential; sets request.auth */
    authenticate: Guard
    /** 400/404 unless the request names a tenant the caller belongs to; sets request.tenant */
    resolveTenant: Guard
    /** 400/404 unless the request names a live tenant; sets request.tenant, member or not */
    resolveVisitedTenant: Guard
  }
}

/** Swagger UI's own static routes; /openapi.json declares itself. */
const PUBLIC_PREFIXES = ['/docs']

function asArray<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

export function requirePermission(permission: Permission): preHandlerHookHandler {
  return async function permissionGuard(request) {
    if (!request.tenant?.permissions.has(permission)) {
      throw new Forbidden('forbidden', `This needs the ${permission} permission.`)
    }
  }
}

/**
 * How a refusal words what the rule needs: "the a permission", "one of: a, b",
 * "the a and b permissions", "the a and b permissions and one of: c, d".
 */
function neededPermissions(anyOf: readonly Permission[], allOf: readonly Permission[]): string {
  const all = [...allOf, ...(anyOf.length === 1 ? anyOf : [])]
  const parts: string[] = []
  if (all.length > 0) {
    parts.push(
      all.length === 1 ? `the ${all[0]} permission` : `the ${all.join(' and ')} permissions`,
    )
  }
  if (anyOf.length > 1) parts.push(`one of: ${anyOf.join(', ')}`)
  return parts.join(' and ')
}

function requireRulePermissions(rule: Exclude<PermissionRule, Permission>): preHandlerHookHandler {
  const { anyOf = [], allOf = [], unlessSelf, hideAs } = rule
  const needs = neededPermissions(anyOf, allOf)
  return async function rulePermissionGuard(request) {
    if (unlessSelf !== undefined) {
      const named = (request.params as Record<string, string | undefined>)[unlessSelf]
      if (named !== undefined && named === request.auth?.userId) return
    }
    const held = request.tenant?.permissions
    if (
      held &&
      (anyOf.length === 0 || anyOf.some((p) => held.has(p))) &&
      allOf.every((p) => held.has(p))
    ) {
      return
    }
    if (hideAs !== undefined) throw new NotFound(hideAs)
    throw new Forbidden('forbidden', `This needs ${needs}.`)
  }
}

const requireOwner: preHandlerHookHandler = async function ownerGuard(request) {
  if (request.tenant?.roleName !== 'owner') {
    throw new Forbidden('owner_required', 'Only an owner of the tenant can do this.')
  }
}

/** The guards of a tenant route's config.permission, in the order they run. */
function permissionGuards(rule: PermissionRule | undefined): preHandlerHookHandler[] {
  if (rule === undefined) return []
  if (typeof rule === 'string') return [requirePermission(rule)]
  if ((rule.anyOf?.length ?? 0) + (rule.allOf?.length ?? 0) === 0) {
    throw new Error('config.permission: anyOf and allOf name no permission')
  }
  return [requireRulePermissions(rule), ...(rule.owner ? [requireOwner] : [])]
}

/** oauth2 is the same Bearer access token, got through /v1/auth/token (Swagger UI's Authorize). */
const SECURITY = {
  public: [],
  user: [{ bearerAuth: [] }, { oauth2: [] }, { cookieAuth: [] }],
  visitor: [{ bearerAuth: [] }, { oauth2: [] }, { cookieAuth: [] }],
  mail: [{ inboundToken: [] }, { apiKey: [] }],
  tenant: [{ bearerAuth: [] }, { oauth2: [] }, { apiKey: [] }, { cookieAuth: [] }],
}

/** The OpenAPI security of a route follows from its access, unless it says otherwise. */
function documentAccess(route: RouteOptions, access: Access) {
  if (!route.schema) return
  const schema = route.schema as Record<string, unknown>
  schema.security ??= SECURITY[access]
  // Clients (and the permission-matrix test) read the guard from the document.
  schema['x-access'] = access
  if (route.config?.permission) schema['x-permission'] = route.config.permission
  // The X-Tenant-ID header of tenant routes is documented by plugins/docs.ts.
}

async function accessPlugin(app: FastifyInstance) {
  app.decorateRequest('auth', null)
  app.decorateRequest('tenant', null)

  const authenticate: onRequestHookHandler = async function authenticateGuard(request, reply) {
    await app.authenticate(request, reply)
  }
  const requireUser: preHandlerHookHandler = async function userGuard(request) {
    if (!request.auth?.userId) {
      throw new Forbidden('user_required', 'This needs a signed-in user, not an API key.')
    }
  }
  const resolveTenant: preHandlerHookHandler = async function tenantGuard(request, reply) {
    await app.resolveTenant(request, reply)
  }
  const resolveVisitedTenant: preHandlerHookHandler = async function visitorGuard(request, reply) {
    await app.resolveVisitedTenant(request, reply)
  }

  app.addHook('onRoute', (route: RouteOptions) => {
    const access = route.config?.access
    if (!access) {
      // CORS preflights answer every path and carry no data.
      if (route.method === 'OPTIONS') return
      if (PUBLIC_PREFIXES.some((p) => route.url.startsWith(p))) return
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no config.access ` +
          "('public', 'user', 'visitor', 'mail' or 'tenant'): refusing to start with an unguarded route",
      )
    }
    documentAccess(route, access)
    if (access === 'public') return
    if (access === 'mail') {
      if (asArray(route.onRequest).length === 0) {
        throw new Error(
          `Route ${String(route.method)} ${route.url}: access 'mail' without its gate`,
        )
      }
      return
    }
    route.onRequest = [authenticate, ...asArray(route.onRequest)]
    const guards: preHandlerHookHandler[] = []
    if (access === 'user') guards.push(requireUser)
    if (access === 'visitor') guards.push(requireUser, resolveVisitedTenant)
    if (access === 'tenant') {
      guards.push(resolveTenant, ...permissionGuards(route.config?.permission))
    } else if (route.config?.permission) {
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares a permission without access 'tenant'`,
      )
    }
    route.preHandler = [...guards, ...asArray(route.preHandler)]
  })
}

export default fp(accessPlugin, { name: 'access' })
