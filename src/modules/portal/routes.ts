// /v1/portal: the customer portal. POST /v1/portal/join is the one
// tenant-scoped route a non-member may call (access 'visitor'): a signed-in
// user with a verified email joins the tenant as a customer when the tenant's
// customerPortal setting is `open`. The rules are domain/members/portal.ts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { requestActor } from '../../domain/audit/record.ts'
import { joinPortal } from '../../domain/members/portal.ts'
import { JoinedMembership } from '../../domain/members/schemas.ts'
import { problemResponse, problemResponses } from '../../lib/problem-responses.ts'
import { membershipCacheKey } from '../../plugins/tenant.ts'

const portalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/portal/join',
    {
      config: { access: 'visitor' },
      schema: {
        operationId: 'joinPortal',
        tags: ['portal'],
        summary: 'Join the tenant as a customer (when its customer portal is open)',
        description:
          'For a signed-in user who is not a member of the tenant (an API key is refused: 403 ' +
          "`user_required`). With the tenant's `customerPortal` setting `open`, adds a " +
          'membership with the built-in customer role and links the contact with the ' +
          "user's email (made if there is none), so the new customer sees the tickets " +
          'written for that address. The email must be verified (403 `email_unverified`); ' +
          'with `customerPortal` `invite` (the default) the answer is 403 `portal_closed`; a ' +
          'member, even a deactivated one, gets 409 `already_member`. Audited as ' +
          '`member.joined`.',
        response: {
          201: JoinedMembership,
          ...problemResponses({
            400: ['tenant_required'],
            401: ['unauthorized', 'invalid_token'],
            403: ['portal_closed', 'email_unverified', 'user_required', 'csrf_failed'],
            409: ['already_member'],
          }),
          404: problemResponse(404, ['not_found'], { not_found: 'The tenant was not found.' }),
        },
      },
    },
    async (request, reply) => {
      const tenantId = request.tenant!.id
      const userId = request.auth!.userId!
      const joined = await joinPortal(app.database, tenantId, userId, requestActor(request))
      // The cache may hold "not a member" from the resolution of this very
      // request: the next one must see the membership, in every api copy.
      await app.tenantCaches.memberships.invalidate(membershipCacheKey(tenantId, userId))
      return reply.code(201).send(joined)
    },
  )
}

export default portalRoutes
