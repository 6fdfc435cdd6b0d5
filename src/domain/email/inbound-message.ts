// What an incoming email says, read once from its raw bytes (RFC 5322 / MIME)
// with mailparser: who sent it and to whom, the ids that thread it, the new
// text with the quoted history and signature cut (email-reply-parser), its
// attachments and inline images, and whether it is machine mail (an
// auto-reply, a bounce, or one of Deskpilot's own) that must be recorded and
// never answered. Both front doors (the HTTP hook and the SMTP receiver) hand
// the raw message to the one ingestion path, which starts here.

import EmailReplyParser from 'email-reply-parser'
import { type AddressObject, type ParsedMail, simpleParser } from 'mailparser'
import { BadRequest } from '../../lib/problems.ts'
import { safeFilename } from '../files/filenames.ts'
import { LOOP_HEADER } from './loop-header.ts'

export type InboundAttachment = {
  filename: string
  /** the type the message declares; the stored type is sniffed from the bytes */
  declaredType: string
  content: Buffer
  /** set for an inline image that the HTML refers to as cid: */
  contentId: string | null
}

export type MachineMail = 'auto_reply' | 'bounce' | 'loop'

export type InboundMessage = {
  /** the Message-ID without its angle brackets; one is made up when it has none */
  messageId: string
  /** In-Reply-To, then References, newest first, without angle brackets */
  threadIds: string[]
  from: { email: string; name: string | null }
  /** where it was delivered, best first: Delivered-To, X-Original-To, To, Cc */
  recipients: string[]
  subject: string
  /** the new text: quoted history and signature cut */
  body: string
  attachments: InboundAttachment[]
  /** machine mail, recorded and never answered; null for a person's mail */
  machine: MachineMail | null
}

/** Text past this is kept whole: the reply parser's time grows with line length. */
const QUOTE_SCAN_LIMIT = 64 * 1024
const RFC_LINE_LIMIT = 998

export async function parseInboundMessage(raw: Buffer): Promise<InboundMessage> {
  const headerEnd = findHeaderEnd(raw)
  if (headerEnd < 0) throw invalid('The message has no header section.')
  if (raw.subarray(0, headerEnd).includes(0)) throw invalid('A header holds a NUL character.')
  let mail: ParsedMail
  try {
    mail = await simpleParser(raw, { skipTextToHtml: true, skipImageLinks: true })
  } catch {
    throw invalid('The message could not be parsed as MIME.')
  }
  const from = firstAddress(mail.from)
  if (!from) throw invalid('The message has no From address.')
  const text = withoutNul(mail.text ?? '')
  return {
    messageId: bare(mail.messageId) ?? `${crypto.randomUUID()}@deskpilot.invalid`,
    threadIds: threadIdsOf(mail),
    from,
    recipients: recipientsOf(mail),
    subject: withoutNul(mail.subject ?? '').trim(),
    body: newText(text),
    attachments: mail.attachments.map((a) => ({
      filename: mailAttachmentName(a.filename, a.contentType),
      declaredType: a.contentType || 'application/octet-stream',
      content: a.content,
      contentId: a.related && a.cid ? a.cid : null,
    })),
    machine: machineMailOf(mail, from.email),
  }
}

function invalid(detail: string) {
  return new BadRequest('invalid_message', detail)
}

/** Where the header section ends (the first empty line), or -1. */
function findHeaderEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n')
  const lf = raw.indexOf('\n\n')
  const ends = [crlf, lf].filter((i) => i >= 0)
  if (ends.length === 0) return raw.length > 0 && raw.includes(':') ? raw.length : -1
  return Math.min(...ends)
}

function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '')
}

function bare(id: string | undefined): string | null {
  const trimmed = id?.trim().replace(/^<|>$/g, '')
  return trimmed ? trimmed : null
}

function threadIdsOf(mail: ParsedMail): string[] {
  const references = Array.isArray(mail.references)
    ? mail.references
    : (mail.references ?? '').split(/\s+/)
  const ids = [mail.inReplyTo ?? '', ...references.reverse()]
    .flatMap((value) => value.match(/<[^<>\s]+>/g) ?? (value.trim() ? [value.trim()] : []))
    .map((id) => bare(id))
    .filter((id): id is string => id !== null)
  return [...new Set(ids)].slice(0, 50)
}

