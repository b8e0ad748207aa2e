// The error a launch rejects with when its AbortSignal was aborted before anything started
// (the same name and code as Node's own AbortError, so `err.name === 'AbortError'` works).
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The launch was aborted before it started', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}
