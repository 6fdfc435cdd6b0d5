// Typed HTTP errors. Throw one of these anywhere (`throw new NotFound('ticket')`);
// the error handler (plugins/errors.ts) turns it into RFC 9457 problem+json using
// its statusCode, code and detail. `code` is the stable machine string clients
// branch on; the detail is for humans.
import { STATUS_CODES } from 'node:http'

export type FieldError = { path: string; message: string }

export class Problem extends Error {
  readonly statusCode: number
  readonly code: string
  readonly title: string
  readonly errors: FieldError[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor(
    statusCode: number,
    code: string,
    detail: string,
    extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail)
    this.name = 'Problem'
    this.statusCode = statusCode
    this.code = code
    this.title = STATUS_CODES[statusCode] ?? 'Error'
    this.errors = extra.errors
    this.headers = extra.headers
  }
}

export class BadRequest extends Problem {
  constructor(code: string, detail: string, errors?: FieldError[]) {
    super(400, code, detail, errors ? { errors } : {})
  }
}

export class Unauthorized extends Problem {
  constructor(code = 'unauthorized', detail = 'Authentication is required.') {
    super(401, code, detail, { headers: { 'www-authenticate': 'Bearer' } })
  }
}

export class Forbidden extends Problem {
  constructor(code = 'forbidden', detail = 'You are not allowed to do this.') {
    super(403, code, detail)
  }
}

/** Also what a resource of another tenant answers: the same body, no oracle. */
export class NotFound extends Problem {
  constructor(what = 'resource') {
    super(404, 'not_found', `The ${what} was not found.`)
  }
}

export class Conflict extends Problem {
  constructor(detail: string, code = 'conflict') {
    super(409, code, detail)
  }
}

export class TooManyRequests extends Problem {
  constructor(retryAfterSeconds: number, code = 'rate_limited') {
    super(429, code, `Too many requests; retry in ${retryAfterSeconds} seconds.`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    })
  }
}
