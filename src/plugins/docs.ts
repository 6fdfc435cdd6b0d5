// The OpenAPI document (built from the routes' TypeBox schemas) at
// /openapi.json and Swagger UI at /docs. Off with DOCS_ENABLED=false, and by default in production.
//
// Everything a route says about itself (examples, descriptions, error codes)
// lives on its schema; only what cuts across routes is added here: the
// security schemes, the X-Tenant-ID header of every tenant-scoped route, and
// component names taken from the shared schemas' $ids.
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { type TObject, type TSchema, Type } from 'typebox'
import type { Config } from '../config.ts'
import { EXAMPLE_TENANT_SLUG } from '../lib/examples.ts'
import { cookieNames } from './auth.ts'

export const TAGS = [
  { name: 'auth', description: 'Accounts, sessions, tokens and cookies' },
  { name: 'tenants', description: 'Organizations and the current tenant' },
  { name: 'members', description: 'Members, invitations, roles and permissions' },
  { name: 'api-keys', description: 'Machine credentials' },
  { name: 'tickets', description: 'Tickets and messages' },
  { name: 'attachments', description: 'Files: uploads attached to messages' },
  { name: 'kb', description: 'Knowledge-base articles' },
  { name: 'contacts', description: 'The people a tenant supports: requesters, erasure' },
  { name: 'portal', description: 'Customers joining a tenant on their own' },
  { name: 'events', description: 'The event feed: every change, in order' },
  { name: 'webhooks', description: 'Events pushed to your endpoints, signed, retried, logged' },
  { name: 'ai', description: "The tenant's AI provider, its model list, generations and usage" },
  { name: 'jobs', description: 'Background jobs' },
  { name: 'audit', description: 'Security and admin events' },
  { name: 'operations', description: 'Health, readiness and metrics' },
]

const DESCRIPTION = `Multi-tenant, AI-assisted customer support. Errors are RFC 9457 \`application/problem+json\` with a stable \`code\`.

## Getting started

1. **Sign up**: open \`POST /v1/auth/signup\`, choose *Try it out* and *Execute*. The example body creates an account and its first tenant (slug \`${EXAMPLE_TENANT_SLUG}\`); change the email and slug if they are taken.
2. **Authorize**: copy \`accessToken\` from the answer, press **Authorize**, paste it into **bearerAuth** and press *Authorize*. Authorization is kept across reloads of this page. An access token lives 15 minutes by default: \`POST /v1/auth/refresh\` or a new login gives another.
3. **Name the tenant**: every tenant-scoped route needs the \`X-Tenant-ID\` header, the tenant's id or slug (here \`${EXAMPLE_TENANT_SLUG}\`); it is a field of each such operation, filled in with the example.
4. **Open a ticket** with \`POST /v1/tickets\`, then list it with \`GET /v1/tickets\`.

Signing up or logging in here also sets the session cookies, so the next calls from this page are authenticated even without Authorize. A cookie-authenticated \`POST\`, \`PUT\`, \`PATCH\` or \`DELETE\` needs the session's CSRF token in \`X-CSRF-Token\`: this page sends it for you, read from the script-readable CSRF cookie. Other clients take \`csrfToken\` from the signup, login or refresh answer, or use a Bearer token, which needs no CSRF token.`

/**
 * The ways to authenticate, by name (routes name them in `security`). A new
 * scheme is one more entry here; plugins/access.ts decides which routes list it.
 */
