// Refuses the one character PostgreSQL's text cannot hold: NUL. JSON (\u0000)
// and query strings (%00) carry it, and wherever it landed (a message, a
// subject, a search, a filter) the database failed the statement, as a 500,
// and inside a pipelined write the error that surfaced was the next
// statement's "transaction is aborted". So it is refused here, once, before
// validation: 400 invalid_text, nothing run, nothing written.
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { BadRequest } from '../lib/problems.ts'

function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  if (depth > 32 || value === null || typeof value !== 'object' || Buffer.isBuffer(value)) {
    return false
  }
  if (Array.isArray(value)) return value.some((v) => holdsNul(v, depth + 1))
  return Object.entries(value).some(([k, v]) => k.includes('\u0000') || holdsNul(v, depth + 1))
}

async function textInputPlugin(app: FastifyInstance) {
  app.addHook('preValidation', async (request) => {
    if (request.url.includes('%00') || holdsNul(request.body) || holdsNul(request.params)) {
      throw new BadRequest('invalid_text', 'Text may not contain the NUL character (\\u0000).')
    }
  })
}

export default fp(textInputPlugin, { name: 'text-input' })
