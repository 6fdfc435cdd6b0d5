// One error shape for everything: typed Problems, validation errors, Fastify's
// own errors (bad JSON, 413, 415), rate limits, unknown routes (404), known
// paths with the wrong method (405), and what is refused before any route runs:
// URLs the router cannot decode (frameworkErrors) and requests Node's parser
// rejects or that time out (clientErrorHandler). 5xx bodies say nothing
// internal; the log line, which carries the request id, has the detail.
import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { databaseErrorOf } from '../lib/database-errors.ts'
import type { ProblemCode } from '../lib/problem-catalogue.ts'
import { ProblemSchema } from '../lib/problem-schema.ts'
import { Problem } from '../lib/problems.ts'
import { validationDetail, validationErrors } from '../lib/validation-messages.ts'

const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
  FST_ERR_BAD_URL: 'invalid_url',
  FST_ERR_MAX_PARAM_LENGTH: 'uri_too_long',
}

const DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than this server accepts.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'This content type is not accepted here.',
  FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON.',
  FST_ERR_CTP_EMPTY_JSON_BODY:
    'The request body is empty but Content-Type says JSON: send a JSON body, or no Content-Type.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body.',
  FST_ERR_BAD_URL: 'The URL is not valid percent-encoded UTF-8.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment of the URL is too long.',
}

/**
 * PostgreSQL refusing text it cannot store (a NUL character, an untranslatable
 * one) is the client's input, not our failure: 400, never 500.
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05'])

/** Any error as the Problem it answers as (also read by the OAuth2 token endpoint). */
export function toProblem(error: FastifyError): Problem {
  if (error instanceof Problem) return error
  if (error.validation) {
    const errors = validationErrors(error.validation, error.validationContext ?? 'body')
    return new Problem('validation_failed', validationDetail(errors), { errors })
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined
  if (known) return new Problem(known, DETAILS[error.code] ?? error.message)
  const database = databaseErrorOf(error)
  if (database && UNSTORABLE_TEXT.has(database.code)) {
    return new Problem(
      'invalid_text',
      'The request holds characters that cannot be stored, such as NUL (\\u0000).',
    )
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    const code = (error.code ?? '').toLowerCase().replace(/^fst_err_/, '') || 'bad_request'
    return Problem.foreign(status, code, error.message)
  }
  return new Problem('internal_error', 'An unexpected error occurred.')
}

function problemBody(problem: Problem, instance: string | undefined, requestId: string) {
  return {
    type: `urn:deskpilot:problem:${problem.code}`,
    title: problem.title,
    status: problem.statusCode,
    detail: problem.message,
    ...(instance !== undefined ? { instance } : {}),
    code: problem.code,
    requestId,
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...problem.extensions,
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  if (problem.headers) reply.headers(problem.headers)
  return reply
    .code(problem.statusCode)
    .type('application/problem+json; charset=utf-8')
    .send(problemBody(problem, request.url.split('?')[0], String(request.id)))
}

/**
 * Fastify's `frameworkErrors`: the router could not decode the URL (invalid
 * percent-encoding, a lone surrogate) or a path segment is too long. No route
 * and no hook has run; the answer is the same problem+json as any other.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = toProblem(error)
  request.log.info({ code: problem.code, status: problem.statusCode }, problem.message)
  reply.header('x-request-id', request.id)
  return sendProblem(request, reply, problem)
}

/** Node's parser codes, as problems; anything else it refuses is a malformed request. */
const CLIENT_ERRORS: Record<string, ProblemCode> = {
  ERR_HTTP_REQUEST_TIMEOUT: 'request_timeout',
  HPE_HEADER_OVERFLOW: 'headers_too_large',
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refused the bytes (an
 * oversized URL or header, a malformed request line) or the request missed
 * its deadline. There is no request object, so the problem is written to the
 * socket by hand, and the connection is closed: what follows cannot be framed.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
) {
  // A reset or already closed socket has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const problem = new Problem(CLIENT_ERRORS[error.code ?? ''] ?? 'malformed_request')
  const { statusCode: status, code, message: detail } = problem
  const requestId = randomUUID()
  // Debug, not info: a flood of bad sockets must not become a flood of log lines.
  this.log.debug({ reqId: requestId, code, parserCode: error.code }, detail)
  // A response already under way cannot be followed by another status line.
  const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && !current?.headersSent) {
    const body = JSON.stringify(problemBody(problem, undefined, requestId))
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Content-Type: application/problem+json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
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
        new Problem('method_not_allowed', `${request.method} is not allowed here.`),
      )
    }
    return sendProblem(request, reply, new Problem('not_found', 'No such route.'))
  })
}

// OPTIONS is left out: CORS answers preflights on every path.
const METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']

function allowedMethods(routes: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>, path: string) {
  return METHODS.filter((m) => routes.find(m, path) !== null)
}

export default fp(errorsPlugin, { name: 'errors' })
