/**
 * Row ⇄ record mapping of the CI fleet's tables (ci_objects, ci_jobs), shared by every backend.
 */
import type { CiJob, CiObject } from './types.ts';

export interface CiObjectRow {
  sha256: string;
  name: string;
  bytes: Buffer;
  created_at: string;
}

export interface CiJobRow {
  job_id: string;
  tag: string;
  object_sha: string;
  object_name: string;
  kernel: string;
  submitted_at: string;
}

export function ciObjectOf(r: CiObjectRow): CiObject {
  return { sha256: r.sha256, name: r.name, bytes: r.bytes, createdAt: r.created_at };
}

export function ciJobOf(r: CiJobRow): CiJob {
  return { jobId: r.job_id, tag: r.tag, objectSha: r.object_sha, objectName: r.object_name, kernel: r.kernel, submittedAt: r.submitted_at };
}
