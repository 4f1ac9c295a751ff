/**
 * Errors that cross the app boundary (IPC, HTTP, worker messages): a code the renderer can act on
 * and one sentence for people. Anything else thrown by a handler becomes `internal` (logged by the
 * host, never shown with a stack to the page).
 */
import type { ApiErrorBody, ApiErrorCode } from './contract.ts';

export class AppError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

const HTTP_STATUS: Record<ApiErrorCode, number> = {
  'bad-request': 400,
  'not-found': 404,
  unsupported: 501,
  ingest: 422,
  internal: 500,
};

export function httpStatus(code: ApiErrorCode): number {
  return HTTP_STATUS[code];
}

export function errorBody(e: unknown): ApiErrorBody {
  if (e instanceof AppError) return { error: { code: e.code, message: e.message } };
  return { error: { code: 'internal', message: 'internal error (see the host log)' } };
}
