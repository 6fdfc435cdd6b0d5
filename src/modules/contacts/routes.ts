// /v1/contacts: the people a tenant supports (tickets' requesters). Reading
// needs contacts:read; creating, changing and deleting contacts:write;
// erasing (GDPR) contacts:write and tenant:manage together. The rules and
// queries are the domain's (domain/contacts/).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { requestActor } from '../../domain/audit/record.ts'
import { listContacts } from '../../domain/contacts/contact-list.ts'
import {
  createContact,
  deleteContact,
  getContact,
  updateContact,
} from '../../domain/contacts/contacts.ts'
import { eraseContact } from '../../domain/contacts/erasure.ts'
import { Contact, ListContactsQuery } from '../../domain/contacts/schemas.ts'
import { ref } from '../../lib/page.ts'
import { problemResponses } from '../../lib/problem-responses.ts'
import { tenantRouteProblems } from '../../lib/problem-schema.ts'
import { ContactPage, ContactParams, CreateContactBody, UpdateContactBody } from './schemas.ts'

const tags = ['contacts']

/**
 * The files of an erased contact's attachments, deleted once the erasure has
 * committed (their rows are gone with it, so a failure here leaves an orphan
 * file that nothing names, logged, never a row without its bytes).
 */
async function deleteErasedFiles(app: FastifyInstance, log: FastifyBaseLogger, keys: string[]) {
  if (keys.length === 0) return
  const results = await Promise.allSettled(keys.map((key) => app.storage.delete(key)))
  const failed = keys.filter((_key, i) => results[i]?.status === 'rejected')
  if (failed.length > 0) {
    log.error({ keys: failed }, 'contact erased: some of its files could not be deleted')
  }
}

const contactRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addSchema(Contact)

  app.get(
    '/contacts',
    {
      config: { access: 'tenant', permission: 'contacts:read' },
      schema: {
        operationId: 'listContacts',
        tags,
        summary: 'Contacts of the tenant, newest first',
        description:
          'Needs contacts:read. `q` finds a contact by name or address: each word as the start ' +
          'of a word (`gra hop` finds Grace Hopper), or the whole as the start of the address ' +
          '(`grace.hopper@exa`). `email` and `externalId` match exactly (the email in its ' +
          'stored form: case and compatibility forms folded).',
        querystring: ListContactsQuery,
        response: {
          200: ContactPage,
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_cursor', 'invalid_email'],
          }),
        },
      },
    },
    async (request) => listContacts(app.database, request.tenant!.id, request.query),
  )

  app.post(
    '/contacts',
    {
      config: { access: 'tenant', permission: 'contacts:write' },
      schema: {
        operationId: 'createContact',
        tags,
        summary: 'Add a contact',
        description:
          'Needs contacts:write. An email or external id another contact has answers 409 ' +
          '`contact_exists` with `existingId`, that contact (and `errors` naming the field): ' +
          'addresses that differ only in case or compatibility forms (full-width letters) are ' +
          'the same address. A local part with anything but printable ASCII (a Cyrillic ' +
          'look-alike, a zero-width space) answers 400 `invalid_email`.',
        body: CreateContactBody,
        response: {
          201: ref(Contact, { description: 'The new contact' }),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_email'],
            409: ['contact_exists'],
          }),
        },
      },
    },
    async (request, reply) => {
      const contact = await createContact(app.database, request.tenant!.id, request.body)
      return reply.code(201).header('location', `/v1/contacts/${contact.id}`).send(contact)
    },
  )

  app.get(
    '/contacts/:id',
    {
      config: { access: 'tenant', permission: 'contacts:read' },
      schema: {
        operationId: 'getContact',
        tags,
        summary: 'One contact',
        description:
          'Needs contacts:read. An erased contact still answers, with its personal fields ' +
          'null and `erasedAt` set.',
        params: ContactParams,
        response: { 200: ref(Contact, { description: 'The contact' }), ...tenantRouteProblems },
      },
    },
    async (request) => getContact(app.database, request.tenant!.id, request.params.id),
  )

  app.patch(
    '/contacts/:id',
    {
      config: { access: 'tenant', permission: 'contacts:write' },
      schema: {
        operationId: 'updateContact',
        tags,
        summary: 'Change a contact',
        description:
          'Needs contacts:write. Only the fields sent change; `null` clears a name or an ' +
          'external id. The same uniqueness as creating (409 `contact_exists` with ' +
          '`existingId`). An erased contact cannot be changed (409 `contact_erased`). The link ' +
          'to a member (`userId`) is not set here: it follows a proven address.',
        params: ContactParams,
        body: UpdateContactBody,
        response: {
          200: ref(Contact, { description: 'The changed contact' }),
          ...tenantRouteProblems,
          ...problemResponses({
            400: ['validation_failed', 'tenant_required', 'invalid_email'],
            409: ['contact_exists', 'contact_erased'],
          }),
        },
      },
    },
    async (request) =>
      updateContact(app.database, request.tenant!.id, request.params.id, request.body),
  )

  app.delete(
    '/contacts/:id',
    {
      config: { access: 'tenant', permission: 'contacts:write' },
      schema: {
        operationId: 'deleteContact',
        tags,
        summary: 'Delete a contact without history',
        description:
          'Needs contacts:write. Only a contact that never requested a ticket nor wrote a ' +
          'message can be deleted (409 `contact_has_tickets` otherwise: erase it instead). ' +
          'Audited as `contact.deleted`.',
        params: ContactParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...tenantRouteProblems,
          ...problemResponses({ 409: ['contact_has_tickets'] }),
        },
      },
    },
    async (request, reply) => {
      await deleteContact(
        app.database,
        request.tenant!.id,
        request.params.id,
        requestActor(request),
      )
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/contacts/:id/erase',
    {
      config: {
        access: 'tenant',
        permission: { allOf: ['contacts:write', 'tenant:manage'] },
      },
      schema: {
        operationId: 'eraseContact',
        tags,
        summary: "Erase a contact's personal data (GDPR), for good",
        description:
          'Needs contacts:write and tenant:manage. Cannot be undone. The contact keeps its id ' +
          'and answers GET with `email`, `name`, `externalId` and `userId` null and `erasedAt` ' +
          'set; every message it wrote keeps its place with an empty `body` and without its ' +
          'attachments (their files are deleted); its tickets keep their numbers and no longer ' +
          "match a search for the erased words. Ticket subjects and agents' replies stay. " +
          'Audited as `contact.erased`. Erasing again answers the same contact (200), and ' +
          'scrubs anything written for it meanwhile.',
        params: ContactParams,
        response: {
          200: ref(Contact, { description: 'The erased contact' }),
          ...tenantRouteProblems,
        },
      },
    },
    async (request) => {
      const { contact, storageKeys } = await eraseContact(
        app.database,
        request.tenant!.id,
        request.params.id,
        requestActor(request),
      )
      await deleteErasedFiles(app, request.log, storageKeys)
      return contact
    },
  )
}

export default contactRoutes
