/**
 * A source of cryptographically secure random bytes (oslo's RandomReader).
 * Core code takes one as a parameter so it stays pure and testable; the only
 * production implementation (node:crypto randomBytes) is created in app.ts.
 */
export type RandomReader = (byteLength: number) => Uint8Array;
