// The webhook URL rules: what a tenant may register (422 invalid_webhook_url
// later) and which literal addresses are refused before any connection.
import { describe, expect, it } from 'vitest'
import { addressRefusal, checkWebhookUrl } from '../../src/lib/webhooks/url-rules.ts'

const strict = { allowHttp: false, allowPrivateNetworks: false }
const httpOnly = { allowHttp: true, allowPrivateNetworks: false }
const open = { allowHttp: true, allowPrivateNetworks: true }

function reason(url: string, settings = httpOnly): string {
  const result = checkWebhookUrl(url, settings)
  return result.ok ? 'ok' : result.reason
}

describe('checkWebhookUrl', () => {
  it('accepts a public https URL, with a port, path and query, and hands back the parsed URL', () => {
    const result = checkWebhookUrl('https://Hooks.Example.com:8443/in/deskpilot?x=1', strict)
    expect(result.ok).toBe(true)
    if (result.ok) {
      expect(result.url.hostname).toBe('hooks.example.com')
      expect(result.url.port).toBe('8443')
      expect(result.url.search).toBe('?x=1')
    }
    expect(reason('https://93.184.215.14/hook', strict)).toBe('ok')
    expect(reason('https://[2606:4700::1111]/hook', strict)).toBe('ok')
  })

  it('requires https unless allowHttp, and refuses every other scheme', () => {
    expect(reason('http://hooks.example.com/', strict)).toBe('https_required')
    expect(reason('http://hooks.example.com/', httpOnly)).toBe('ok')
    for (const url of [
      'ftp://hooks.example.com/',
      'file:///etc/passwd',
      'gopher://x/',
      'ws://x/',
    ]) {
      expect(reason(url, open), url).toBe('scheme_not_allowed')
    }
  })

  it('refuses what is not an absolute URL, or is too long', () => {
    expect(reason('hooks.example.com/in')).toBe('malformed')
    expect(reason('')).toBe('malformed')
    expect(reason(`https://hooks.example.com/${'a'.repeat(2100)}`)).toBe('malformed')
  })

  it('refuses credentials in the URL', () => {
    expect(reason('https://user:pw@hooks.example.com/', strict)).toBe('credentials_not_allowed')
    expect(reason('https://user@hooks.example.com/', strict)).toBe('credentials_not_allowed')
    expect(reason('https://:pw@hooks.example.com/', open)).toBe('credentials_not_allowed')
  })

  it('refuses loopback, private, link-local, CGNAT, metadata and reserved IPv4 literals', () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://127.255.1.2:8080/',
      'http://10.1.2.3/',
      'http://172.16.0.1/',
      'http://172.31.255.255/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/',
      'http://100.100.100.200/', // Alibaba Cloud metadata (CGNAT range)
      'http://192.0.0.192/', // Oracle Cloud metadata
      'http://198.18.0.1/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
    ]) {
      expect(reason(url), url).toBe('private_address')
    }
    // The edges of the ranges are public.
    expect(reason('http://172.32.0.1/')).toBe('ok')
    expect(reason('http://100.128.0.1/')).toBe('ok')
    expect(reason('http://11.0.0.1/')).toBe('ok')
  })

  it('refuses the other spellings of 127.0.0.1 that the URL parser normalises', () => {
    for (const url of [
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://%31%32%37.0.0.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:7f00:1]/',
      'http://[0:0:0:0:0:0:0:1]/',
      'http://[::127.0.0.1]/',
    ]) {
      expect(reason(url), url).toBe('private_address')
    }
    expect(reason('http://0xa9.0xfe.0xa9.0xfe/'), '169.254.169.254 in hex').toBe('private_address')
  })

  it('refuses IPv6 loopback, unique-local (incl. AWS metadata), link-local, mapped and NAT64 literals', () => {
    for (const url of [
      'http://[::1]/',
      'http://[fc00::1]/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://[ff02::1]/',
      'http://[::ffff:10.0.0.1]/',
      'http://[::ffff:8.8.8.8]/',
      'http://[64:ff9b::7f00:1]/',
      'http://[2002:7f00:1::]/',
      'http://[2001:db8::1]/',
    ]) {
      expect(reason(url), url).toBe('private_address')
    }
  })

  it('refuses 0.0.0.0 and [::] even where private networks are allowed', () => {
    for (const url of ['http://0.0.0.0/', 'http://0/', 'http://[::]/', 'http://0.1.2.3/']) {
      expect(reason(url, httpOnly), url).toBe('unspecified_address')
      expect(reason(url, open), url).toBe('unspecified_address')
    }
  })

  it('refuses localhost and *.localhost, with or without the trailing dot', () => {
    for (const url of [
      'http://localhost/',
      'http://LOCALHOST:3000/',
      'http://localhost./',
      'http://api.localhost/',
      'http://a.b.localhost./',
    ]) {
      expect(reason(url), url).toBe('localhost_not_allowed')
    }
    expect(reason('http://localhost.example.com/')).toBe('ok')
    expect(reason('http://notlocalhost/')).toBe('ok')
  })

  it('lets private addresses and localhost through when allowPrivateNetworks is on', () => {
    for (const url of [
      'http://127.0.0.1:4000/',
      'http://localhost:4000/',
      'http://10.0.0.5/',
      'http://[::1]/',
      'http://169.254.169.254/',
    ]) {
      expect(reason(url, open), url).toBe('ok')
    }
  })
})

describe('addressRefusal (the connect-time rule for resolved addresses)', () => {
  it('judges resolved addresses as the URL rules judge literals', () => {
    expect(addressRefusal('127.0.0.1', false)).toBe('private_address')
    expect(addressRefusal('::ffff:127.0.0.1', false)).toBe('private_address')
    expect(addressRefusal('::7f00:1', false)).toBe('private_address')
    expect(addressRefusal('127.0.0.1', true)).toBeNull()
    expect(addressRefusal('0.0.0.0', true)).toBe('unspecified_address')
    expect(addressRefusal('8.8.8.8', false)).toBeNull()
    expect(addressRefusal('2606:4700::1111', false)).toBeNull()
    expect(addressRefusal('not-an-ip', true)).toBe('private_address')
  })
})
