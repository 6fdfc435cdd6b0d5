// The OpenAPI document (built from the routes' TypeBox schemas) at
// /openapi.json and Swagger UI at /docs. Off with DOCS_ENABLED=false, and by default in production.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'
import { cookieNames } from './auth.ts'

export const TAGS = [
  { name: 'auth', description: 'Accounts, sessions, tokens and cookies' },
  { name: 'tenants', description: 'Organizations and the current tenant' },
  { name: 'members', description: 'Members, invitations, roles and permissions' },
  { name: 'api-keys', description: 'Machine credentials' },
  { name: 'tickets', description: 'Tickets and messages' },
  { name: 'kb', description: 'Knowledge-base articles' },
  { name: 'jobs', description: 'Background jobs' },
  { name: 'audit', description: 'Security and admin events' },
  { name: 'operations', description: 'Health, readiness and metrics' },
]

async function docsPlugin(app: FastifyInstance, opts: { config: Config }) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Deskpilot API',
        version: '1.0.0',
        description:
          'Multi-tenant, AI-assisted customer support. Errors are RFC 9457 problem+json; ' +
          'tenant-scoped routes take the tenant from `X-Tenant-ID` (id or slug) or the subdomain.',
      },
      tags: TAGS,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'Access token from /v1/auth/login or /v1/auth/refresh',
          },
          // Swagger UI's Authorize button signs in with an email and a password
          // through the token endpoint; the token it gets is the Bearer access token.
          oauth2: {
            type: 'oauth2',
            description:
              'Email (as username) and password through the OAuth2 password grant; ' +
              'gives the same Bearer access token as /v1/auth/login',
            flows: {
              password: {
                tokenUrl: '/v1/auth/token',
                refreshUrl: '/v1/auth/token',
                scopes: {},
              },
            },
          },
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'dp_<key>',
            description: 'A tenant API key, sent as `Authorization: Bearer dp_...`',
          },
          cookieAuth: {
            type: 'apiKey',
            in: 'cookie',
            // The access cookie's real name (plugins/auth.ts), prefix and all.
            name: cookieNames(opts.config.COOKIE_SECURE).access,
            description: 'Browser session cookie; state-changing requests also need `X-CSRF-Token`',
          },
        },
      },
    },
  })

  if (!opts.config.DOCS_ENABLED) return

  app.get('/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  )
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiConfig: { deepLinking: true, persistAuthorization: false, validatorUrl: null },
    uiHooks: {},
  })
}

export default fp(docsPlugin, { name: 'docs' })
