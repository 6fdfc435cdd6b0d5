// The emails Deskpilot sends, each as a subject, a plain-text body and an HTML
// body. Everything interpolated into HTML is escaped: names and tenant names
// are user input. A subject line reads as the platform speaking, so no tenant's
// name is ever in one (a tenant could call itself "Your mailbox is suspended");
// ticket subjects carry the tenant's slug, which is only [a-z0-9-], and the
// ticket's own subject, written by the people on the ticket. In a body a tenant
// or inviter name is quoted and labelled as the tenant's own words.
export type RenderedEmail = { subject: string; text: string; html: string }

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)
}

function layout(opts: { greeting: string; lines: string[]; action: string; link: string }) {
  const text = [
    opts.greeting,
    '',
    ...opts.lines,
    '',
    `${opts.action}: ${opts.link}`,
    '',
    '— Deskpilot',
  ].join('\n')
  const paragraphs = opts.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')
  const html = `<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.5">
<p>${escapeHtml(opts.greeting)}</p>
${paragraphs}
<p><a href="${escapeHtml(opts.link)}">${escapeHtml(opts.action)}</a></p>
<p style="color: #666">If the button does not work, paste this address into your browser:<br>${escapeHtml(opts.link)}</p>
<p>— Deskpilot</p>
</body></html>`
  return { text, html }
}

export function verifyEmail(opts: { name: string; link: string }): RenderedEmail {
  return {
    subject: 'Confirm your email address',
    ...layout({
      greeting: `Hello ${opts.name},`,
      lines: [
        'Please confirm that this is your email address for Deskpilot.',
        'The link is valid for 24 hours.',
      ],
      action: 'Confirm email address',
      link: opts.link,
    }),
  }
}

export function passwordReset(opts: { name: string; link: string }): RenderedEmail {
  return {
    subject: 'Reset your Deskpilot password',
    ...layout({
      greeting: `Hello ${opts.name},`,
      lines: [
        'Someone asked to reset the password of your Deskpilot account.',
        'The link is valid for 30 minutes. If it was not you, ignore this email: your password stays as it is.',
      ],
      action: 'Choose a new password',
      link: opts.link,
    }),
  }
}

export function accountLocked(opts: {
  name: string
  link: string
  minutes: number
}): RenderedEmail {
  return {
    subject: 'Your Deskpilot account was locked',
    ...layout({
      greeting: `Hello ${opts.name},`,
      lines: [
        `After too many failed sign-in attempts, your Deskpilot account is locked for ${opts.minutes} minutes.`,
        'If it was you, unlock it with the link below (valid while the lock lasts). If it was not you, unlock it too: the attempts did not get in, and a password reset also unlocks the account.',
      ],
      action: 'Unlock my account',
      link: opts.link,
    }),
  }
}

export function invitation(opts: {
  tenantName: string
  inviterName: string | null
  link: string
  expiresAt: Date
}): RenderedEmail {
  return {
    subject: "You're invited to join a team on Deskpilot",
    ...layout({
      greeting: 'Hello,',
      lines: [
        'You are invited to join a team on Deskpilot, a helpdesk service.',
        `The team's name, as the team itself chose it: “${opts.tenantName}”.`,
        ...(opts.inviterName ? [`Invited by a member of that team: “${opts.inviterName}”.`] : []),
        'Deskpilot does not check what a team calls itself: if you do not know this team, ignore this email.',
        `The invitation is valid until ${opts.expiresAt.toUTCString()}.`,
      ],
      action: 'Accept the invitation',
      link: opts.link,
    }),
  }
}

/** An email ready to send; `ticketId` makes it part of that ticket's mail thread. */
export type Outgoing = {
  to: string | string[]
  email: RenderedEmail
  ticketId?: string
  /** the tenant's inbound address, so a reply by mail continues the ticket */
  replyTo?: string
}

type TicketRef = { tenantSlug: string; number: number; subject: string }

/** The `[<slug> #<number>]` token inbound mail is threaded by (API.md, inbound email). */
function ticketTag(t: TicketRef): string {
  return `[${t.tenantSlug} #${t.number}]`
}

function bodyLines(body: string): string[] {
  return body
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
}

export function ticketReply(opts: {
  ticket: TicketRef
  requesterName: string
  authorName: string
  byAi: boolean
  body: string
  link: string
}): RenderedEmail {
  const note = opts.byAi
    ? [
        '(This reply was written by an automated assistant. Reply in the conversation to reach a person.)',
      ]
    : []
  return {
    subject: `Re: ${ticketTag(opts.ticket)} ${opts.ticket.subject}`,
    ...layout({
      greeting: `Hello ${opts.requesterName},`,
      lines: [
        `${opts.authorName} replied to your request #${opts.ticket.number}, "${opts.ticket.subject}":`,
        ...bodyLines(opts.body),
        ...note,
      ],
      action: 'View the conversation',
      link: opts.link,
    }),
  }
}

export function ticketCreated(opts: {
  ticket: TicketRef
  requesterName: string
  body: string
  link: string
}): RenderedEmail {
  return {
    subject: `${ticketTag(opts.ticket)} New ticket: ${opts.ticket.subject}`,
    ...layout({
      greeting: 'Hello,',
      lines: [
        `${opts.requesterName} opened ticket #${opts.ticket.number}, "${opts.ticket.subject}":`,
        ...bodyLines(opts.body),
      ],
      action: 'Open the ticket',
      link: opts.link,
    }),
  }
}

export function webhookDisabled(opts: {
  tenantName: string
  url: string
  reason: string | null
  link: string
}): RenderedEmail {
  return {
    subject: `A webhook of ${opts.tenantName} was turned off`,
    ...layout({
      greeting: 'Hello,',
      lines: [
        `Deskpilot turned off the webhook endpoint ${opts.url} of ${opts.tenantName}.`,
        opts.reason ?? 'Every delivery to it failed for 3 days.',
        'Events are no longer sent to it. Once the receiver works again, turn the endpoint on; its deliveries log shows what failed, and each delivery can be sent again.',
      ],
      action: 'Open the webhook settings',
      link: opts.link,
    }),
  }
}
