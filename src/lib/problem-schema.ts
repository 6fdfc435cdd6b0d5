// The problem+json body (RFC 9457) as a shared schema: routes reference it for
// their error responses, so the OpenAPI document shows what errors look like.
import { type Static, Type } from 'typebox'

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ examples: ['urn:deskpilot:problem:not_found'] }),
    title: Type.String({ examples: ['Not Found'] }),
    status: Type.Integer({ examples: [404] }),
    detail: Type.String({ examples: ['The ticket was not found.'] }),
    instance: Type.Optional(Type.String({ examples: ['/v1/tickets/0190c3c4-...'] })),
    code: Type.String({ examples: ['not_found'] }),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
)

/** `Type.Ref('Problem')` for a route's error responses. */
export const ProblemRef = Type.Unsafe<Static<typeof ProblemSchema>>(Type.Ref('Problem'))

/** The error answers most routes can give: bad input, no or bad credential, not allowed, not found. */
export const routeProblems = {
  400: ProblemRef,
  401: ProblemRef,
  403: ProblemRef,
  404: ProblemRef,
}
