// A ticket cannot be poisoned through its search vectors: a customer posting
// many ~99 KB messages of random words (every word a new lexeme) used to make
// the seventh post a 500 ("string is too long for tsvector") and every post
// after the first few cost ~800 ms. Each message indexes only its first
// SEARCH_BOUNDS.messageChars characters and a ticket's vector stops growing
// past SEARCH_BOUNDS.ticketLexemes, so the work a post does is bounded. The
// test counts that work (lexemes in the vectors the UPDATE rewrites) instead
// of timing it.
import { beforeAll, describe, expect, it } from 'vitest'
import { SEARCH_BOUNDS } from '../../src/domain/tickets/ticket-stamps.ts'
import { useTestApp } from '../helpers/app.ts'
import { staleSearchVectors } from '../helpers/search-vectors.ts'
import { type Actor, createTestTenant, type TestTenant } from '../helpers/tenancy.ts'

const ctx = await useTestApp()
let acme: TestTenant

beforeAll(async () => {
  acme = await createTestTenant(ctx)
})

/** Deterministic random words: letters only, 5 to 10 of them, so nearly every word is new. */
function randomWords(seed: number, bytes: number): string {
  let state = seed
  const next = () => {
    // xorshift-multiply on 32-bit integers (Math.imul keeps it exact)
    state = (Math.imul(state ^ (state >>> 15), 2246822519) + 0x9e3779b9) >>> 0
    return (state ^ (state >>> 13)) >>> 0
  }
  const words: string[] = []
  let size = 0
  while (size < bytes) {
    const length = 5 + (next() % 6)
    let word = ''
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + (next() % 26))
    words.push(word)
    size += length + 1
  }
  return words.join(' ')
}

function post(actor: Actor, url: string, payload: Record<string, unknown>) {
  return ctx.app.inject({ method: 'POST', url, headers: actor.headers, payload })
}

async function vectorSizes(ticketId: string) {
  const [row] = await ctx.sql<{ public: number; all: number }[]>`
    select length(search_public) as public, length(search_all) as all
    from tickets where id = ${ticketId}`
  return row!
}

describe('search vectors are bounded per message and per ticket', () => {
  it('many large random-word messages: every post succeeds, the work per post stays bounded', async () => {
    const opened = await post(acme.customer, '/v1/tickets', {
      subject: 'Poisoned thread',
      body: `aardwolfish opening words ${randomWords(1, 99_000)}`,
    })
    expect(opened.statusCode, opened.body).toBe(201)
    const ticket = opened.json() as { id: string }

    const sizes: number[] = []
    for (let i = 0; i < 12; i++) {
      const res = await post(acme.customer, `/v1/tickets/${ticket.id}/messages`, {
        body: randomWords(100 + i, 99_000),
      })
      // What cannot be stored would be a clean 4xx; none of these is refused.
      expect(res.statusCode, res.body).toBe(201)
      const { public: inPublic, all } = await vectorSizes(ticket.id)
      expect(all).toBe(inPublic)
      sizes.push(all)
    }
    // The vector grows to the ticket's cap and then stays where it is, so a
    // post rewrites at most cap + one message's lexemes, however long the thread.
    const ceiling = SEARCH_BOUNDS.ticketLexemes + SEARCH_BOUNDS.messageChars / 2
    for (const size of sizes) expect(size).toBeLessThan(ceiling)
    expect(sizes.at(-1)).toBe(sizes.at(-2))
    const res = await post(acme.agent, `/v1/tickets/${ticket.id}/messages`, {
      body: 'internal words past the cap',
      internal: true,
    })
    expect(res.statusCode, res.body).toBe(201)
    expect((await vectorSizes(ticket.id)).all).toBe(sizes.at(-1))

    // What cannot be stored is refused whole, before the database: nothing written.
    const countMessages = async () =>
      (
        await ctx.sql<{ count: number }[]>`
        select count(*)::int as count from messages where ticket_id = ${ticket.id}`
      )[0]?.count
    const before = await countMessages()
    const tooLong = await post(acme.customer, `/v1/tickets/${ticket.id}/messages`, {
      body: 'x'.repeat(100_001),
    })
    expect(tooLong.statusCode).toBe(400)
    expect(tooLong.json().code).toBe('validation_failed')
    expect(await countMessages()).toBe(before)

    // The early words are still found; the rebuild applies the same bounds.
    const found = await ctx.app.inject({
      method: 'GET',
      url: '/v1/tickets?q=aardwolfish',
      headers: acme.customer.headers,
    })
    expect(found.statusCode, found.body).toBe(200)
    expect(found.json().data.map((t: { id: string }) => t.id)).toEqual([ticket.id])
    expect(await staleSearchVectors(ctx.sql, [ticket.id])).toEqual([])

    // A subject change rebuilds the vectors from the thread under the same bounds.
    const renamed = await ctx.app.inject({
      method: 'PATCH',
      url: `/v1/tickets/${ticket.id}`,
      headers: acme.agent.headers,
      payload: { subject: 'Poisoned thread, renamed' },
    })
    expect(renamed.statusCode, renamed.body).toBe(200)
    expect(await staleSearchVectors(ctx.sql, [ticket.id])).toEqual([])
    expect((await vectorSizes(ticket.id)).all).toBeLessThan(ceiling)
  })

  it('only the first messageChars characters of a message are indexed', async () => {
    const body = `${'filler '.repeat(Math.ceil(SEARCH_BOUNDS.messageChars / 7))} zymurgical`
    const opened = await post(acme.customer, '/v1/tickets', { subject: 'Long one', body })
    expect(opened.statusCode, opened.body).toBe(201)
    const found = await ctx.app.inject({
      method: 'GET',
      url: '/v1/tickets?q=zymurgical',
      headers: acme.agent.headers,
    })
    expect(found.json().data).toEqual([])
    expect(await staleSearchVectors(ctx.sql, [opened.json().id])).toEqual([])
  })
})
