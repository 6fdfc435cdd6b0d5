// The problem+json body (RFC 9457) as a shared schema: routes reference it for
// their error responses (through lib/problem-responses.ts), so the OpenAPI
// document shows what errors look like.
import { Type } from 'typebox'
import { problemResponses } from './problem-responses.ts'

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:deskpilot:problem:<code>' }),
    title: Type.String({ description: 'The HTTP status text' }),
    status: Type.Integer(),
    detail: Type.String({ description: 'For humans; branch on code, not on this' }),
    instance: Type.Optional(Type.String({ description: 'The path of the request' })),
    code: Type.String({ description: 'The stable machine string clients branch on' }),
    requestId: Type.Optional(Type.String({ description: 'The X-Request-ID of the request' })),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description:
          'validation_failed, invalid_merge: each field that failed, as body/..., query/...',
      }),
    ),
    mergedIntoId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'ticket_merged: the ticket this one was merged into, where to write instead',
      }),
    ),
    existingId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: 'contact_exists: the contact that already has that email or external id',
      }),
    ),
  },
  {
    $id: 'Problem',
    description: 'RFC 9457 problem details',
    examples: [
      {
        type: 'urn:deskpilot:problem:not_found',
        title: 'Not Found',
        status: 404,
        detail: 'The ticket was not found.',
        instance: '/v1/tickets/0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
        code: 'not_found',
        requestId: '0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
      },
    ],
  },
)

/** The error answers most routes can give: bad input, no or bad credential, not allowed, not found. */
export const routeProblems = problemResponses({
  400: ['validation_failed'],
  401: ['unauthorized', 'invalid_token'],
  403: ['forbidden', 'csrf_failed'],
  404: ['not_found'],
})

/** What a tenant-scoped route can answer besides its own problems: also tenant_required. */
export const tenantRouteProblems = problemResponses({
  400: ['validation_failed', 'tenant_required'],
  401: ['unauthorized', 'invalid_token'],
  403: ['forbidden', 'csrf_failed'],
  404: ['not_found'],
})

/** What a route for any signed-in user (not tenant-scoped) can answer besides its own problems. */
export const userRouteProblems = problemResponses({
  400: ['validation_failed'],
  401: ['unauthorized', 'invalid_token'],
  403: ['user_required', 'csrf_failed'],
})
