// Every problem Deskpilot answers with, defined once: its stable `code` (what
// clients branch on), the HTTP status it always comes with, and the detail an
// example shows. Typed errors (src/lib/problems.ts) take their status from
// here and accept only codes of their own status, so `tsc` refuses a code that
// is not in this list or is thrown with another status; the OpenAPI document's
// error examples are built from the same entries (src/lib/problem-responses.ts).
export const PROBLEMS = {
  // 400
  bad_request: { status: 400, detail: 'The request is not valid.' },
  validation_failed: { status: 400, detail: 'The request is not valid.' },
  invalid_json: { status: 400, detail: 'The request body is not valid JSON.' },
  invalid_content_length: {
    status: 400,
    detail: 'The Content-Length header does not match the body.',
  },
  invalid_url: { status: 400, detail: 'The URL is not valid percent-encoded UTF-8.' },
  malformed_request: { status: 400, detail: 'The request is not HTTP.' },
  invalid_cursor: { status: 400, detail: 'The cursor is not valid for this list.' },
  invalid_text: { status: 400, detail: 'Text may not contain the NUL character (\\u0000).' },
  tenant_required: {
    status: 400,
    detail: 'Name the tenant with the X-Tenant-ID header (id or slug) or its subdomain.',
  },
  weak_password: {
    status: 400,
    detail: 'This password is among the most common ones in data breaches; choose another.',
  },
  invalid_slug: { status: 400, detail: 'That slug is reserved.' },
  requester_required: { status: 400, detail: 'Name the requesterId: an API key is no user.' },
  account_details_required: {
    status: 400,
    detail: 'Sign in first, or send name and password to create your account.',
  },
  invalid_or_expired_token: {
    status: 400,
    detail: 'The token is not valid, was used already, or has expired.',
  },
  invalid_message: { status: 400, detail: 'The message has no From address.' },
  invalid_upload: {
    status: 400,
    detail: 'Send one file, as the multipart/form-data part named file, and nothing else.',
  },
  filter_not_allowed: {
    status: 400,
    detail: 'Customers cannot filter or sort by tag, assignee or priority.',
  },
  invalid_email: {
    status: 400,
    detail: 'The email address is not valid: its local part must be ASCII.',
  },
  // 401
  unauthorized: { status: 401, detail: 'Authentication is required.' },
  invalid_token: { status: 401, detail: 'The access token is not valid or has expired.' },
  invalid_credentials: { status: 401, detail: 'The email or password is not correct.' },
  token_reused: {
    status: 401,
    detail: 'This refresh token was already used; the session has been revoked.',
  },
  metrics_token_required: { status: 401, detail: 'Send METRICS_TOKEN as a bearer token.' },
  // 403
  forbidden: { status: 403, detail: 'This needs the tickets:write permission.' },
  csrf_failed: { status: 403, detail: 'The CSRF token is missing or does not match the session.' },
  user_required: { status: 403, detail: 'This needs a signed-in user, not an API key.' },
  owner_required: { status: 403, detail: 'Only an owner can delete the tenant.' },
  platform_admin_required: { status: 403, detail: 'This needs a platform admin.' },
  cannot_change_own_role: { status: 403, detail: 'You cannot change your own role.' },
  permission_escalation: {
    status: 403,
    detail: 'A key cannot hold permissions you do not hold: tenant:manage.',
  },
  invitation_email_mismatch: {
    status: 403,
    detail: 'This invitation was sent to another email address.',
  },
  member_outranks_you: { status: 403, detail: 'That member holds permissions you do not hold.' },
  role_outranks_you: { status: 403, detail: 'That role holds permissions you do not hold.' },
  email_unverified: {
    status: 403,
    detail: 'Verify your email address first: a contact with it exists already.',
  },
  portal_closed: {
    status: 403,
    detail: 'This tenant takes new customers by invitation only.',
  },
  // 404, 405
  not_found: { status: 404, detail: 'The resource was not found.' },
  unknown_recipient: { status: 404, detail: 'No tenant receives mail at that address.' },
  method_not_allowed: { status: 405, detail: 'This method is not allowed here.' },
  // 408
  request_timeout: { status: 408, detail: 'The request took too long to arrive.' },
  // 409
  conflict: { status: 409, detail: 'The request conflicts with the current state.' },
  email_taken: { status: 409, detail: 'An account with this email already exists.' },
  slug_taken: { status: 409, detail: 'That slug is taken.' },
  already_member: { status: 409, detail: 'That person is already a member.' },
  account_exists: {
    status: 409,
    detail: 'An account with this email exists: sign in, then accept the invitation.',
  },
  last_owner: { status: 409, detail: 'A tenant must keep at least one owner.' },
  role_name_taken: { status: 409, detail: 'A role with that name exists.' },
  builtin_role: { status: 409, detail: 'Built-in roles cannot be changed.' },
  role_in_use: { status: 409, detail: 'The role is in use by members or invitations.' },
  ticket_closed: { status: 409, detail: 'This ticket is closed; open a new one instead.' },
  invalid_status_transition: { status: 409, detail: 'A ticket cannot go from closed to open.' },
  contact_exists: {
    status: 409,
    detail: 'A contact with this email exists already; existingId names it.',
  },
  contact_erased: {
    status: 409,
    detail: 'This contact was erased; it cannot be changed any more.',
  },
  contact_has_tickets: {
    status: 409,
    detail: 'This contact requested tickets; erase it instead of deleting it.',
  },
  ticket_merged: { status: 409, detail: 'This ticket was merged into another; write there.' },
  // 412 to 431
  precondition_failed: {
    status: 412,
    detail: 'The ticket changed since you read it (ETag mismatch).',
  },
  payload_too_large: {
    status: 413,
    detail: 'The request body is larger than this server accepts.',
  },
  uri_too_long: { status: 414, detail: 'A path segment of the URL is too long.' },
  unsupported_media_type: { status: 415, detail: 'Request bodies must be application/json.' },
  image_required: {
    status: 415,
    detail: 'An avatar must be a PNG, JPEG, GIF or WebP image.',
  },
  idempotency_key_reused: {
    status: 422,
    detail: 'This Idempotency-Key was used with another request body.',
  },
  invalid_assignee: {
    status: 422,
    detail: 'The assignee must be an active member with agent rights.',
  },
  invalid_requester: { status: 422, detail: 'The requester must be a contact of this tenant.' },
  invalid_attachment: {
    status: 422,
    detail: 'Attach only your own uploads that are not attached yet.',
  },
  invalid_merge: {
    status: 422,
    detail: 'A ticket cannot be merged into itself, nor a merged or closed one.',
  },
  invalid_ai_base_url: {
    status: 422,
    detail: 'The AI base URL must be https and may not point at a private or loopback address.',
  },
  invalid_webhook_url: {
    status: 422,
    detail: 'Webhook URLs must be https and may not point at a private or loopback address.',
  },
  unknown_role: {
    status: 422,
    detail: 'No role named "supervisor"; the roles are owner, admin, agent, customer.',
  },
  tenant_name_not_allowed: {
    status: 422,
    detail: 'A tenant name may not contain a link or a domain.',
  },
  account_locked: { status: 423, detail: 'Too many failed logins; try again in 15 minutes.' },
  ai_budget_exceeded: {
    status: 429,
    detail: 'This tenant has used its monthly AI token budget; it renews on the 1st (UTC).',
  },
  rate_limited: { status: 429, detail: 'Too many requests; retry in 30 seconds.' },
  mail_quota_exceeded: {
    status: 429,
    detail: 'This tenant has sent its 20 invitation emails of the hour; retry later.',
  },
  invitation_cooldown: {
    status: 429,
    detail: 'That address was invited a moment ago; wait before inviting it again.',
  },
  headers_too_large: {
    status: 431,
    detail: 'The request line and headers are larger than this server accepts.',
  },
  // 500
  internal_error: { status: 500, detail: 'An unexpected error occurred.' },
  // 502
  ai_provider_unavailable: {
    status: 502,
    detail: "The tenant's AI provider could not be reached or answered with an error.",
  },
  // 503
  stream_limit: {
    status: 503,
    detail: 'This server holds as many live streams as it may; retry after Retry-After seconds.',
  },
} as const satisfies Record<string, { status: number; detail: string }>

export type ProblemCode = keyof typeof PROBLEMS

/** The codes that come with `status`: what a typed error of that status accepts. */
export type CodeWithStatus<S extends number> = {
  [C in ProblemCode]: (typeof PROBLEMS)[C]['status'] extends S ? C : never
}[ProblemCode]
