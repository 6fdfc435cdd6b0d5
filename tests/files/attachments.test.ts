// Attachments through the api, on the local disk: an upload streams to storage
// (a file and a row, or neither), is its uploader's alone until attached to a
// message, and is then downloadable by whoever sees that message and nobody
// else; a download is always an attachment of the sniffed type. Tried as an
// attacker would: oversized, cut-off and malformed bodies, hostile names,
// HTML and SVG, other tenants' and other users' ids, cookie sessions.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { join, relative } from 'node:path'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { withScope } from '../../src/db/scoped.ts'
import {
  attachmentsOfMessages,
  insertAttachment,
  uploadAttachment,
} from '../../src/domain/files/attachments.ts'
import { safeFilename } from '../../src/domain/files/filenames.ts'
import { useTestApp } from '../helpers/app.ts'
import { cookieHeader, logIn } from '../helpers/auth.ts'
import { fileForm, type MultipartBody, multipart, PNG } from '../helpers/multipart.ts'
import { type Actor, createTestTenant, TEST_PASSWORD } from '../helpers/tenancy.ts'

const MAX_BYTES = 64 * 1024
const SPA_ORIGIN = 'http://localhost:5173'
const ctx = await useTestApp({
  env: { ATTACHMENT_MAX_BYTES: String(MAX_BYTES), AUTH_RATE_LIMIT_MAX: '1000' },
})
const { app } = ctx
const acme = await createTestTenant(ctx)
const globex = await createTestTenant(ctx)

type Headers = Record<string, string>

function upload(headers: Headers, body: MultipartBody) {
  return app.inject({
    method: 'POST',
    url: '/v1/attachments',
    headers: { ...headers, ...body.headers },
    payload: body.payload,
  })
}

async function uploaded(actor: Actor | Headers, body = fileForm('photo.png', PNG, 'image/png')) {
  const headers = 'headers' in actor ? (actor.headers as Headers) : actor
  const res = await upload(headers, body)
  expect(res.statusCode, res.body).toBe(201)
  return res.json() as { id: string; filename: string; contentType: string; size: number }
}

function download(headers: Headers, id: string) {
  return app.inject({ url: `/v1/attachments/${id}`, headers })
}

/** Every file under the storage folder, partial ones included. */
function storedFiles(): string[] {
  return readdirSync(ctx.config.STORAGE_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ctx.config.STORAGE_DIR, join(e.parentPath, e.name)))
    .sort()
}

async function rowCount(): Promise<number> {
  const [row] = await ctx.sql<{ n: number }[]>`select count(*)::int as n from attachments`
  return row!.n
}

/** What a refused request must leave: the same files and rows as before it. */
async function unchangedAfter(request: () => Promise<unknown>) {
  const [files, rows] = [storedFiles(), await rowCount()]
  const result = await request()
  expect(storedFiles()).toEqual(files)
  expect(await rowCount()).toBe(rows)
  return result as Awaited<ReturnType<typeof upload>>
}

/** A problem body without what differs per request, to compare two refusals. */
function problemShape(res: Awaited<ReturnType<typeof upload>>) {
  const { requestId: _r, instance: _i, ...rest } = res.json()
  return rest
}

async function apiKey(actor: Actor, permissions: string[]): Promise<Headers> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/api-keys',
    headers: actor.headers,
    payload: { name: 'Uploader', permissions },
  })
  expect(res.statusCode, res.body).toBe(201)
  return { authorization: `Bearer ${res.json().key}`, 'x-tenant-id': actor.headers['x-tenant-id']! }
}

