import { KubeApiError } from "./errors.ts";

/**
 * Reading what an API server sends without trusting its size: a response body and a watch line are read while they
 * stream, and reading stops (the connection is dropped) as soon as they pass their limit, instead of buffering
 * whatever a misbehaving or hostile server sends.
 */

export interface KubeClientLimits {
  /** The most bytes of one response body (one list page, one object); default 64 MiB. */
  maxResponseBytes: number;
  /** The most bytes of one watch event (one line of the stream); default 4 MiB. */
  maxWatchLineBytes: number;
  /** The most bytes of an error answer that are read (the rest is cut, not an error); default 64 KiB. */
  maxErrorBodyBytes: number;
  /** The most items listAll collects over all pages; default 500,000. */
  maxListItems: number;
}

export const DEFAULT_LIMITS: Readonly<KubeClientLimits> = Object.freeze({
  maxResponseBytes: 64 * 1024 * 1024,
  maxWatchLineBytes: 4 * 1024 * 1024,
  maxErrorBodyBytes: 64 * 1024,
  maxListItems: 500_000,
});

export type LimitedPart = "response body" | "watch line" | "list";

function formatLimit(limit: number, part: LimitedPart): string {
  if (part === "list") return `${limit} items`;
  if (limit >= 1024 * 1024 && limit % (1024 * 1024) === 0) return `${limit / (1024 * 1024)} MiB`;
  if (limit >= 1024 && limit % 1024 === 0) return `${limit / 1024} KiB`;
  return `${limit} bytes`;
}

/**
 * The server sent more than the client's limit: reading stopped there. The status 413 is the client's own (the
 * server answered 200): it keeps the error a client error for errorKind/targetErrorReason ("ResponseTooLarge"), not
 * "Unreachable".
 */
export class ResponseTooLargeError extends KubeApiError {
  readonly limit: number;
  readonly part: LimitedPart;
  constructor(method: string, path: string, part: LimitedPart, limit: number, seen: number) {
    const unit = part === "list" ? "items" : "bytes";
    super(
      `${method} ${path}: the ${part} exceeds the limit of ${formatLimit(limit, part)}; not reading further`,
      413,
      "ResponseTooLarge",
      method,
      path,
      { cause: new RangeError(`${seen} ${unit} read, limit ${limit} ${unit}`) },
    );
    this.limit = limit;
    this.part = part;
  }
}

const asBuffer = (chunk: Uint8Array): Buffer => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * Reads a whole body of at most `limit` bytes. Past the limit it throws `tooLarge(bytesSeen)` at once; leaving the
 * loop cancels the stream, which drops the connection.
 */
export async function readBounded(
  body: AsyncIterable<Uint8Array> | null | undefined,
  limit: number,
  tooLarge: (seen: number) => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!body) return Buffer.alloc(0);
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(size);
    chunks.push(asBuffer(chunk));
  }
  return Buffer.concat(chunks, size);
}

/** The first `limit` bytes of a body as text (an error answer: what is past the limit is cut, marked with `…`). */
export async function readTruncated(
  body: AsyncIterable<Uint8Array> | null | undefined,
  limit: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  let cut = false;
  if (!body) return "";
  for await (const chunk of body) {
    const room = limit - size;
    if (chunk.byteLength > room) {
      chunks.push(asBuffer(chunk).subarray(0, room));
      size = limit;
      cut = true;
      break;
    }
    chunks.push(asBuffer(chunk));
    size += chunk.byteLength;
  }
  const text = Buffer.concat(chunks, size).toString("utf8");
  return cut ? `${text}…` : text;
}

/**
 * Splits a byte stream into newline-terminated lines of at most `maxLineBytes` each (without the newline). Works
 * on bytes, so a line costs no more than its own size however the stream is chunked (a newline byte never occurs
 * inside a multi-byte UTF-8 character), and throws `tooLong(bytesSeen)` as soon as a line passes the limit,
 * without waiting for its end.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly tooLong: (seen: number) => Error;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxLineBytes: number, tooLong: (seen: number) => Error) {
    this.maxLineBytes = maxLineBytes;
    this.tooLong = tooLong;
  }

  /**
   * Calls `onLine` with every line this chunk completes, in order; then throws if the unfinished rest is already
   * past the limit (the lines before it are delivered first).
   */
  push(chunk: Uint8Array, onLine: (line: string) => void): void {
    const buf = asBuffer(chunk);
    let start = 0;
    for (let newline = buf.indexOf(0x0a, start); newline >= 0; newline = buf.indexOf(0x0a, start)) {
      const piece = buf.subarray(start, newline);
      const size = this.pendingBytes + piece.byteLength;
      if (size > this.maxLineBytes) throw this.tooLong(size);
      const line = this.pendingBytes ? Buffer.concat([...this.pending, piece], size) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      onLine(line.toString("utf8"));
    }
    if (start < buf.byteLength) {
      this.pendingBytes += buf.byteLength - start;
      if (this.pendingBytes > this.maxLineBytes) throw this.tooLong(this.pendingBytes);
      this.pending.push(Buffer.from(buf.subarray(start))); // a copy: the chunk itself is not kept alive
    }
  }

  /** Bytes of an unfinished line held now. */
  get buffered(): number {
    return this.pendingBytes;
  }
}
