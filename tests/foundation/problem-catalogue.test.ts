// Each problem code is defined once, with its status: the typed errors take the
// status from the catalogue and accept only codes of their own status (the
// expected-error lines fail `npm run typecheck` the day they would compile).
import { describe, expect, it } from 'vitest'
import { PROBLEMS, type ProblemCode } from '../../src/lib/problem-catalogue.ts'
import {
  BadRequest,
  Conflict,
  Forbidden,
  Problem,
  ServiceUnavailable,
  TooManyRequests,
  Unauthorized,
} from '../../src/lib/problems.ts'

describe('problem catalogue', () => {
  it('gives every code its one status and its detail by default', () => {
    for (const [code, { status, detail }] of Object.entries(PROBLEMS)) {
      const problem = new Problem(code as ProblemCode)
      expect([problem.code, problem.statusCode, problem.message]).toEqual([code, status, detail])
    }
  })

  it('typed errors accept only codes of their status', () => {
    expect(new BadRequest('invalid_cursor').statusCode).toBe(400)
    expect(new Unauthorized('token_reused').statusCode).toBe(401)
    expect(new Forbidden('csrf_failed').statusCode).toBe(403)
    expect(new Conflict('Taken.', 'slug_taken').statusCode).toBe(409)
    expect(new TooManyRequests(3, 'mail_quota_exceeded').statusCode).toBe(429)
    const unavailable = new ServiceUnavailable('stream_limit', 5)
    expect([unavailable.statusCode, unavailable.headers]).toEqual([503, { 'retry-after': '5' }])
    const wrong = () => {
      // @ts-expect-error not_found is a 404, not a 400
      new BadRequest('not_found')
      // @ts-expect-error a code the catalogue does not define
      new Forbidden('made_up_code')
    }
    expect(wrong).toBeTypeOf('function')
  })

  it('a library error outside the catalogue keeps its own status and code', () => {
    const problem = Problem.foreign(418, 'teapot', 'I am a teapot.')
    expect([problem.statusCode, problem.code, problem.title]).toEqual([
      418,
      'teapot',
      "I'm a Teapot",
    ])
  })
})
