// Who may be a ticket's requester or assignee: a contact of the tenant (not
// erased), and an active member with agent rights (agents.ts), or they could
// not even see the ticket they are given.
import { sql } from 'drizzle-orm'
import type { DbOrTx } from '../../db/client.ts'
import { memberships, roles } from '../../db/schema/access.ts'
import { contacts } from '../../db/schema/contacts.ts'
import { users } from '../../db/schema/users.ts'
import { rowsOf } from '../../db/scoped.ts'
import { Problem } from '../../lib/problems.ts'
import { membershipRoleJoin } from '../members/membership-role.ts'
import { holdsAgentRights } from './agents.ts'

type ActiveMember = Pick<typeof users.$inferSelect, 'name'> &
  Pick<typeof roles.$inferSelect, 'permissions'>

async function activeMember(tx: DbOrTx, tenantId: string, userId: string) {
  const [row] = await rowsOf<ActiveMember>(
    tx,
    sql`select ${users.name} as name, ${roles.permissions} as permissions
        from ${memberships}
        join ${roles} on ${membershipRoleJoin}
        join ${users} on ${users.id} = ${memberships.userId}
        where ${memberships.tenantId} = ${tenantId} and ${memberships.userId} = ${userId}
          and ${memberships.active}`,
  )
  return row ?? null
}

/** The assignee's name, for the history; 422 invalid_assignee unless an active agent. */
export async function assertAssignable(tx: DbOrTx, tenantId: string, userId: string) {
  const member = await activeMember(tx, tenantId, userId)
  if (!member || !holdsAgentRights(member.permissions)) {
    throw new Problem(
      'invalid_assignee',
      'The assignee must be an active member of this tenant with agent rights (tickets:read_all).',
      { errors: [{ path: 'body/assigneeId', message: 'is not an active agent of this tenant' }] },
    )
  }
  return member.name
}

/** 422 invalid_requester unless the id is a contact of this tenant that was not erased. */
export async function assertRequester(tx: DbOrTx, tenantId: string, contactId: string) {
  const [found] = await rowsOf<{ id: string }>(
    tx,
    sql`select ${contacts.id} as id from ${contacts}
        where ${contacts.tenantId} = ${tenantId} and ${contacts.id} = ${contactId}
          and ${contacts.erasedAt} is null`,
  )
  if (!found) {
    throw new Problem('invalid_requester', 'The requester must be a contact of this tenant.', {
      errors: [{ path: 'body/requesterId', message: 'is not a contact of this tenant' }],
    })
  }
}