describe('POST /v1/attachments', () => {
  it('streams the file to storage and answers its id, name, type, size and SHA-256', async () => {
    const bytes = Buffer.concat([PNG, randomBytes(10_000)])
    const res = await upload(acme.agent.headers, fileForm('screenshot.png', bytes, 'text/html'))
    expect(res.statusCode, res.body).toBe(201)
    const body = res.json()
    expect(body).toEqual({
      id: expect.any(String),
      filename: 'screenshot.png',
      contentType: 'image/png',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    })
    expect(res.headers.location).toBe(`/v1/attachments/${body.id}`)
    // The key is the tenant and the id, never the name; the bytes are the upload's.
    const key = `${acme.id}/${body.id}`
    expect(readFileSync(join(ctx.config.STORAGE_DIR, key)).equals(bytes)).toBe(true)
    const [row] = await ctx.sql`
      select tenant_id, principal, message_id, storage_key, inline from attachments
      where id = ${body.id}`
    expect(row).toEqual({
      tenant_id: acme.id,
      principal: `user:${acme.agent.userId}`,
      message_id: null,
      storage_key: key,
      inline: false,
    })
  })

  it('refuses a file over ATTACHMENT_MAX_BYTES with 413, keeping no file and no row', async () => {
    const res = await unchangedAfter(() =>
      upload(acme.agent.headers, fileForm('big.bin', randomBytes(MAX_BYTES + 1))),
    )
    expect(res.statusCode).toBe(413)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json().code).toBe('payload_too_large')
    // Exactly the limit is fine.
    const atLimit = await uploaded(acme.agent, fileForm('exact.bin', randomBytes(MAX_BYTES)))
    expect(atLimit.size).toBe(MAX_BYTES)
  })

  it('keeps no file and no row of an upload whose client goes away half way', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as AddressInfo
    const [files, rows, logged] = [storedFiles(), await rowCount(), ctx.logs.length]
    const boundary = 'cut-off-upload'
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="half.bin"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n'
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(
      'POST /v1/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Authorization: ${acme.agent.headers.authorization}\r\nX-Tenant-ID: ${acme.slug}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${head.length + 50_000 + boundary.length + 8}\r\n\r\n${head}`,
    )
    socket.write(randomBytes(25_000))
    // The upload is streaming to storage before the body is complete (nothing buffers it)...
    await expect
      .poll(() => storedFiles().some((f) => f.endsWith('.part')), { timeout: 5000 })
      .toBe(true)
    // ...and the client goes away.
    socket.destroy()
    await expect.poll(() => storedFiles(), { timeout: 5000 }).toEqual(files)
    expect(await rowCount()).toBe(rows)
    // A client going away is the client's doing: no error logged as the server's failure.
    expect(ctx.logs.slice(logged).filter((line) => Number(line.level) >= 50)).toEqual([])
  })

  it('keeps only the last segment of a hostile file name; storage never sees it', async () => {
    for (const [name, kept] of [
      ['../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\win.ini', 'win.ini'],
      ['/absolute/path/report.pdf', 'report.pdf'],
      ['..', 'file'],
    ] as const) {
      const body = await uploaded(acme.agent, fileForm(name, 'plain words'))
      expect(body.filename, name).toBe(kept)
      expect(storedFiles()).toContain(join(acme.id, body.id))
    }
    expect(storedFiles().every((f) => f.startsWith(`${acme.id}/`) || f.startsWith(globex.id))).toBe(
      true,
    )
  })

  it.each([
    ['a.html', '<!doctype html><html><script>alert(document.cookie)</script></html>', 'text/html'],
    [
      'logo.svg',
      '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      'image/svg+xml',
    ],
  ])(
    'serves %s as a plain download, never as markup a browser would run',
    async (name, content, declared) => {
      const body = await uploaded(acme.agent, fileForm(name, content, declared))
      expect(body.contentType).toBe('text/plain')
      const res = await download(acme.agent.headers, body.id)
      expect(res.statusCode).toBe(200)
      expect(res.body).toBe(content)
      expect(res.headers['content-type']).toBe('text/plain')
      expect(res.headers['content-disposition']).toBe(
        `attachment; filename="${name}"; filename*=UTF-8''${name}`,
      )
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; sandbox")
    },
  )

  it('refuses a body that is not multipart with 415', async () => {
    const json = await unchangedAfter(() =>
      app.inject({
        method: 'POST',
        url: '/v1/attachments',
        headers: acme.agent.headers,
        payload: { file: 'not a file' },
      }),
    )
    expect(json.statusCode).toBe(415)
    expect(json.json().code).toBe('unsupported_media_type')
    const none = await app.inject({
      method: 'POST',
      url: '/v1/attachments',
      headers: acme.agent.headers,
    })
    expect(none.statusCode).toBe(415)
  })

  it.each([
    [
      'a part under another name',
      () => multipart([{ name: 'upload', filename: 'a.txt', content: 'x' }]),
    ],
    ['no part at all', () => multipart([])],
    [
      'a field before the file',
      () =>
        multipart([
          { name: 'note', content: 'hello' },
          { name: 'file', filename: 'a.txt', content: 'x' },
        ]),
    ],
    [
      'two files (the first is discarded)',
      () =>
        multipart([
          { name: 'file', filename: 'one.txt', content: 'first' },
          { name: 'file', filename: 'two.txt', content: 'second' },
        ]),
    ],
    [
      'a file then a field',
      () =>
        multipart([
          { name: 'file', filename: 'one.txt', content: 'first' },
          { name: 'note', content: 'hello' },
        ]),
    ],
    [
      'no boundary',
      () => ({
        payload: Buffer.from('--x\r\n'),
        headers: { 'content-type': 'multipart/form-data' },
      }),
    ],
  ])('refuses %s with 400 invalid_upload, keeping nothing', async (_case, body) => {
    const res = await unchangedAfter(() => upload(acme.agent.headers, body()))
    expect(res.statusCode, res.body).toBe(400)
    expect(res.json().code).toBe('invalid_upload')
  })

  it('is for tenant members with tickets:write only', async () => {
    const anonymous = await upload({ 'x-tenant-id': acme.slug }, fileForm('a.txt', 'x'))
    expect(anonymous.statusCode).toBe(401)
    const foreign = await upload(
      { ...globex.agent.headers, 'x-tenant-id': acme.slug },
      fileForm('a.txt', 'x'),
    )
    expect(foreign.statusCode).toBe(404)
    const readOnly = await apiKey(acme.owner, ['tickets:read'])
    const refused = await unchangedAfter(() => upload(readOnly, fileForm('a.txt', 'x')))
    expect(refused.statusCode).toBe(403)
  })
})

