// Where a webhook delivery may connect, decided when connecting: the agents
// (request-filtering-agent, refusing loopback, private, link-local and metadata
// addresses after DNS) and a resolver wrapper applying our own rules
// (url-rules.ts) to every address DNS answers. The socket connects to the very
// address that was checked, so there is no window between a check and a second
// lookup for DNS rebinding to use.
import type { Agent } from 'node:http'
import type { LookupFunction } from 'node:net'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'
import { addressRefusal } from './url-rules.ts'

/** A connection refused because of where it would go (our check or the agent's). */
export class AddressRefusedError extends Error {
  readonly code = 'ERR_WEBHOOK_ADDRESS_REFUSED'
}

// request-filtering-agent's refusals are plain Errors; this is their wording at 3.2.x
// (tests/webhooks/deliver.test.ts fails if it changes).
const AGENT_REFUSAL = /^DNS lookup .* is not allowed\. Because/

export function isAddressRefusal(err: Error): boolean {
  return err instanceof AddressRefusedError || AGENT_REFUSAL.test(err.message)
}

/** An agent that refuses, when connecting, the addresses the settings forbid. */
export function filteringAgent(
  protocol: 'http:' | 'https:',
  allowPrivateNetworks: boolean,
  keepAlive: boolean,
): Agent {
  const options = {
    keepAlive,
    maxFreeSockets: 32,
    allowPrivateIPAddress: allowPrivateNetworks,
    allowMetaIPAddress: false,
  }
  return protocol === 'https:'
    ? new RequestFilteringHttpsAgent(options)
    : new RequestFilteringHttpAgent(options)
}

const agents = new Map<string, Agent>()

/**
 * The filtering agent for a protocol and setting, kept for the process so
 * keep-alive connections to busy receivers are reused.
 */
export function webhookAgent(protocol: 'http:' | 'https:', allowPrivateNetworks: boolean): Agent {
  const key = `${protocol}${allowPrivateNetworks}`
  let agent = agents.get(key)
  if (!agent) {
    agent = filteringAgent(protocol, allowPrivateNetworks, true)
    agents.set(key, agent)
  }
  return agent
}

/**
 * Wraps a resolver so every address it answers passes our own rules (the same
 * as checkWebhookUrl's for literal IPs) before the socket may connect to it.
 */
export function guardedLookup(
  resolve: LookupFunction,
  allowPrivateNetworks: boolean,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (err, address, family) => {
      if (err) return callback(err, address, family)
      const answers = Array.isArray(address) ? address : [{ address, family }]
      for (const answer of answers) {
        if (addressRefusal(answer.address, allowPrivateNetworks)) {
          const refused = new AddressRefusedError(
            `${hostname} resolves to ${answer.address}, which webhooks may not reach`,
          )
          return callback(refused, address, family)
        }
      }
      callback(null, address, family)
    })
  }
}
