// Error responses of the OpenAPI document, built one way: a route names each
// status it can answer and the problem codes it can answer with it, and gets a
// response declared as application/problem+json (the type the error handler
// sends) with an example of each of those problems. So signup's 409 shows
// email_taken, not some other route's not_found.
import { STATUS_CODES } from 'node:http'
import { type Static, Type } from 'typebox'
import type { ProblemSchema } from './problem-schema.ts'

/** Every problem code a route may declare, with the detail its example shows. */
const DETAILS = {
  validation_failed: 'The request is not valid.',
  invalid_json: 'The request body is not valid JSON.',
  invalid_cursor: 'The cursor is not valid for this list.',
  tenant_required: 'Name the tenant with the X-Tenant-ID header (id or slug) or its subdomain.',
  weak_password: 'This password is among the most common ones in data breaches; choose another.',
  invalid_slug: 'That slug is reserved.',
  requester_required: 'Name the requesterId: an API key is no user.',
  account_details_required: 'Sign in first, or send name and password to create your account.',
  invalid_or_expired_token: 'The token is not valid, was used already, or has expired.',
  unauthorized: 'Authentication is required.',
  invalid_token: 'The access token is not valid or has expired.',
  invalid_credentials: 'The email or password is not correct.',
  token_reused: 'This refresh token was already used; the session has been revoked.',
  forbidden: 'This needs the tickets:write permission.',
  csrf_failed: 'The CSRF token is missing or does not match the session.',
  user_required: 'This needs a signed-in user, not an API key.',
  owner_required: 'Only an owner can delete the tenant.',
  cannot_change_own_role: 'You cannot change your own role.',
  permission_escalation: 'A key cannot hold permissions you do not hold: tenant:manage.',
  invitation_email_mismatch: 'This invitation was sent to another email address.',
  not_found: 'The resource was not found.',
  email_taken: 'An account with this email already exists.',
  slug_taken: 'That slug is taken.',
  already_member: 'That person is already a member.',
  account_exists: 'An account with this email exists: sign in, then accept the invitation.',
  last_owner: 'A tenant must keep at least one owner.',
  role_name_taken: 'A role with that name exists.',
  builtin_role: 'Built-in roles cannot be changed.',
  role_in_use: 'The role is in use by members or invitations.',
  ticket_closed: 'This ticket is closed; open a new one instead.',
  invalid_status_transition: 'A ticket cannot go from closed to open.',
  idempotency_key_reused: 'This Idempotency-Key was used with another request body.',
  precondition_failed: 'The ticket changed since you read it (ETag mismatch).',
  unsupported_media_type: 'Request bodies must be application/json.',
  invalid_assignee: 'The assignee must be an active member with agent rights.',
  invalid_requester: 'The requester must be a member of this tenant.',
  account_locked: 'Too many failed logins; try again in 15 minutes.',
  rate_limited: 'Too many requests; retry in 30 seconds.',
  unknown_role: 'No role named "supervisor"; the roles are owner, admin, agent, customer.',
  mail_quota_exceeded: 'This tenant has sent its 20 invitation emails of the hour; retry later.',
  invitation_cooldown: 'That address was invited a moment ago; wait before inviting it again.',
  tenant_name_not_allowed: 'A tenant name may not contain a link or a domain.',
  member_outranks_you: 'That member holds permissions you do not hold.',
  role_outranks_you: 'That role holds permissions you do not hold.',
  filter_not_allowed: 'Customers cannot filter or sort by tag, assignee or priority.',
  invalid_text: 'Text may not contain the NUL character (\\u0000).',
} as const

type ProblemCode = keyof typeof DETAILS

/** What each status means when a route answers it, for the response's description. */
const MEANING: Record<number, string> = {
  400: 'The request is not valid',
  401: 'No valid credential',
  403: 'Not allowed',
  404: 'Not found, or not visible to the caller',
  409: 'Conflicts with the current state',
  412: 'The If-Match ETag is stale',
  415: 'The body is not application/json',
  422: 'The request names something it may not use',
  423: 'The account is locked',
  429: 'Too many requests (see Retry-After)',
}

const EXAMPLE_FIELD_ERRORS = [
  { path: 'body/subject', message: 'must NOT have fewer than 1 characters' },
]

function exampleOf(
  status: number,
  code: ProblemCode,
  detail?: string,
): Static<typeof ProblemSchema> {
  return {
    type: `urn:deskpilot:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail: detail ?? DETAILS[code],
    code,
    requestId: '0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
    ...(code === 'validation_failed' ? { errors: EXAMPLE_FIELD_ERRORS } : {}),
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