describe('cookie sessions', async () => {
  const session = await logIn(app, acme.agent.email, TEST_PASSWORD)
  const cookies = { ...cookieHeader(session.cookies), origin: SPA_ORIGIN, 'x-tenant-id': acme.slug }

  it('upload multipart with their CSRF token', async () => {
    const body = await uploaded({ ...cookies, 'x-csrf-token': session.csrfToken })
    expect(body.contentType).toBe('image/png')
  })

  it('are refused without the CSRF token, or from a foreign origin, keeping nothing', async () => {
    const missing = await unchangedAfter(() => upload(cookies, fileForm('a.txt', 'x')))
    expect(missing.statusCode).toBe(403)
    expect(missing.json().code).toBe('csrf_failed')
    const foreign = await unchangedAfter(() =>
      upload(
        { ...cookies, origin: 'https://evil.example', 'x-csrf-token': session.csrfToken },
        fileForm('a.txt', 'x'),
      ),
    )
    expect(foreign.json().code).toBe('csrf_failed')
  })

  it('still send only JSON to every other route', async () => {
    const form = multipart([{ name: 'title', content: 'A form post' }])
    const res = await app.inject({
      method: 'POST',
      url: '/v1/kb/articles',
      headers: { ...cookies, 'x-csrf-token': session.csrfToken, ...form.headers },
      payload: form.payload,
    })
    expect(res.statusCode).toBe(415)
    expect(res.json().code).toBe('unsupported_media_type')
  })
})