export function securitySchemes(config: Config) {
  const cookies = cookieNames(config.COOKIE_SECURE)
  return {
    bearerAuth: {
      type: 'http' as const,
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'The `accessToken` of /v1/auth/signup, /v1/auth/login or /v1/auth/refresh',
    },
    // Swagger UI's Authorize button signs in with an email and a password
    // through the token endpoint; the token it gets is the Bearer access token.
    oauth2: {
      type: 'oauth2' as const,
      description:
        'Email (as username) and password through the OAuth2 password grant; ' +
        'gives the same Bearer access token as /v1/auth/login',
      flows: {
        password: { tokenUrl: '/v1/auth/token', refreshUrl: '/v1/auth/token', scopes: {} },
      },
    },
    inboundToken: {
      type: 'http' as const,
      scheme: 'bearer',
      description: 'INBOUND_EMAIL_TOKEN, the platform secret of POST /v1/inbound/email',
    },
    apiKey: {
      type: 'http' as const,
      scheme: 'bearer',
      bearerFormat: 'dp_<key>',
      description: 'A tenant API key, sent as `Authorization: Bearer dp_...`',
    },
    cookieAuth: {
      type: 'apiKey' as const,
      in: 'cookie' as const,
      name: cookies.access,
      description:
        'The browser session cookie set by signup and login; state-changing requests also ' +
        `need \`X-CSRF-Token\` (the \`csrfToken\` of the answer, or the \`${cookies.csrf}\` cookie)`,
    },
  }
}

/** The X-Tenant-ID header, declared once for every route whose access is 'tenant' or 'visitor'. */
function tenantHeader(config: Config): TSchema {
  const header = Type.String({
    minLength: 1,
    description: config.BASE_DOMAIN
      ? `The tenant, by id or slug; optional on a subdomain of ${config.BASE_DOMAIN}`
      : 'The tenant, by id or slug',
    examples: [EXAMPLE_TENANT_SLUG],
  })
  return config.BASE_DOMAIN ? Type.Optional(header) : header
}

type RouteSchema = Record<string, unknown> & { headers?: TObject }

function documentTenantHeader(config: Config): FastifyDynamicSwaggerOptions['transform'] {
  const header = tenantHeader(config)
  return ({ schema, url, route }) => {
    const access = route.config?.access
    if ((access !== 'tenant' && access !== 'visitor') || !schema) return { schema, url }
    // A route's own spelling of the header, if any, gives way to this one.
    const own = Object.entries((schema as RouteSchema).headers?.properties ?? {}).filter(
      ([name]) => name.toLowerCase() !== 'x-tenant-id',
    )
    const headers = Type.Object({ 'X-Tenant-ID': header, ...Object.fromEntries(own) })
    return { schema: { ...schema, headers } as typeof schema, url }
  }
}

/** A Swagger UI request interceptor: runs in the browser, so it must not close over anything. */
function sendCsrfTokenFromCookie(request: { headers: Record<string, string> }) {
  const cookies = (globalThis as unknown as { document: { cookie: string } }).document.cookie
  const match = /(?:^|;\s*)(?:__Host-)?dp_csrf=([^;]+)/.exec(cookies)
  if (match?.[1] && request.headers['X-CSRF-Token'] === undefined) {
    request.headers['X-CSRF-Token'] = decodeURIComponent(match[1])
  }
  return request
}

async function docsPlugin(app: FastifyInstance, opts: { config: Config }) {
  const { config } = opts
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Deskpilot API',
        version: '1.0.0',
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        {
          url: config.PUBLIC_URL ?? '/',
          description: config.PUBLIC_URL ? 'This deployment' : 'The server serving this document',
        },
      ],
      tags: TAGS,
      components: { securitySchemes: securitySchemes(config) },
    },
    // Components are named after the shared schemas' $ids (Ticket, Problem, ...).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform: documentTenantHeader(config),
  })

  if (!config.DOCS_ENABLED) return

  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  )
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      deepLinking: true,
      persistAuthorization: true,
      validatorUrl: null,
      // Signing up through "Try it out" leaves session cookies in this browser;
      // cookie-authenticated writes then need the CSRF header, sent from the cookie.
      requestInterceptor: sendCsrfTokenFromCookie,
    } as Record<string, unknown>,
    uiHooks: {},
  })
}

export default fp(docsPlugin, { name: 'docs' })
