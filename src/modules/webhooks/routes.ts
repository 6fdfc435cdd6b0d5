// /v1/webhooks: a tenant's webhook endpoints, their deliveries log, a test and
// a redeliver; all of it needs webhooks:manage. The rules are the domain's
// (domain/webhooks/); deliveries are made by the worker (jobs/webhooks/).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Config } from '../../config.ts'
import { requestActor } from '../../domain/audit/record.ts'
import { createTestDelivery, listDeliveries, redeliver } from '../../domain/webhooks/deliveries.ts'
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookDeps,
} from '../../domain/webhooks/endpoints.ts'
import {
  CreateWebhookBody,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookWithSecret,
} from '../../domain/webhooks/schemas.ts'
import { Page, ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { secretBoxOf } from '../../lib/secret-box.ts'

const tags = ['webhooks']
const access = { access: 'tenant', permission: 'webhooks:manage' } as const

const WebhookParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)
const DeliveryParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), deliveryId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

const webhookRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, opts) => {
  const { config } = opts
  app.addSchema(Webhook)
  app.addSchema(WebhookDelivery)
  const deps: WebhookDeps = {
    database: app.database,
    box: secretBoxOf(config),
    urls: {
      allowHttp: config.WEBHOOK_ALLOW_HTTP,
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    },
  }
  const urlProblems = problemResponses({
    400: ['validation_failed', 'tenant_required'],
    422: ['invalid_webhook_url'],
  })

  app.get(
    '/webhooks',
    {
      config: access,
      schema: {
        operationId: 'listWebhooks',
        tags,
        summary: "The tenant's webhook endpoints, newest first",
        description: 'Needs webhooks:manage. Secrets are never shown again after creation.',
        querystring: ListWebhooksQuery,
        response: {
          200: Page(Webhook, { description: 'A page of endpoints' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) =>
      listWebhooks(app.database, request.tenant!.id, {
        limit: request.query.limit ?? 20,
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
      }),
  )

  app.post(
    '/webhooks',
    {
      config: access,
      schema: {
        operationId: 'createWebhook',
        tags,
        summary: 'Add a webhook endpoint',
        description:
          'Needs webhooks:manage. Answers the signing secret (`whsec_...`) this once. Each ' +
          'event of a type in `events` (or every event with `["*"]`) is POSTed to `url`, ' +
          'signed per the Standard Webhooks specification, retried with backoff for up to 3 ' +
          'days. A URL that is not https, has credentials, or names a loopback, private, ' +
          'link-local or metadata address answers 422 `invalid_webhook_url`; the address a ' +
          'name resolves to is checked again at every delivery. Audited as `webhook.created`.',
        body: CreateWebhookBody,
        response: {
          201: WebhookWithSecret,
          ...tenantRouteProblems,
          ...urlProblems,
        },
      },
    },
    async (request, reply) => {
      const webhook = await createWebhook(
        deps,
        request.tenant!.id,
        request.body,
        requestActor(request),
      )
      return reply.code(201).header('location', `/v1/webhooks/${webhook.id}`).send(webhook)
    },
  )

  app.get(
    '/webhooks/:id',
    {
      config: access,
      schema: {
        operationId: 'getWebhook',
        tags,
        summary: 'One webhook endpoint',
        description: 'Needs webhooks:manage.',
        params: WebhookParams,
        response: { 200: ref(Webhook, { description: 'The endpoint' }), ...tenantRouteProblems },
      },
    },
    async (request) => getWebhook(app.database, request.tenant!.id, request.params.id),
  )

  app.patch(
    '/webhooks/:id',
    {
      config: access,
      schema: {
        operationId: 'updateWebhook',
        tags,
        summary: 'Change a webhook endpoint',
        description:
          'Needs webhooks:manage. Only the fields sent change. `active: false` stops ' +
          'deliveries (those waiting for a retry are cancelled); `active: true` turns an ' +
          'endpoint Deskpilot disabled on again and counts its failures anew. Audited as ' +
          '`webhook.updated`.',
        params: WebhookParams,
        body: UpdateWebhookBody,
        response: {
          200: ref(Webhook, { description: 'The changed endpoint' }),
          ...tenantRouteProblems,
          ...urlProblems,
        },
      },
    },
    async (request) =>
      updateWebhook(
        deps,
        request.tenant!.id,
        request.params.id,
        request.body,
        requestActor(request),
      ),
  )

  app.delete(
    '/webhooks/:id',
    {
      config: access,
      schema: {
        operationId: 'deleteWebhook',
        tags,
        summary: 'Delete a webhook endpoint and its deliveries log',
        description: 'Needs webhooks:manage. Audited as `webhook.deleted`.',
        params: WebhookParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...tenantRouteProblems },
      },
    },
    async (request, reply) => {
      await deleteWebhook(
        app.database,
        request.tenant!.id,
        request.params.id,
        requestActor(request),
      )
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config: access,
      schema: {
        operationId: 'rotateWebhookSecret',
        tags,
        summary: 'A new signing secret',
        description:
          'Needs webhooks:manage. Answers the new secret this once. For 24 hours every ' +
          'delivery carries two signatures in `webhook-signature`, one per secret, so the ' +
          'receiver can switch without missing one. Audited as `webhook.secret_rotated`.',
        params: WebhookParams,
        response: { 200: WebhookWithSecret, ...tenantRouteProblems },
      },
    },
    async (request) =>
      rotateWebhookSecret(deps, request.tenant!.id, request.params.id, requestActor(request)),
  )

  app.post(
    '/webhooks/:id/test',
    {
      config: access,
      schema: {
        operationId: 'testWebhook',
        tags,
        summary: 'Send a webhook.test event now',
        description:
          'Needs webhooks:manage. Whatever the endpoint’s `events` filter, and even while it is ' +
          'inactive: one attempt, not retried, shown in the deliveries log. Answers 202 with ' +
          'the delivery; its attempt follows within a moment.',
        params: WebhookParams,
        response: {
          202: ref(WebhookDelivery, { description: 'The test delivery, before its attempt' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      const { delivery, job } = await createTestDelivery(
        app.database,
        request.tenant!.id,
        request.params.id,
      )
      await app.jobs.dispatch([job])
      return reply.code(202).send(delivery)
    },
  )

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: access,
      schema: {
        operationId: 'listWebhookDeliveries',
        tags,
        summary: "An endpoint's deliveries, newest first, with every attempt",
        description:
          'Needs webhooks:manage. Each attempt shows its time, the status or the error, the ' +
          "latency and the first KiB of the receiver's answer. Kept as long as events are " +
          '(EVENT_RETENTION_DAYS).',
        params: WebhookParams,
        querystring: ListDeliveriesQuery,
        response: {
          200: Page(WebhookDelivery, { description: 'A page of deliveries' }),
          ...tenantRouteProblems,
          ...problemResponses({ 400: ['validation_failed', 'tenant_required', 'invalid_cursor'] }),
        },
      },
    },
    async (request) =>
      listDeliveries(app.database, request.tenant!.id, request.params.id, request.query),
  )

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: access,
      schema: {
        operationId: 'redeliverWebhook',
        tags,
        summary: 'Attempt a delivery once more',
        description:
          'Needs webhooks:manage. One more attempt of the same delivery, with the same ' +
          '`webhook-id`, whatever its state and even while the endpoint is inactive; not ' +
          'retried. Answers 202; the attempt shows in the deliveries log within a moment.',
        params: DeliveryParams,
        response: {
          202: ref(WebhookDelivery, { description: 'The delivery, before the new attempt' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request, reply) => {
      const { delivery, job } = await redeliver(
        app.database,
        request.tenant!.id,
        request.params.id,
        request.params.deliveryId,
      )
      await app.jobs.dispatch([job])
      return reply.code(202).send(delivery)
    },
  )
}

export default webhookRoutes
