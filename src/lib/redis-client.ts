// The ioredis client the api and the worker's producers use. The offline queue
// is off, so while Redis is down a command fails at once instead of hanging a
// request; callers degrade (rate limits skip, jobs wait in the outbox).
import { Redis } from 'ioredis'

export function createRedis(url: string, name: string): Redis {
  return new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
  })
}
