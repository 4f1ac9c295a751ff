/**
 * Stored BTF summaries, for every backend: the shape a stored summary must have (checked with zod
 * when read back), and which stored BTF is the program's — the one summary the ownership model
 * replays a run with.
 *
 * Contract: `chooseProgramBtf(rows, of)` takes the BTF rows linked to a run (or given by id: an
 * ingest, before its run is linked) in stored order (btf_files.id, so the same set always gives the
 * same answer) and returns the first whose summary is a program's (`source !== 'kernel'`), else the
 * first (kernel BTF, for its kfuncs), else null, with its id; rows are read lazily and reading stops
 * at the answer. A summary that is not JSON, or not the shape that was stored, gives `{ damaged }`:
 * the message the backend reports as its one-line "database is corrupt" error (naming the run).
 */
import { basename } from 'node:path';
import { z } from 'zod';
import type { BtfSummary } from '../domain/btf/special-fields.ts';
import type { NewBtfFile, ProgramBtf } from './types.ts';

const specialFieldKind = z.enum([
  'kptr', 'kptr_untrusted', 'percpu_kptr', 'uptr', 'list_head', 'rb_root', 'list_node', 'rb_node', 'refcount',
  'spin_lock', 'res_spin_lock', 'timer', 'wq', 'task_work',
]);
const typeRef = z.object({ id: z.number(), name: z.string() });
const graphContains = z.object({
  type: z.string(),
  field: z.string(),
  typeId: z.number().optional(),
  fieldOffset: z.number().optional(),
  fieldKind: specialFieldKind.optional(),
  missing: z.enum(['type', 'field']).optional(),
});
const specialField = z.object({
  name: z.string(),
  offset: z.number(),
  size: z.number(),
  kind: specialFieldKind,
  typeId: z.number(),
  tag: z.string().optional(),
  pointee: z.object({ id: z.number(), name: z.string(), kind: z.string(), isForward: z.boolean() }).optional(),
  contains: graphContains.optional(),
});

/** BtfSummary as btf-service stores it (summarizeBtf's output); the type check below keeps them equal. */
const btfSummarySchema = z.object({
  version: z.literal(1),
  source: z.enum(['program', 'kernel']),
  typeCount: z.number(),
  startId: z.number(),
  structs: z.array(z.object({ id: z.number(), name: z.string(), size: z.number(), fields: z.array(specialField) })),
  globals: z.array(
    z.object({
      name: z.string(),
      id: z.number(),
      size: z.number(),
      layoutSize: z.number(),
      layoutSource: z.enum(['btf', 'elf', 'packed', 'packed-aligned8']),
      vars: z.array(
        z.object({
          name: z.string(),
          id: z.number(),
          typeId: z.number(),
          typeName: z.string(),
          linkage: z.string(),
          offset: z.number(),
          size: z.number(),
          layoutOffset: z.number(),
          specialFields: z.array(specialField.extend({ valueOffset: z.number() })),
          contains: graphContains.optional(),
        }),
      ),
    }),
  ),
  mapValueTypes: z.array(
    z.object({
      name: z.string(),
      varId: z.number(),
      mapType: z.number().optional(),
      mapTypeName: z.string().optional(),
      keyType: typeRef.optional(),
      valueType: typeRef.optional(),
      keySize: z.number().optional(),
      valueSize: z.number().optional(),
      maxEntries: z.number().optional(),
      mapFlags: z.number().optional(),
      valueSpecialFields: z.array(specialField),
    }),
  ),
  kfuncs: z.array(
    z.object({
      id: z.number(),
      name: z.string(),
      linkage: z.string(),
      tagged: z.boolean(),
      tags: z.array(z.string()),
      params: z.array(z.object({ name: z.string(), typeId: z.number(), typeName: z.string() })),
      returns: z.string(),
      returnTypeId: z.number(),
    }),
  ),
  warnings: z.array(z.string()),
});

// The schema accepts exactly the BtfSummary type: a change to one without the other fails typecheck.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _schemaIsBtfSummary: Same<z.infer<typeof btfSummarySchema>, BtfSummary> = true;

export interface Row {
  id: number;
  source: unknown;
  summary_json: unknown;
}

/** One line, at most `max` characters (error messages quote the damaged text). */
function oneLine(s: string, max = 160): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The stored summary, or why it is not a BtfSummary. */
function readSummary(text: unknown): { why: string } | { summary: BtfSummary } {
  if (typeof text !== 'string') return { why: `is not text (${text === null ? 'null' : typeof text})` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { why: `is not valid JSON (${oneLine((e as Error).message)})` };
  }
  const checked = btfSummarySchema.safeParse(value);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the summary';
    return { why: `does not have the shape of a BTF summary (${oneLine(`${where}: ${issue?.message ?? 'invalid'}`)})` };
  }
  // The JSON as stored (zod's copy would drop fields a newer summary may carry).
  return { summary: value as BtfSummary };
}

/** The program's BTF summary among a run's (or an ingest's) stored BTF files; see the contract above. */
export function chooseProgramBtf(rows: Iterable<Row>, of: { runId: number } | { btfIds: readonly number[] }): ProgramBtf | null | { damaged: string } {
  let fallback: ProgramBtf | null = null;
  for (const r of rows) {
    const read = readSummary(r.summary_json);
    if ('why' in read) {
      const file = typeof r.source === 'string' ? ` (${basename(r.source)})` : '';
      const [owner, it] = 'runId' in of ? [`run ${of.runId}`, `BTF ${r.id}${file}`] : [`BTF ${r.id}${file}`, 'it'];
      return { damaged: `the stored BTF summary of ${owner} is damaged: ${it} ${read.why}` };
    }
    if (read.summary.source !== 'kernel') return { id: r.id, summary: read.summary };
    fallback ??= { id: r.id, summary: read.summary };
  }
  return fallback;
}

/** A btf_files row as both backends store it (for copying a file whole). */
export interface BtfFileRecord {
  sha256: string;
  source: string;
  format: string;
  size_bytes: number;
  type_count: number;
  summary_json: string;
  raw_z: Buffer;
  created_at: string;
}

/** The stored file as a NewBtfFile; a damaged summary is `damaged(message)` (the backend's one-line error). */
export function btfFileOf(b: BtfFileRecord, damaged: (message: string) => Error): NewBtfFile {
  const read = readSummary(b.summary_json);
  if ('why' in read) throw damaged(`the stored BTF summary of ${basename(b.source)} ${read.why}`);
  return { sha256: b.sha256, source: b.source, format: b.format, sizeBytes: b.size_bytes, typeCount: b.type_count, summary: read.summary, rawZ: b.raw_z, createdAt: b.created_at };
}
