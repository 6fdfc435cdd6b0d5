// Where files live: one small interface over two drivers, local disk (local
// mode, a single machine) and any S3-compatible store. Keys are chosen by the
// caller and always start with the tenant id (`<tenantId>/<uuid>`), so one
// tenant's files can be listed and purged by prefix. Bodies stream through;
// no driver holds a whole file in memory.
import type { Readable } from 'node:stream'

export type DownloadHeaders = {
  /** the file name offered to the user's browser */
  filename: string
  /** the sniffed type the download is served with */
  contentType: string
}

export interface Storage {
  readonly driver: 'local' | 's3'
  /**
   * Stores the stream under `key`. Either the whole body is stored or nothing
   * is: a stream that fails half way leaves no object behind.
   */
  put(key: string, body: Readable, contentType: string): Promise<void>
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Readable | null>
  /**
   * A URL that downloads the object for `expiresInSeconds`, with the headers
   * given; null where the driver has no such URL (local disk: stream instead).
   */
  signedUrl(key: string, headers: DownloadHeaders, expiresInSeconds: number): Promise<string | null>
  /** Removes the object; removing one that is not there is no error. */
  delete(key: string): Promise<void>
  close(): Promise<void>
}

const KEY = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+)*$/

/**
 * Refuses a key that could leave its folder or its bucket prefix (`..`, an
 * absolute path, a backslash): keys are built by Deskpilot, never taken from a
 * client, so this is a guard against a bug (an error, a 500), not input validation.
 */
export function assertStorageKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new RangeError(`Not a storage key: ${JSON.stringify(key)}.`)
  }
  return key
}

/**
 * A Content-Disposition value that always downloads (never renders inline), with
 * the name in both forms RFC 6266 gives: an ASCII fallback and the UTF-8 name.
 */
export function attachmentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}`
}
