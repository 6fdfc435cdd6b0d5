// What a tenant may call itself. The name is shown to people outside the tenant
// (invitation emails, ticket emails), so a name that carries a link or reads as
// an address ("verify at http://evil.test/login") would let any tenant send
// phishing from the platform's sender. Such names are refused outright rather
// than cleaned: a silently rewritten name would still read as a message.
import { Problem } from './problems.ts'

/** A link, or what a mail client or a reader takes for one. */
const LINK_LIKE = [
  /\bhttps?\b/i,
  /:\/\//,
  /\bwww\s*\./i,
  // A dotted domain (evil.test, paypal.com.example): a letter or digit, a dot, two letters.
  /[\p{L}\p{N}]\.\p{L}{2,}/u,
  // The usual ways of writing a dot so that filters miss it: [.] (.) (dot) [dot]
  /[[(]\s*(?:\.|dot)\s*[\])]/i,
]

function tenantNameProblem(name: string): string | null {
  // NFKC first, so fullwidth or styled letters (ｈｔｔｐ, ．) are caught as the ones they mimic.
  const plain = name.normalize('NFKC').replace(/[\u3002\uff61]/g, '.')
  if (LINK_LIKE.some((pattern) => pattern.test(plain))) {
    return 'A tenant name may not contain a link, a web address or a domain name.'
  }
  return null
}

/** 422 `tenant_name_not_allowed` when the name reads as a link. */
export function assertTenantNameAllowed(name: string, path: string): void {
  const problem = tenantNameProblem(name)
  if (problem) {
    throw new Problem('tenant_name_not_allowed', problem, {
      errors: [{ path, message: problem }],
    })
  }
}