describe('GET /v1/attachments/{id} of an upload not yet attached', () => {
  it('serves the uploader the bytes, as an attachment of the sniffed type', async () => {
    const body = await uploaded(acme.agent, fileForm('Zoë’s report.png', PNG, 'image/png'))
    const res = await download(acme.agent.headers, body.id)
    expect(res.statusCode).toBe(200)
    expect(res.rawPayload.equals(PNG)).toBe(true)
    expect(res.headers['content-type']).toBe('image/png')
    expect(res.headers['content-length']).toBe(String(PNG.length))
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="Zo__s report.png"; filename*=UTF-8''${encodeURIComponent('Zoë’s report.png')}`,
    )
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['cache-control']).toBe('private, no-store')
  })

  it('answers everyone else 404, exactly as for an id that does not exist', async () => {
    const { id } = await uploaded(acme.agent)
    const nonexistent = await download(acme.agent.headers, '0193a0c5-0000-7000-8000-000000000000')
    expect(nonexistent.statusCode).toBe(404)
    const key = await apiKey(acme.owner, ['tickets:read', 'tickets:write'])
    for (const headers of [
      acme.owner.headers,
      acme.admin.headers,
      acme.customer.headers,
      key,
      globex.agent.headers,
      { ...globex.owner.headers, 'x-tenant-id': globex.slug },
    ]) {
      const res = await download(headers, id)
      expect(res.statusCode).toBe(404)
      expect(problemShape(res)).toEqual(problemShape(nonexistent))
    }
    // Another tenant's member naming this tenant is not even a member here.
    const named = await download({ ...globex.owner.headers, 'x-tenant-id': acme.slug }, id)
    expect(named.statusCode).toBe(404)
  })

  it("belongs to an API key's principal when a key uploads it", async () => {
    const key = await apiKey(acme.owner, ['tickets:read', 'tickets:write'])
    const { id } = await uploaded(key)
    const [row] = await ctx.sql<{ principal: string }[]>`
      select principal from attachments where id = ${id}`
    expect(row?.principal).toMatch(/^key:[0-9a-f-]{36}$/)
    expect((await download(key, id)).statusCode).toBe(200)
    expect((await download(acme.owner.headers, id)).statusCode).toBe(404)
  })
})

describe('safeFilename', () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\ada\\notes.txt', 'notes.txt'],
    ['.htaccess', 'htaccess'],
    ['...', 'file'],
    ['', 'file'],
    [undefined, 'file'],
    ['in\u0000voice\u0007.pdf', 'invoice.pdf'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['  spaced  .txt ', 'spaced  .txt'],
    ['Zoë.txt', 'Zoë.txt'],
  ])('%j → %j', (name, kept) => {
    expect(safeFilename(name)).toBe(kept)
  })

  it('cuts a long name to 200 characters, keeping the extension', () => {
    const cut = safeFilename(`${'ä'.repeat(500)}.docx`)
    expect(Array.from(cut)).toHaveLength(200)
    expect(cut.endsWith('ä.docx')).toBe(true)
  })
})

describe('attached to a message', () => {
  type Created = { id: string; firstMessage: { id: string; attachments: { id: string }[] } }

  async function openTicket(actor: Actor, payload: object) {
    return app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: actor.headers,
      payload: { subject: 'The printer is on fire', body: 'Photo attached.', ...payload },
    })
  }

  function post(actor: Actor | Headers, ticketId: string, payload: object) {
    const headers = 'headers' in actor ? (actor.headers as Headers) : actor
    return app.inject({
      method: 'POST',
      url: `/v1/tickets/${ticketId}/messages`,
      headers,
      payload: { body: 'See the file.', ...payload },
    })
  }

  async function attachmentRow(id: string) {
    const [row] = await ctx.sql<{ message_id: string | null; attached_at: Date | null }[]>`
      select message_id, attached_at from attachments where id = ${id}`
    return row
  }

  it("opens a ticket with the customer's uploads on its first message, for whoever sees it", async () => {
    const photo = await uploaded(acme.customer)
    const log = await uploaded(acme.customer, fileForm('printer.log', 'paper jam\n', 'text/plain'))
    const res = await openTicket(acme.customer, { attachmentIds: [photo.id, log.id] })
    expect(res.statusCode, res.body).toBe(201)
    const ticket = res.json() as Created
    expect(ticket.firstMessage.attachments).toEqual([
      {
        id: photo.id,
        filename: 'photo.png',
        contentType: 'image/png',
        size: PNG.length,
        createdAt: expect.any(String),
      },
      {
        id: log.id,
        filename: 'printer.log',
        contentType: 'text/plain',
        size: 10,
        createdAt: expect.any(String),
      },
    ])
    expect((await attachmentRow(photo.id))?.message_id).toBe(ticket.firstMessage.id)
    // The requester, the team (any agent, admin, owner) may read it; another customer may not.
    for (const who of [acme.customer, acme.agent, acme.admin, acme.owner]) {
      const got = await download(who.headers, photo.id)
      expect(got.statusCode, who.email).toBe(200)
      expect(got.rawPayload.equals(PNG)).toBe(true)
    }
    const t = await createTestTenant(ctx)
    expect((await download(t.customer.headers, photo.id)).statusCode).toBe(404)
    const listed = await app.inject({
      url: `/v1/tickets/${ticket.id}/messages`,
      headers: acme.agent.headers,
    })
    expect(listed.json().data[0].attachments.map((a: { id: string }) => a.id)).toEqual([
      photo.id,
      log.id,
    ])
  })

  it("never gives a customer an internal note's file, nor lists it", async () => {
    const ticket = (await openTicket(acme.customer, {})).json() as Created
    const notes = await uploaded(acme.agent, fileForm('fraud-check.txt', 'suspicious'))
    const note = await post(acme.agent, ticket.id, { internal: true, attachmentIds: [notes.id] })
    expect(note.statusCode, note.body).toBe(201)
    expect(note.json().attachments.map((a: { id: string }) => a.id)).toEqual([notes.id])
    const asCustomer = await download(acme.customer.headers, notes.id)
    expect(asCustomer.statusCode).toBe(404)
    expect(asCustomer.json().code).toBe('not_found')
    expect((await download(acme.agent.headers, notes.id)).statusCode).toBe(200)
    expect((await download(acme.admin.headers, notes.id)).statusCode).toBe(200)
    const thread = await app.inject({
      url: `/v1/tickets/${ticket.id}/messages`,
      headers: acme.customer.headers,
    })
    expect(JSON.stringify(thread.json())).not.toContain(notes.id)
    // A public reply's file is the customer's to read.
    const answer = await uploaded(acme.agent, fileForm('manual.pdf', '%PDF-1.4\n%%EOF\n'))
    expect((await post(acme.agent, ticket.id, { attachmentIds: [answer.id] })).statusCode).toBe(201)
    expect((await download(acme.customer.headers, answer.id)).statusCode).toBe(200)
  })

  it("refuses anything but the caller's own unattached uploads with 422, naming each, and writes nothing", async () => {
    const ticket = (await openTicket(acme.customer, {})).json() as Created
    const mine = await uploaded(acme.agent)
    const foreignTenant = await uploaded(globex.agent)
    const colleagues = await uploaded(acme.admin)
    const used = await uploaded(acme.agent)
    expect((await post(acme.agent, ticket.id, { attachmentIds: [used.id] })).statusCode).toBe(201)
    const unknown = '0193a0c5-0000-7000-8000-00000000abcd'
    const thread = async () =>
      (
        await app.inject({ url: `/v1/tickets/${ticket.id}/messages`, headers: acme.agent.headers })
      ).json().data.length
    const before = await thread()
    const res = await post(acme.agent, ticket.id, {
      attachmentIds: [mine.id, foreignTenant.id, colleagues.id, used.id, unknown],
    })
    expect(res.statusCode, res.body).toBe(422)
    expect(res.json().code).toBe('invalid_attachment')
    expect(res.json().errors.map((e: { path: string }) => e.path)).toEqual([
      'body/attachmentIds/1',
      'body/attachmentIds/2',
      'body/attachmentIds/3',
      'body/attachmentIds/4',
    ])
    // The message and the claim of the caller's own upload were rolled back together.
    expect(await thread()).toBe(before)
    expect(await attachmentRow(mine.id)).toEqual({ message_id: null, attached_at: null })
    expect((await attachmentRow(foreignTenant.id))?.message_id).toBeNull()
    expect((await attachmentRow(colleagues.id))?.message_id).toBeNull()
    // The same refusal for a new ticket: no ticket is opened.
    const ticketCount = async () => {
      const [row] = await ctx.sql<{ n: number }[]>`
        select count(*)::int as n from tickets where tenant_id = ${acme.id}`
      return row?.n
    }
    const tickets = await ticketCount()
    const refused = await openTicket(acme.agent, { attachmentIds: [mine.id, colleagues.id] })
    expect(refused.statusCode).toBe(422)
    expect(refused.json().errors).toEqual([
      { path: 'body/attachmentIds/1', message: expect.any(String) },
    ])
    const after = await ticketCount()
    expect(after).toBe(tickets)
    expect((await attachmentRow(mine.id))?.message_id).toBeNull()
  })

  it("refuses an API key another principal's upload, and takes its own", async () => {
    const ticket = (await openTicket(acme.customer, {})).json() as Created
    const key = await apiKey(acme.owner, ['tickets:read', 'tickets:read_all', 'tickets:write'])
    const owners = await uploaded(acme.owner)
    const refused = await post(key, ticket.id, { attachmentIds: [owners.id] })
    expect(refused.statusCode).toBe(422)
    const keys = await uploaded(key)
    const taken = await post(key, ticket.id, { attachmentIds: [keys.id] })
    expect(taken.statusCode, taken.body).toBe(201)
    expect((await download(acme.customer.headers, keys.id)).statusCode).toBe(200)
  })

  it('takes at most 20 ids, each once', async () => {
    const ticket = (await openTicket(acme.customer, {})).json() as Created
    const { id } = await uploaded(acme.agent)
    const twice = await post(acme.agent, ticket.id, { attachmentIds: [id, id] })
    expect(twice.statusCode).toBe(400)
    expect(twice.json().code).toBe('validation_failed')
    const many = Array.from({ length: 21 }, () => id)
    expect((await post(acme.agent, ticket.id, { attachmentIds: many })).statusCode).toBe(400)
    expect((await attachmentRow(id))?.message_id).toBeNull()
  })

  it('replays the message with its attachments for a retried Idempotency-Key', async () => {
    const ticket = (await openTicket(acme.customer, {})).json() as Created
    const { id } = await uploaded(acme.agent)
    const send = () =>
      post({ ...acme.agent.headers, 'idempotency-key': `attach-${id}` }, ticket.id, {
        attachmentIds: [id],
      })
    const first = await send()
    const again = await send()
    expect(first.statusCode, first.body).toBe(201)
    expect(again.statusCode).toBe(201)
    expect(again.headers['idempotent-replayed']).toBe('true')
    expect(again.json()).toEqual(first.json())
    expect(again.json().attachments.map((a: { id: string }) => a.id)).toEqual([id])
  })
})

describe('the domain functions other writers use', () => {
  it('uploadAttachment deletes the file again when its row cannot be written', async () => {
    const before = storedFiles()
    const noSuchTenant = '0193a0c5-0000-7000-8000-00000000beef'
    await expect(
      uploadAttachment(
        app.database,
        app.storage,
        { tenantId: noSuchTenant, principal: `user:${acme.agent.userId}` },
        { stream: Readable.from([PNG]), filename: 'orphan.png', declaredType: 'image/png' },
        MAX_BYTES,
      ),
    ).rejects.toThrow()
    expect(storedFiles()).toEqual(before)
  })

  it("insertAttachment files a mail's attachments on its message, inline images listed last", async () => {
    const ticket = await app.inject({
      method: 'POST',
      url: '/v1/tickets',
      headers: acme.customer.headers,
      payload: { subject: 'By mail', body: 'See attached.' },
    })
    const messageId = ticket.json().firstMessage.id as string
    const file = (filename: string, inline: boolean) => ({
      tenantId: acme.id,
      principal: null,
      messageId,
      filename,
      contentType: 'image/png',
      size: PNG.length,
      sha256: createHash('sha256').update(PNG).digest('hex'),
      storageKey: `${acme.id}/${randomUUID()}`,
      inline,
    })
    const listed = await withScope(app.database, { tenantId: acme.id }, async (tx) => {
      await insertAttachment(tx, file('logo.png', true))
      await insertAttachment(tx, file('../invoice.png', false))
      return attachmentsOfMessages(tx, acme.id, [messageId, randomUUID()])
    })
    expect([...listed.keys()]).toEqual([messageId])
    expect(listed.get(messageId)?.map((a) => a.filename)).toEqual(['invoice.png', 'logo.png'])
    const [row] = await ctx.sql<{ attached_at: Date | null }[]>`
      select attached_at from attachments where message_id = ${messageId} limit 1`
    expect(row?.attached_at).toBeInstanceOf(Date)
  })
})
