/**
 * One entry point for every request, whatever its transport: checks the method exists, validates
 * the payload with the contract's zod schema, and calls the handler. Electron's IPC handler and the
 * browser host's HTTP handler both call `dispatch`; nothing reaches a handler unvalidated.
 */
import { z } from 'zod';
import { inputSchemas, isMethod, type Handlers, type Method } from './contract.ts';
import { AppError } from './errors.ts';

export type PartialHandlers = Partial<Handlers>;

/** Validate a request; throws AppError('bad-request' | 'not-found'). */
export function validate(method: string, input: unknown): { method: Method; input: unknown } {
  if (!isMethod(method)) throw new AppError('not-found', `unknown method "${method.slice(0, 64)}"`);
  const parsed = inputSchemas[method].safeParse(input ?? {});
  if (!parsed.success) throw new AppError('bad-request', `${method}: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return { method, input: parsed.data };
}

export async function dispatch(handlers: PartialHandlers, method: string, input: unknown): Promise<unknown> {
  const v = validate(method, input);
  const h = handlers[v.method] as ((i: unknown) => unknown) | undefined;
  if (!h) throw new AppError('unsupported', `${v.method} is not available in this host`);
  return await h(v.input);
}