function addressesOf(value: AddressObject | AddressObject[] | undefined) {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value]
  return objects.flatMap((o) =>
    o.value.flatMap((a) => (a.group ? a.group : [a])).filter((a) => a.address),
  )
}

function firstAddress(value: AddressObject | undefined) {
  const [first] = addressesOf(value)
  if (!first?.address) return null
  return { email: first.address.toLowerCase(), name: first.name?.trim() || null }
}

function headerAddresses(mail: ParsedMail, name: string): string[] {
  return header(mail, name).match(/[^\s<>,;:"]+@[^\s<>,;:"]+/g) ?? []
}

function recipientsOf(mail: ParsedMail): string[] {
  const all = [
    ...headerAddresses(mail, 'delivered-to'),
    ...headerAddresses(mail, 'x-original-to'),
    ...addressesOf(mail.to).map((a) => a.address as string),
    ...addressesOf(mail.cc).map((a) => a.address as string),
  ]
  return [...new Set(all.map((a) => a.toLowerCase()))].slice(0, 100)
}

/**
 * The new text of a reply. email-reply-parser cuts `On ... wrote:` blocks,
 * `-----Original Message-----` headers, `>` quotes and signatures in a dozen
 * languages; its time grows with the square of a line's length, so text with
 * a line past RFC 5322's 998 characters or longer than 64 KiB is kept whole
 * (the original is stored beside it anyway).
 */
function newText(text: string): string {
  const normalised = text.replace(/\r\n/g, '\n').trim()
  if (normalised.length > QUOTE_SCAN_LIMIT) return normalised
  if (normalised.split('\n').some((line) => line.length > RFC_LINE_LIMIT)) return normalised
  const reply = new EmailReplyParser().parseReply(normalised).trim()
  // A message that is nothing but a quote (a forward with no comment) keeps its text.
  return reply || normalised
}

/**
 * A mail attachment's name, cleaned by the one rule for offered file names
 * (files/filenames.ts); one with no name left is `attachment.<subtype>`.
 */
export function mailAttachmentName(name: string | undefined, contentType: string): string {
  const extension = contentType.split('/')[1]?.replace(/[^a-z0-9.+-]/gi, '') || 'bin'
  return safeFilename(name, `attachment.${extension}`)
}

/** A header's text, lower-cased; mailparser gives address headers as objects with `text`. */
function header(mail: ParsedMail, name: string): string {
  const value = mail.headers.get(name)
  if (value === undefined) return ''
  const text = typeof value === 'object' && value !== null && 'text' in value ? value.text : value
  return String(text).trim().toLowerCase()
}

/**
 * Machine mail, in the order that matters: Deskpilot's own mail coming back
 * (a loop) first, then bounces (a delivery report, MAILER-DAEMON, or the empty
 * return path `<>` that RFC 5321 gives to notifications), then auto-replies
 * (RFC 3834's Auto-Submitted, and the headers vacation responders and lists
 * use).
 */
function machineMailOf(mail: ParsedMail, fromEmail: string): MachineMail | null {
  if (mail.headers.has(LOOP_HEADER)) return 'loop'
  const returnPath = header(mail, 'return-path')
  const contentType = header(mail, 'content-type')
  if (
    /^(mailer-daemon|postmaster)@/.test(fromEmail) ||
    returnPath === '<>' ||
    (mail.headers.has('return-path') && returnPath === '') ||
    contentType.startsWith('multipart/report')
  ) {
    return 'bounce'
  }
  const autoSubmitted = header(mail, 'auto-submitted')
  if (autoSubmitted && autoSubmitted !== 'no') return 'auto_reply'
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return 'auto_reply'
  if (['bulk', 'auto_reply', 'list', 'junk'].includes(header(mail, 'precedence'))) {
    return 'auto_reply'
  }
  return null
}
