// Which webhook URLs a tenant may register, and which addresses a delivery may
// reach. checkWebhookUrl runs when an endpoint is saved (a refusal becomes a 422
// invalid_webhook_url) and again before each delivery, since the settings may
// have changed. It can only judge what the URL says: a hostname is checked
// again after DNS, when connecting (deliver.ts), with addressRefusal below and
// request-filtering-agent, so a name that resolves to 127.0.0.1 gets nowhere.
import { BlockList, isIP } from 'node:net'

export interface WebhookUrlSettings {
  /** plain http accepted (WEBHOOK_ALLOW_HTTP; development) */
  allowHttp: boolean
  /** loopback, private, link-local and other non-public addresses reachable (WEBHOOK_ALLOW_PRIVATE_NETWORKS) */
  allowPrivateNetworks: boolean
}

export type WebhookUrlReason =
  | 'malformed'
  | 'scheme_not_allowed'
  | 'https_required'
  | 'credentials_not_allowed'
  | 'localhost_not_allowed'
  | 'unspecified_address'
  | 'private_address'

export type WebhookUrlCheck =
  | { ok: true; url: URL }
  | { ok: false; reason: WebhookUrlReason; message: string }

const MAX_URL_LENGTH = 2048

// 0.0.0.0 and :: reach the local host on most systems; never a valid destination.
const unspecified = new BlockList()
unspecified.addSubnet('0.0.0.0', 8, 'ipv4')
unspecified.addAddress('::', 'ipv6')

// Everything that is not public unicast: the special ranges of RFC 6890 and its
// successors, as request-filtering-agent (through ipaddr.js) also refuses them,
// plus ::/96 (IPv4-compatible IPv6, e.g. ::7f00:1), which ipaddr.js calls unicast.
// Two lists: a BlockList matches IPv4 addresses against IPv6 rules through their
// mapped form, so one list holding ::ffff:0:0/96 would refuse every IPv4 address.
const nonPublicV4 = new BlockList()
const nonPublicV6 = new BlockList()
for (const [network, prefix] of [
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT (Alibaba's metadata service is 100.100.100.200)
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, where cloud metadata lives (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments (Oracle's metadata: 192.0.0.192)
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) {
  nonPublicV4.addSubnet(network, prefix, 'ipv4')
}
for (const [network, prefix] of [
  ['::', 96], // ::1, and IPv4-compatible addresses
  ['::ffff:0:0', 96], // IPv4-mapped (::ffff:127.0.0.1), whatever the IPv4 address
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96], // NAT64 to any IPv4 address, private ones included
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2001:10::', 28],
  ['2001:20::', 28],
  ['2001:30::', 28],
  ['2002::', 16], // 6to4 wraps an IPv4 address
  ['2620:4f:8000::', 48],
  ['3fff::', 20],
  ['5f00::', 16],
  ['fc00::', 7], // unique local (AWS's IPv6 metadata: fd00:ec2::254)
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  nonPublicV6.addSubnet(network, prefix, 'ipv6')
}

/**
 * Why a delivery may not connect to this IP address, or null when it may. Used for
 * literal IP hosts and, at connect time, for every address DNS answered.
 */
export function addressRefusal(
  address: string,
  allowPrivateNetworks: boolean,
): 'unspecified_address' | 'private_address' | null {
  const family = isIP(address)
  if (family === 0) return 'private_address'
  const type = family === 4 ? 'ipv4' : 'ipv6'
  if (unspecified.check(address, type)) return 'unspecified_address'
  const nonPublic = family === 4 ? nonPublicV4 : nonPublicV6
  if (!allowPrivateNetworks && nonPublic.check(address, type)) return 'private_address'
  return null
}

/** `localhost` and every name under it (RFC 6761), with or without the trailing dot. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

function refuse(reason: WebhookUrlReason, message: string): WebhookUrlCheck {
  return { ok: false, reason, message }
}

/**
 * Parses and checks a webhook URL. The WHATWG parser has already turned
 * 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into 127.0.0.1, lower-cased the host
 * and compressed IPv6, so the checks below see one spelling of each address.
 */
export function checkWebhookUrl(input: string, settings: WebhookUrlSettings): WebhookUrlCheck {
  if (input.length > MAX_URL_LENGTH) {
    return refuse('malformed', `a webhook URL has at most ${MAX_URL_LENGTH} characters`)
  }
  let url: URL
  try {
    url = new URL(input)
  } catch {
    return refuse('malformed', 'not an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return refuse('scheme_not_allowed', 'a webhook URL is https (or http where allowed)')
  }
  if (url.protocol === 'http:' && !settings.allowHttp) {
    return refuse('https_required', 'a webhook URL must use https')
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('credentials_not_allowed', 'a webhook URL may not carry a user name or password')
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  if (host === '') return refuse('malformed', 'a webhook URL needs a host')
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, settings.allowPrivateNetworks)
    if (refusal === 'unspecified_address') {
      return refuse(refusal, `${url.hostname} is not a destination address`)
    }
    if (refusal) return refuse(refusal, `${url.hostname} is not a public address`)
    return { ok: true, url }
  }
  if (isLocalhostName(host) && !settings.allowPrivateNetworks) {
    return refuse('localhost_not_allowed', `${url.hostname} is this machine`)
  }
  return { ok: true, url }
}
