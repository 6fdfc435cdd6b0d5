// One error shape for everything: typed Problems, validation errors, Fastify's
// own errors (bad JSON, 413, 415), rate limits, unknown routes (404) and known
// paths with the wrong method (405). 5xx bodies say nothing internal; the log
// line, which carries the request id, has the detail.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { ProblemSchema } from '../lib/problem-schema.ts'
import { type FieldError, Problem } from '../lib/problems.ts'

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_content_length'],
}

const DETAILS: Record<string, string> = {
  payload_too_large: 'The request body is larger than this server accepts.',
  unsupported_media_type: 'This content type is not accepted here.',
  invalid_json: 'The request body is not valid JSON.',
  invalid_content_length: 'The Content-Length header does not match the body.',
}

function fieldErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>
    const extra = (params.missingProperty ?? params.additionalProperty) as string | undefined
    const path = `${v.instancePath}${extra ? `/${extra}` : ''}` || '/'
    const where = error.validationContext ?? 'body'
    const message =
      params.additionalProperty !== undefined ? 'is not an allowed property' : (v.message ?? '')
    return { path: `${where}${path}`, message }
  })
}

/** Any error as the Problem it answers as (also read by the OAuth2 token endpoint). */
export function toProblem(error: FastifyError): Problem {
  if (error instanceof Problem) return error
  if (error.validation) {
    return new Problem(400, 'validation_failed', 'The request is not valid.', {
      errors: fieldErrors(error),
    })
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined
  if (known) return new Problem(known[0], known[1], DETAILS[known[1]] ?? error.message)
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = (error.code ?? '').toLowerCase().replace(/^fst_err_/, '') || 'bad_request'
    return new Problem(status, code, error.message)
  }
  return new Problem(500, 'internal_error', 'An unexpected error occurred.')
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  if (problem.headers) reply.headers(problem.headers)
  return reply
    .code(problem.statusCode)
    .type('application/problem+json; charset=utf-8')
    .send({
      type: `urn:deskpilot:problem:${problem.code}`,
      title: problem.title,
      status: problem.statusCode,
      detail: problem.message,
      instance: request.url.split('?')[0],
      code: problem.code,
      requestId: String(request.id),
      ...(problem.errors ? { errors: problem.errors } : {}),
    })
}

async function errorsPlugin(app: FastifyInstance) {
  app.addSchema(ProblemSchema)

  // Every route's method and path, to tell 405 (known path) from 404.
  const routes = FindMyWay()
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) {
      if (!routes.hasRoute(method as HTTPMethod, route.url)) {
        routes.on(method as HTTPMethod, route.url, () => {})
      }
    }
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = toProblem(error)
    if (problem.statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
    } else if (problem.statusCode !== 404) {
      request.log.info({ code: problem.code, status: problem.statusCode }, problem.message)
    }
    return sendProblem(request, reply, problem)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/'
    const allowed = allowedMethods(routes, path)
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(
        request,
        reply,
        new Problem(405, 'method_not_allowed', `${request.method} is not allowed here.`),
      )
    }
    return sendProblem(request, reply, new Problem(404, 'not_found', 'No such route.'))
  })
}

// OPTIONS is left out: CORS answers preflights on every path.
const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

function allowedMethods(routes: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, path: string) {
  return METHODS.filter((m) => routes.find(m, path) !== null)
}

export default fp(errorsPlugin, { name: 'errors' })
