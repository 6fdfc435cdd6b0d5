// The README's receiver example ("Webhook signatures"), run as written against
// real deliveries: it accepts ours and refuses a delivery signed with another
// secret, so the documentation cannot drift from what we send.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { deliverWebhook } from '../../src/lib/webhooks/deliver.ts'
import { createWebhookSecret } from '../../src/lib/webhooks/secrets.ts'
import { plainHeaders, type Receiver, startReceiver } from './receiver.ts'

function readmeExample(): string {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.slice(readme.indexOf('\n### Webhook signatures'))
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1]
  expect(code, 'the README shows a receiver in TypeScript').toBeTruthy()
  return code as string
}

type ReadEvent = (body: string, headers: Record<string, string>) => unknown

let receiver: Receiver | undefined
afterAll(async () => {
  await receiver?.close()
})

describe("the README's receiver example", () => {
  it('verifies our deliveries and refuses one signed with another secret', async () => {
    const secret = createWebhookSecret()
    const packageUrl = pathToFileURL(createRequire(import.meta.url).resolve('standardwebhooks'))
    const source = readmeExample().replace("from 'standardwebhooks'", `from '${packageUrl.href}'`)
    const file = join(mkdtempSync(join(tmpdir(), 'dp-readme-')), 'receiver.ts')
    writeFileSync(file, source)
    process.env.DESKPILOT_WEBHOOK_SECRET = secret
    const { readDeskpilotEvent } = (await import(pathToFileURL(file).href)) as {
      readDeskpilotEvent: ReadEvent
    }

    const accepted: unknown[] = []
    receiver = await startReceiver((_req, res, received) => {
      try {
        accepted.push(readDeskpilotEvent(received.body, plainHeaders(received.headers)))
        res.writeHead(204).end()
      } catch (err) {
        res.writeHead(400).end(String(err))
      }
    })
    const delivery = {
      url: receiver.url(),
      id: 'evt_readme',
      type: 'contact.created',
      timestamp: new Date('2026-12-01T00:00:00Z'),
      data: { contact: { id: 'c1' } },
    }
    const settings = { allowHttp: true, allowPrivateNetworks: true }

    const ours = await deliverWebhook({ ...delivery, secrets: [secret] }, settings)
    expect(ours).toMatchObject({ ok: true, statusCode: 204 })
    expect(accepted).toEqual([
      {
        type: 'contact.created',
        timestamp: '2026-12-01T00:00:00.000Z',
        data: { contact: { id: 'c1' } },
      },
    ])

    const forged = await deliverWebhook({ ...delivery, secrets: [createWebhookSecret()] }, settings)
    expect(forged).toMatchObject({ ok: false, statusCode: 400, final: true })
    expect(forged.responseExcerpt).toMatch(/No matching signature/)
    expect(accepted).toHaveLength(1)
  })
})
