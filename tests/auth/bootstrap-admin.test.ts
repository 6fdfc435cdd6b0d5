// The ADMIN_EMAIL bootstrap, attacked: someone signs up (unverified) as the
// address the operator will later configure, choosing the password. Starting
// the api must then refuse, never promote that account.
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../src/app.ts'
import { loadConfig } from '../../src/config.ts'
import { testEnv, useTestApp } from '../helpers/app.ts'
import { bearer, logIn, signUp } from '../helpers/auth.ts'

const ctx = await useTestApp({ env: { AUTH_RATE_LIMIT_MAX: '1000' } })
const { app } = ctx

function startWithAdmin(email: string, password: string) {
  const config = loadConfig(
    testEnv({ DATABASE_URL: ctx.database.url, ADMIN_EMAIL: email, ADMIN_PASSWORD: password }),
  )
  return buildApp(config)
}

describe('bootstrap admin', () => {
  it('refuses to start when the address belongs to an account that is not a platform admin', async () => {
    const attacker = await signUp(app, {
      email: 'ops@platform.test',
      password: 'the attacker chose this passphrase',
    })
    const [before] = await ctx.sql`select password_hash, is_platform_admin, email_verified_at
                                   from users where id = ${attacker.user.id}`
    expect(before).toMatchObject({ is_platform_admin: false, email_verified_at: null })

    await expect(startWithAdmin('OPS@platform.test', 'the operator passphrase 42')).rejects.toThrow(
      /ADMIN_EMAIL=ops@platform\.test belongs to an existing account that is not a platform admin/,
    )

    const [after] = await ctx.sql`select password_hash, is_platform_admin, email_verified_at
                                  from users where id = ${attacker.user.id}`
    expect(after).toEqual(before)
    const users = await ctx.sql`select id from users where lower(email) = 'ops@platform.test'`
    expect(users).toHaveLength(1)
    const signedIn = await logIn(app, 'ops@platform.test', 'the attacker chose this passphrase')
    const me = await app.inject({ url: '/v1/auth/me', headers: bearer(signedIn.accessToken) })
    expect(me.json().user.isPlatformAdmin).toBe(false)
  })

  it('creates a new account once, and a restart leaves the platform admin as it is', async () => {
    const first = await startWithAdmin('root@platform.test', 'the operator passphrase 42')
    await first.close()
    const [created] = await ctx.sql`select id, password_hash, is_platform_admin
                                    from users where email = 'root@platform.test'`
    expect(created?.is_platform_admin).toBe(true)
    const again = await startWithAdmin('root@platform.test', 'a different passphrase now 7')
    await again.close()
    const [after] = await ctx.sql`select id, password_hash, is_platform_admin
                                  from users where email = 'root@platform.test'`
    expect(after).toEqual(created)
  })
})
