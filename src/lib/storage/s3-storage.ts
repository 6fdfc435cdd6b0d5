// Files in any S3-compatible store (AWS S3, MinIO, R2, ...), through the AWS
// SDK v3. Uploads stream through lib-storage's Upload (multipart past 5 MiB,
// aborted on failure, so a broken stream leaves no object); downloads are
// presigned GETs that carry the Content-Disposition and Content-Type the api
// chose, so the store serves the file as an attachment of the sniffed type.

import type { Readable } from 'node:stream'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { assertStorageKey, attachmentDisposition, type Storage } from './storage.ts'

export type S3Options = {
  endpoint: string | undefined
  region: string
  bucket: string
  accessKeyId: string | undefined
  secretAccessKey: string | undefined
  forcePathStyle: boolean
}

export function s3Storage(options: S3Options): Storage {
  const config: S3ClientConfig = {
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    // Checksums only where an operation requires them: S3-compatible stores
    // that predate the SDK's default CRC32 trailers (aws-chunked bodies,
    // SDK 3.729 on) refuse uploads otherwise.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  }
  if (options.endpoint) config.endpoint = options.endpoint
  if (options.accessKeyId && options.secretAccessKey) {
    config.credentials = {
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
    }
  }
  const client = new S3Client(config)
  const Bucket = options.bucket
  return {
    driver: 's3',
    async put(key, body, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket, Key: assertStorageKey(key), Body: body, ContentType: contentType },
      })
      // Upload aborts a multipart upload that failed; a single-part one is
      // never stored unless complete.
      await upload.done()
    },
    async get(key) {
      try {
        const answer = await client.send(
          new GetObjectCommand({ Bucket, Key: assertStorageKey(key) }),
        )
        return (answer.Body as Readable | undefined) ?? null
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') {
          return null
        }
        throw err
      }
    },
    signedUrl(key, headers, expiresInSeconds) {
      const command = new GetObjectCommand({
        Bucket,
        Key: assertStorageKey(key),
        ResponseContentDisposition: attachmentDisposition(headers.filename),
        ResponseContentType: headers.contentType,
      })
      return getSignedUrl(client, command, { expiresIn: expiresInSeconds })
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: assertStorageKey(key) }))
    },
    async close() {
      client.destroy()
    },
  }
}
