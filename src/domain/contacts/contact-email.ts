// How a contact's email is stored, so that two spellings of one mailbox are one
// contact and a look-alike is refused rather than taken for someone else:
// NFKC folds compatibility forms (full-width letters, ligatures), the whole
// address is lowercased (mailbox case is ignored by every provider a helpdesk
// meets), the domain is stored in its ASCII (punycode) form, where a Cyrillic
// "а" in a domain shows as xn--…, and the local part must be printable ASCII:
// a local part with a Cyrillic "а" or a zero-width space is refused (400
// invalid_email), never stored beside the real one. Internationalised local
// parts (SMTPUTF8) are the price; no helpdesk peer accepts them either.
import { domainToASCII } from 'node:url'
import { BadRequest } from '../../lib/problems.ts'

const LOCAL_PART = /^[!#-'*+\-/-9=?A-Z^-~.]{1,64}$/
const ASCII_DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/

/** The stored form of an address, or null when it is not one Deskpilot accepts. */
export function contactEmailKey(raw: string): string | null {
  const folded = raw.normalize('NFKC').trim().toLowerCase()
  const at = folded.lastIndexOf('@')
  if (at < 1) return null
  const local = folded.slice(0, at)
  const domain = domainToASCII(folded.slice(at + 1))
  if (
    !LOCAL_PART.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  ) {
    return null
  }
  if (!ASCII_DOMAIN.test(domain)) return null
  return `${local}@${domain}`
}

/** contactEmailKey(), or 400 invalid_email naming the field. */
export function normaliseContactEmail(raw: string, path = 'body/email'): string {
  const key = contactEmailKey(raw)
  if (!key) {
    throw new BadRequest(
      'invalid_email',
      'The email address is not valid: its local part must be printable ASCII and its domain a real domain name.',
      [{ path, message: 'is not an email address Deskpilot accepts' }],
    )
  }
  return key
}
