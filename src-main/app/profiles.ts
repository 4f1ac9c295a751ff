/**
 * Kernel-profile names as users type them (`6.6`, `6.18.44-fc-v595`) → the model's `major.minor`.
 */
import { KNOWN_PROFILES, NEWEST } from '../domain/model/index.ts';

export class ReplayError extends Error {}

export function normaliseProfile(p: string | undefined): string {
  if (p === undefined) return NEWEST;
  const m = /^(\d+)\.(\d+)/.exec(p.trim());
  if (!m) throw new ReplayError(`--kernel-profile expects <major.minor>, e.g. 6.6 (known: ${KNOWN_PROFILES.join(', ')}), got "${p}"`);
  return `${Number(m[1])}.${Number(m[2])}`;
}

/**
 * The profile a replay uses: the one asked for, else the kernel that printed the log (so the model
 * judges by the same kernel's rules), else the newest.
 */
export function profileForRun(runKernel: string | null | undefined, requested: string | undefined): string {
  if (requested !== undefined) return normaliseProfile(requested);
  if (runKernel && /^\d+\.\d+/.test(runKernel)) return normaliseProfile(runKernel);
  return NEWEST;
}
