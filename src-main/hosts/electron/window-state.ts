/**
 * What the desktop app remembers between launches, in <userData>/kptrscope-state.json: the window's
 * bounds (restored only if they still fit a display) and the recent files (at most 10, newest
 * first). A missing or damaged file means defaults.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';

const stateSchema = z.object({
  bounds: z.object({ x: z.number(), y: z.number(), width: z.number().min(200), height: z.number().min(200) }).optional(),
  maximized: z.boolean().optional(),
  recent: z.array(z.object({ path: z.string(), btf: z.array(z.string()).default([]), openedAt: z.string() })).default([]),
});

export type AppState = z.infer<typeof stateSchema>;
export type Bounds = NonNullable<AppState['bounds']>;

export function loadState(file: string): AppState {
  try {
    return stateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { recent: [] };
  }
}

export function saveState(file: string, s: AppState): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(s, null, 2));
  } catch {
    /* best effort: a read-only profile must not stop the app */
  }
}

export function addRecent(s: AppState, path: string, btf: string[]): AppState {
  const recent = [{ path, btf, openedAt: new Date().toISOString() }, ...s.recent.filter((r) => r.path !== path)].slice(0, 10);
  return { ...s, recent };
}

/** Bounds that intersect one of the work areas (else undefined: let the window manager place it). */
export function visibleBounds(b: Bounds | undefined, areas: Bounds[]): Bounds | undefined {
  if (!b) return undefined;
  const fits = areas.some((a) => b.x < a.x + a.width - 50 && b.x + b.width > a.x + 50 && b.y < a.y + a.height - 50 && b.y + b.height > a.y);
  return fits ? b : undefined;
}
