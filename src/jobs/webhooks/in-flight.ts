// How many attempts this process has in flight per webhook endpoint, so that
// one endpoint cannot take every slot of the webhook queue: a failing endpoint
// gets one attempt at a time (each may hang for the whole timeout), a healthy
// one at most three quarters of WORKER_CONCURRENCY_WEBHOOK, which leaves the
// rest for the others. Per process, as the slots are.

export type Slot = { release(): void }

function createEndpointSlots() {
  const inFlight = new Map<string, number>()
  return {
    /** A slot for an attempt at the endpoint, or null when it has its share already. */
    take(endpointId: string, failing: boolean, concurrency: number): Slot | null {
      const share = failing ? 1 : Math.max(1, Math.floor((concurrency * 3) / 4))
      const now = inFlight.get(endpointId) ?? 0
      if (now >= share) return null
      inFlight.set(endpointId, now + 1)
      let released = false
      return {
        release() {
          if (released) return
          released = true
          const left = (inFlight.get(endpointId) ?? 1) - 1
          if (left <= 0) inFlight.delete(endpointId)
          else inFlight.set(endpointId, left)
        },
      }
    },
  }
}

export const endpointSlots = createEndpointSlots()
