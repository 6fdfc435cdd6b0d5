// Deny by default. Every route declares who may call it in `config.access`:
//   'public'  anyone (health, docs, login, signup, ...)
//   'user'    an authenticated user, not tenant-scoped (/v1/auth/me, /v1/tenants)
//   'tenant'  a member of the request's tenant (or an API key of it), optionally
//             holding `config.permission`
// This plugin wires the matching guards onto each route as it is registered and
// refuses to start when a route declares nothing, so a forgotten guard is a
// failed start, not a hole. The guards themselves are app.authenticate
// (plugins/auth.ts) and app.resolveTenant (plugins/tenant.ts).
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
  RouteOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import type { Permission } from '../lib/permissions.ts'
import { Forbidden } from '../lib/problems.ts'

export type Access = 'public' | 'user' | 'tenant'

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
    permission?: Permission
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

/** oauth2 is the same Bearer access token, got through /v1/auth/token (Swagger UI's Authorize). */
const SECURITY = {
  public: [],
  user: [{ bearerAuth: [] }, { oauth2: [] }, { cookieAuth: [] }],
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

  app.addHook('onRoute', (route: RouteOptions) => {
    const access = route.config?.access
    if (!access) {
      // CORS preflights answer every path and carry no data.
      if (route.method === 'OPTIONS') return
      if (PUBLIC_PREFIXES.some((p) => route.url.startsWith(p))) return
      throw new Error(
        `Route ${String(route.method)} ${route.url} declares no config.access ` +
          "('public', 'user' or 'tenant'): refusing to start with an unguarded route",
      )
    }
    documentAccess(route, access)
    if (access === 'public') return
    route.onRequest = [authenticate, ...asArray(route.onRequest)]
    const guards: preHandlerHookHandler[] = []
    if (access === 'user') guards.push(requireUser)
    if (access === 'tenant') {
      guards.push(resolveTenant)
      const permission = route.config?.permission
      if (permission) guards.push(requirePermission(permission))
    }
    route.preHandler = [...guards, ...asArray(route.preHandler)]
  })
}

export default fp(accessPlugin, { name: 'access' })
