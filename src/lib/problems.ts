// Typed HTTP errors. Throw one of these anywhere (`throw new NotFound('ticket')`);
// the error handler (plugins/errors.ts) turns it into RFC 9457 problem+json using
// its statusCode, code and detail; codes and their statuses are defined once, in
// problem-catalogue.ts. `code` is the stable machine string clients
// branch on; the detail is for humans.
import { STATUS_CODES } from 'node:http'
import { type CodeWithStatus, PROBLEMS, type ProblemCode } from './problem-catalogue.ts'

export type FieldError = { path: string; message: string }

/**
 * Members a problem may carry beyond RFC 9457's own (its "extension members"),
 * each declared in the Problem schema (problem-schema.ts) so that the
 * serializer keeps it and the document shows it.
 */
export type ProblemExtensions = {
  /** contact_exists: the contact that already has the email or external id */
  existingId?: string
  /** ticket_merged: the ticket the refused one was merged into */
  mergedIntoId?: string
}

export class Problem extends Error {
  readonly statusCode: number
  readonly code: string
  readonly title: string
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string> | undefined
  readonly extensions: ProblemExtensions | undefined

  /** A problem of the catalogue: its status is the code's; the detail defaults to the code's. */
  constructor(
    code: ProblemCode,
    detail: string = PROBLEMS[code].detail,
    extra: {
      errors?: FieldError[]
      headers?: Record<string, string>
      extensions?: ProblemExtensions
    } = {},
  ) {
    super(detail)
    this.name = 'Problem'
    this.statusCode = PROBLEMS[code].status
    this.code = code
    this.title = STATUS_CODES[this.statusCode] ?? 'Error'
    this.errors = extra.errors
    this.headers = extra.headers
    this.extensions = extra.extensions
  }

  /**
   * A library's own 4xx error that Deskpilot's catalogue does not name (a
   * plugin's code, say): answered with its status and its code, lower-cased.
   */
  static foreign(statusCode: number, code: string, detail: string): Problem {
    const problem = new Problem('bad_request', detail)
    Object.assign(problem, {
      statusCode,
      code,
      title: STATUS_CODES[statusCode] ?? 'Error',
    })
    return problem
  }
}

export class BadRequest extends Problem {
  constructor(code: CodeWithStatus<400>, detail?: string, errors?: FieldError[]) {
    super(code, detail, errors ? { errors } : {})
  }
}

export class Unauthorized extends Problem {
  constructor(code: CodeWithStatus<401> = 'unauthorized', detail?: string) {
    super(code, detail, { headers: { 'www-authenticate': 'Bearer' } })
  }
}

export class Forbidden extends Problem {
  constructor(code: CodeWithStatus<403> = 'forbidden', detail?: string) {
    super(code, detail)
  }
}

/** Also what a resource of another tenant answers: the same body, no oracle. */
export class NotFound extends Problem {
  constructor(what = 'resource') {
    super('not_found', `The ${what} was not found.`)
  }
}

export class Conflict extends Problem {
  constructor(detail: string, code: CodeWithStatus<409> = 'conflict') {
    super(code, detail)
  }
}

export class TooManyRequests extends Problem {
  constructor(retryAfterSeconds: number, code: CodeWithStatus<429> = 'rate_limited') {
    super(code, `Too many requests; retry in ${retryAfterSeconds} seconds.`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
}

/** The server cannot take this now (it is at a limit, or closing); another try may succeed. */
export class ServiceUnavailable extends Problem {
  constructor(code: CodeWithStatus<503>, retryAfterSeconds: number, detail?: string) {
    super(code, detail, { headers: { 'retry-after': String(retryAfterSeconds) } })
  }
}
