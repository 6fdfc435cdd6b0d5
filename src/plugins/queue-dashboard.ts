// The BullMQ dashboard (@bull-board/fastify) under /admin/queues, for platform
// admins only; mounted by the jobs plugin when QUEUE_DASHBOARD=true. Read-only:
// the outbox row is the truth about a job, so retrying or removing jobs behind
// its back from a dashboard would only confuse it.
//
// bull-board registers its own routes and cannot be told their route options,
// so this encapsulated plugin wraps `route` for everything registered inside it:
// each dashboard route (UI, API, static assets) declares access 'user' and gets
// the platform-admin guard, and answers its errors as problem+json. An onRoute
// hook here would be Fastify's usual way, but it runs too late: the access
// plugin's onRoute hook, on the root, runs first and refuses any route without
// config.access. That refusal is also the safety net: a dashboard route that
// ever bypassed this wrapper would stop the app at start, which the dashboard
// test in tests/jobs/outbox.test.ts would show.
import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
  RouteOptions,
} from 'fastify'
import type { Queues } from '../jobs/producer.ts'
import { Forbidden, Problem, Unauthorized } from '../lib/problems.ts'
import { sendProblem } from './errors.ts'

/** Anyone but a signed-in platform admin is turned away. */
const requirePlatformAdmin: preHandlerHookHandler = function platformAdminGuard(
  request,
  reply,
  done,
) {
  const auth = request.auth
  if (!auth) return sendProblem(request, reply, new Unauthorized())
  if (!auth.isPlatformAdmin) {
    return sendProblem(request, reply, new Forbidden('platform_admin_required'))
  }
  done()
}

function answerProblems(error: Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof Problem) return sendProblem(request, reply, error)
  throw error
}

async function queueDashboard(app: FastifyInstance, opts: { queues: Queues }) {
  const route = app.route
  app.route = function guardedRoute(this: FastifyInstance, options: RouteOptions) {
    const preHandler = options.preHandler
    return route.call(this, {
      ...options,
      config: { ...options.config, access: 'user' },
      preHandler: [requirePlatformAdmin, ...(preHandler ? [preHandler].flat() : [])],
      errorHandler: answerProblems,
    } as RouteOptions)
  } as FastifyInstance['route']

  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(app.prefix)
  createBullBoard({
    queues: Object.values(opts.queues).map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter,
  })
  await app.register(serverAdapter.registerPlugin())
}

export default queueDashboard
