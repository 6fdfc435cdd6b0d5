// Error responses of the OpenAPI document, built one way: a route names each
// status it can answer and the problem codes it can answer with it, and gets a
// response declared as application/problem+json (the type the error handler
// sends) with an example of each of those problems. So signup's 409 shows
// email_taken, not some other route's not_found.
import { STATUS_CODES } from 'node:http'
import { type Static, Type } from 'typebox'
import { EXAMPLE_IDS } from './examples.ts'
import { PROBLEMS, type ProblemCode } from './problem-catalogue.ts'
import type { ProblemSchema } from './problem-schema.ts'
import type { ProblemExtensions } from './problems.ts'

/** What each status means when a route answers it, for the response's description. */
const MEANING: Record<number, string> = {
  400: 'The request is not valid',
  401: 'No valid credential',
  403: 'Not allowed',
  404: 'Not found, or not visible to the caller',
  409: 'Conflicts with the current state',
  412: 'The If-Match ETag is stale',
  415: 'The body is not of a type this route takes',
  422: 'The request names something it may not use',
  423: 'The account is locked',
  429: 'Too many requests (see Retry-After)',
  503: 'Not now; retry (see Retry-After)',
}

const EXAMPLE_FIELD_ERRORS = [
  { path: 'body/subject', message: 'must NOT have fewer than 1 characters' },
]

/** The extension members a code's example shows (problems.ts, ProblemExtensions). */
const EXAMPLE_EXTENSIONS: Partial<Record<ProblemCode, ProblemExtensions>> = {
  contact_exists: { existingId: EXAMPLE_IDS.contact },
}

function exampleOf(
  status: number,
  code: ProblemCode,
  detail?: string,
): Static<typeof ProblemSchema> {
  return {
    type: `urn:deskpilot:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: detail ?? PROBLEMS[code].detail,
    code,
    requestId: '0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
    ...(code === 'validation_failed' ? { errors: EXAMPLE_FIELD_ERRORS } : {}),
    ...EXAMPLE_EXTENSIONS[code],
  }
}

/**
 * One error response: `status`, answered with any of `codes`, each shown as an
 * example; `details` words an example's detail as this route says it.
 */
export function problemResponse(
  status: number,
  codes: readonly ProblemCode[],
  details: Partial<Record<ProblemCode, string>> = {},
) {
  // The document must not promise a status the error handler never sends with the code.
  const misplaced = codes.filter((code) => PROBLEMS[code].status !== status)
  if (misplaced.length > 0) {
    throw new Error(`${misplaced.join(', ')} never answer ${status} (src/lib/problem-catalogue.ts)`)
  }
  return {
    description: `${MEANING[status] ?? STATUS_CODES[status]}: ${codes.join(', ')}`,
    content: {
      'application/problem+json': {
        schema: Type.Unsafe<Static<typeof ProblemSchema>>(Type.Ref('Problem')),
        examples: Object.fromEntries(
          codes.map((code) => [
            code,
            { summary: code, value: exampleOf(status, code, details[code]) },
          ]),
        ),
      },
    },
  }
}

/** Several statuses at once: `problemResponses({409: ['email_taken'], 429: ['rate_limited']})`. */
export function problemResponses<S extends number>(
  answers: Record<S, readonly ProblemCode[]>,
): Record<S, ReturnType<typeof problemResponse>> {
  const out = {} as Record<S, ReturnType<typeof problemResponse>>
  for (const [status, codes] of Object.entries(answers) as [string, readonly ProblemCode[]][]) {
    out[Number(status) as S] = problemResponse(Number(status), codes)
  }
  return out
}
