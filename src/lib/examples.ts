// The example values of the OpenAPI document, in one place so that the
// examples agree with each other: the ticket's requester is the signed-up
// user, the member is that user, every id is a UUIDv7 of the same morning.
// Swagger UI's "Try it out" sends the request examples as they are, so they
// must be valid requests: the signup example works on a fresh database, and
// the ticket example works for the user it signs up.

export const EXAMPLE_TENANT_SLUG = 'acme'

export const EXAMPLE_IDS = {
  user: '0193a0c4-7f6e-7a1b-9c2d-3e4f5a6b7c8d',
  tenant: '0193a0c4-7f70-7b3c-8d4e-5f6a7b8c9d0e',
  role: '0193a0c4-7f71-7c4d-9e5f-6a7b8c9d0e1f',
  session: '0193a0c4-7f72-7d5e-8f6a-7b8c9d0e1f2a',
  ticket: '0193a0c5-1a2b-7e6f-9a7b-8c9d0e1f2a3b',
  /** a second ticket of the same requester, the example's merge source */
  duplicateTicket: '0193a0c5-1a2b-7f70-8a7b-8c9d0e1f2a3c',
  message: '0193a0c5-1a2c-7f7a-8b8c-9d0e1f2a3b4c',
  reply: '0193a0c6-2b3c-7a8b-9c9d-0e1f2a3b4c5d',
  agent: '0193a0c6-2b3d-7b9c-8dae-1f2a3b4c5d6e',
  invitation: '0193a0c7-3c4d-7cad-9ebf-2a3b4c5d6e7f',
  apiKey: '0193a0c7-3c4e-7dbe-8fc0-3b4c5d6e7f80',
  auditEvent: '0193a0c8-4d5e-7ecf-9ad1-4c5d6e7f8091',
  job: '0193a0c8-4d5f-7fd0-8be2-5d6e7f8091a2',
  article: '0193a0c9-5e6f-70e1-9cf3-6e7f8091a2b3',
  contact: '0193a0c4-7f73-7e6f-9a7b-8c9d0e1f2a3c',
  attachment: '0193a0c5-0f1e-7a2b-8c3d-4e5f6a7b8c9d',
  event: '0193a0c5-1a2d-7a3b-9c4d-5e6f7a8b9c0d',
  webhook: '0193a0ca-6f70-71f2-8d04-7f8091a2b3c4',
  delivery: '0193a0cb-7081-7203-9e15-8091a2b3c4d5',
} as const

/** Times of the examples: the signup, the ticket, the reply. */
export const EXAMPLE_TIMES = {
  signup: '2025-03-03T09:12:05.184Z',
  ticket: '2025-03-03T09:20:41.532Z',
  reply: '2025-03-03T09:34:02.907Z',
  expiry: '2025-04-02T09:12:05.184Z',
} as const

export const EXAMPLE_USER = {
  email: 'ada@example.com',
  name: 'Ada Lovelace',
  password: 'correct horse battery staple',
} as const

/** A cursor as lists answer it: opaque, base64url. */
export const EXAMPLE_CURSOR = 'WyItdXBkYXRlZEF0IiwiMjAyNS0wMy0wM1QwOToyMDo0MS41MzJaIl0'
