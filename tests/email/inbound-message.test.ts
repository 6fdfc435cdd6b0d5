// Reading an incoming email: real MIME built by nodemailer's composer (and a
// few written by hand, as broken senders write them), parsed as the ingestion
// path parses it.
import MailComposer from 'nodemailer/lib/mail-composer/index.js'
import { describe, expect, it } from 'vitest'
import { mailAttachmentName, parseInboundMessage } from '../../src/domain/email/inbound-message.ts'

type Options = ConstructorParameters<typeof MailComposer>[0]

function compose(options: Options): Promise<Buffer> {
  return new MailComposer({
    from: 'Jane Doe <Jane.Doe@Example.COM>',
    to: 'acme@in.deskpilot.test',
    subject: 'Printer jams',
    ...options,
  })
    .compile()
    .build()
}

describe('inbound message', () => {
  it('reads sender, recipients, ids and the new text of a reply, quote and signature cut', async () => {
    const raw = await compose({
      cc: ['boss@example.com'],
      messageId: '<reply-1@example.com>',
      inReplyTo: '<sent-9@acme.deskpilot.test>',
      references: ['<first@example.com>', '<sent-9@acme.deskpilot.test>'],
      headers: { 'Delivered-To': 'acme+ignored@in.deskpilot.test' },
      text: [
        'Thanks, that fixed it!',
        '',
        'But the printer still jams on page 2.',
        '',
        '-- ',
        'Jane Doe',
        'Head of Printing, Example Inc.',
        '',
        'On Mon, Dec 7, 2026 at 10:00 AM Acme Support <acme@in.deskpilot.test> wrote:',
        '> Try turning it off and on again.',
        '> Regards, Olga',
      ].join('\n'),
    })
    const message = await parseInboundMessage(raw)
    expect(message.from).toEqual({ email: 'jane.doe@example.com', name: 'Jane Doe' })
    expect(message.messageId).toBe('reply-1@example.com')
    expect(message.threadIds).toEqual(['sent-9@acme.deskpilot.test', 'first@example.com'])
    expect(message.recipients).toEqual([
      'acme+ignored@in.deskpilot.test',
      'acme@in.deskpilot.test',
      'boss@example.com',
    ])
    expect(message.subject).toBe('Printer jams')
    expect(message.body).toBe('Thanks, that fixed it!\n\nBut the printer still jams on page 2.')
    expect(message.machine).toBeNull()
    expect(message.attachments).toEqual([])
  })

  it('cuts an Outlook-style original message block', async () => {
    const raw = await compose({
      text: 'Still broken.\n\n-----Original Message-----\nFrom: Acme Support\nSent: Monday\nSubject: Re: x\n\nOld text',
    })
    expect((await parseInboundMessage(raw)).body).toBe('Still broken.')
  })

  it('turns HTML-only mail into text', async () => {
    const raw = await compose({
      html: '<p>Hello <b>team</b>,</p><p>the <a href="https://example.com/x">link</a> is dead.</p>',
    })
    const { body } = await parseInboundMessage(raw)
    expect(body).toContain('Hello team')
    expect(body).toContain('is dead')
    expect(body).not.toContain('<p>')
  })

  it('keeps attachments and inline images, with names that are only names', async () => {
    const raw = await compose({
      html: '<p>See <img src="cid:shot@example.com"></p>',
      attachments: [
        { filename: 'log.txt', content: 'line 1\nline 2\n' },
        { filename: '../../etc/passwd', content: 'root:x:0:0' },
        {
          filename: 'screen.png',
          content: Buffer.from('89504e47', 'hex'),
          cid: 'shot@example.com',
        },
      ],
    })
    const { attachments } = await parseInboundMessage(raw)
    const listed = attachments.map((a) => [a.filename, a.contentId, a.content.length])
    expect(listed.sort()).toEqual([
      ['log.txt', null, 14],
      ['passwd', null, 10],
      ['screen.png', 'shot@example.com', 4],
    ])
  })

  it('gives a message without a Message-ID an id of its own', async () => {
    const raw = Buffer.from(
      'From: a@example.com\r\nTo: acme@in.deskpilot.test\r\nSubject: hi\r\n\r\nhello\r\n',
    )
    const message = await parseInboundMessage(raw)
    expect(message.messageId).toMatch(/@deskpilot\.invalid$/)
    expect(message.body).toBe('hello')
  })

  it.each([
    ['loop', { 'X-Deskpilot-Loop': 'acme' }, undefined],
    ['auto_reply', { 'Auto-Submitted': 'auto-replied' }, undefined],
    ['auto_reply', { 'X-Autoreply': 'yes' }, undefined],
    ['auto_reply', { Precedence: 'bulk' }, undefined],
    ['auto_reply', { Precedence: 'list' }, undefined],
    ['bounce', {}, 'MAILER-DAEMON@mx.example.com'],
    ['bounce', { 'Return-Path': '<>' }, undefined],
  ] as const)('recognises machine mail: %s %j', async (kind, headers, from) => {
    const raw = await compose({ headers, ...(from ? { from } : {}), text: 'I am away.' })
    expect((await parseInboundMessage(raw)).machine).toBe(kind)
  })

  it('does not take Auto-Submitted: no for machine mail', async () => {
    const raw = await compose({ headers: { 'Auto-Submitted': 'no' }, text: 'A person wrote this.' })
    expect((await parseInboundMessage(raw)).machine).toBeNull()
  })

  it.each([
    ['no header section at all', ''],
    ['no From address', 'To: acme@in.deskpilot.test\r\nSubject: x\r\n\r\nbody'],
    ['a NUL in a header', 'From: a@example.com\r\nSubject: a\u0000b\r\n\r\nbody'],
  ])('refuses %s with invalid_message', async (_, raw) => {
    await expect(parseInboundMessage(Buffer.from(raw))).rejects.toMatchObject({
      statusCode: 400,
      code: 'invalid_message',
    })
  })

  it('reads a truncated multipart message as far as it goes', async () => {
    const whole = await compose({
      text: 'The beginning of a long story.',
      attachments: [{ filename: 'big.bin', content: Buffer.alloc(50_000, 7) }],
    })
    const message = await parseInboundMessage(whole.subarray(0, Math.floor(whole.length / 2)))
    expect(message.body).toBe('The beginning of a long story.')
  })

  it('drops NUL characters from the text, which PostgreSQL cannot store', async () => {
    const raw = Buffer.from('From: a@example.com\r\nSubject: x\r\n\r\nbefore\u0000after\r\n')
    expect((await parseInboundMessage(raw)).body).toBe('beforeafter')
  })

  it('keeps very long lines whole instead of scanning them for quotes', async () => {
    const line = `On ${'a '.repeat(20_000)}wrote:`
    const raw = await compose({ text: `${line}\n> quoted` })
    const started = performance.now()
    const message = await parseInboundMessage(raw)
    expect(message.body.startsWith('On a a')).toBe(true)
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('mailAttachmentName: a name, never a path, never empty', () => {
    expect(mailAttachmentName('..\\..\\win.ini', 'text/plain')).toBe('win.ini')
    expect(mailAttachmentName('.hidden', 'text/plain')).toBe('hidden')
    expect(mailAttachmentName('a\u0000b.pdf', 'application/pdf')).toBe('ab.pdf')
    expect(mailAttachmentName(undefined, 'image/png')).toBe('attachment.png')
    expect(mailAttachmentName('///', 'application/octet-stream')).toBe('attachment.octet-stream')
  })
})
