/**
 * The app-wide services components reach through Svelte context: the typed client, the
 * transport (for uploads / dropped-file paths), and the host's info.
 */
import { getContext, setContext } from 'svelte';
import type { AppInfo, Client } from '../../src-main/contract/contract.ts';
import type { Transport } from './bridge.ts';

export interface AppContext {
  client: Client;
  transport: Transport;
  readonly info: AppInfo | null;
}

const KEY = Symbol('kptrscope');

export function provideApp(ctx: AppContext): void {
  setContext(KEY, ctx);
}

export function useApp(): AppContext {
  const ctx = getContext<AppContext | undefined>(KEY);
  if (!ctx) throw new Error('kptrscope context missing');
  return ctx;
}
