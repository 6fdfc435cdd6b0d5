// The header Deskpilot sets on every email it sends. Mail that comes back in
// carrying it (an auto-forward, a mailing list, a misrouted bounce) is
// Deskpilot's own and is recorded as a loop, never taken in as a customer's.
export const LOOP_HEADER = 'x-deskpilot-loop'
