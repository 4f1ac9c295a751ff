// Selftests corpus, step 2 (called by scripts/corpus/build-corpus.sh): turns the raw captures of
// one release into test/corpus/<release>/ — gzipped logs and BTF, manifest.json, README.md.
//
//   node bin/run-ts.mjs scripts/corpus/make-manifest.ts --work DIR --src DIR --out DIR [--seconds N] [--replace]
//
// For every program it puts what the selftests expect (their btf_decl_tag annotations
// __success/__failure/__msg/__log_level/__retval as test_loader reads them, or the
// {prog_name, err_msg} tables of prog_tests/*.c, or "the skeleton must load") beside what the
// kernel did (the running one, or a QEMU guest's: scripts/corpus/guest-load.ts), and flags the
// differences. The facts read from a log (failInsn, message, insnsProcessed) are computed by
// log-facts.ts, which the corpus test reuses.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { logFacts, matchMsgs } from './log-facts.ts';

type Outcome = 'success' | 'failure' | 'unknown';
type Verdict = 'accepted' | 'rejected' | 'load-failed' | 'log-truncated';

export interface Expected {
  outcome: Outcome;
  msgs: string[];
  /** __not_msg (7.x): must not be in the log (between the bracketing __msg matches); recorded, not checked */
  notMsgs?: string[];
  source: string;
  logLevel?: number;
  retval?: string;
  description?: string;
  flags?: string[];
  arch?: string[];
  auxiliary?: true;
  unprivTags?: true;
}

interface LevelFacts {
  errno: number | null;
  failInsn: number | null;
  insnsProcessed: number | null;
  bytes: number;
}

export interface ProgramEntry {
  family: string;
  group: string;
  program: string;
  section: string;
  progType: string;
  attachType?: string;
  autoload: boolean;
  insnCount: number;
  expected: Expected;
  actual: {
    verdict: Verdict;
    errno: number | null;
    errnoName?: string;
    stage: 'verifier' | 'kernel' | 'libbpf';
    failInsn: number | null;
    message: string[];
    insnsProcessed: number | null;
    reason?: string[];
    l2: LevelFacts;
  };
  check: {
    outcome: 'match' | 'mismatch' | 'blocked' | 'n/a';
    msgs: 'match' | 'missing' | 'n/a';
    missingMsg?: string;
    blockedBy?: string;
  };
  files: { L1: string; L2: string; btf: string; obj?: string };
  note?: string;
  /** set when the note is shared by several programs of the family (README groups them) */
  noteKey?: string;
}

interface FamilyEntry {
  family: string;
  group: string;
  status: 'compiled' | 'compile-failed' | 'open-failed' | 'missing';
  error?: string;
  compile?: string;
  expectationSource?: string;
  programs: number;
  files?: { btf: string; obj?: string };
}

// ------------------------------------------------------------------------------------------ notes
// What a reader should know about a result, found by reading the logs of one release; keyed
// "family/program" or "family/*". Generic differences ("expects failure, accepts") are written by
// describe(), host limits by blockedBy(); these add the why. Re-check them when a release is rebuilt.
const NOTES: Record<string, Record<string, string>> = {
  '6.18': {
    'linked_list_fail/ptr_walk_scalar':
      '6.18 types the pointer loaded through the walked field as rdonly_untrusted_mem, no longer as scalar: same rejection, new register type. The later selftests (linux-source-7.3) expect "type=rdonly_untrusted_mem expected=percpu_ptr_".',
    'local_kptr_stash/stash_rb_nodes':
      'clang 19 merged the two bpf_obj_drop() calls of the static helper into one call instruction reached with two object types (plain_local and node_data); the 6.18 kernel of this host refuses that ("same call cannot be used with different types"). That message is in none of the Debian 6.1/6.12/7.2/7.3 kernel sources at hand, so it looks particular to this host\'s kernel build.',
    'rbtree_fail/rbtree_api_remove_unadded_node':
      '6.18 accepts the bpf_rbtree_remove() of the node that was never added (the 7.3 selftest turned this program into __retval(0): at run time that remove returns NULL); the 6.12 program still fails on 6.18, but later, at the container_of() of the unchecked result ("pointer arithmetic on ptr_or_null_").',
    'rbtree_fail/rbtree_api_use_unchecked_remove_retval':
      '6.18 stops at the bpf_rbtree_add() call with the unchecked result ("Possibly NULL pointer passed to trusted arg1"); the 7.3 selftest expects "Possibly NULL pointer passed to trusted R2".',
    'rbtree_fail/rbtree_api_add_release_unlock_escape':
      'new wording; the 7.3 selftest expects exactly what 6.18 says ("bpf_rbtree_remove can only take non-owning or refcounted bpf_rb_node pointer").',
    'rbtree_fail/rbtree_api_first_release_unlock_escape':
      'new wording; the 7.3 selftest expects exactly what 6.18 says ("bpf_rbtree_remove can only take non-owning or refcounted bpf_rb_node pointer").',
    'exceptions_assert/*':
      'the program is meant to be rejected ("R6 invalid mem access \'scalar\'" after the assertion); the expected messages are register states of the __log_level(2) log written with the _w (written) mark, which 6.18 no longer prints (R0=..., not R0_w=...). The 7.3 selftest matches "R{{.}}=..." instead.',
    'rbtree_btf_fail__add_wrong_type/rbtree_api_add__add_wrong_type':
      'fails as prog_tests/rbtree.c wants, but in the verifier: the kernel takes the object BTF and creates the .data.A map, yet does not accept the map value\'s special fields (the bpf_rb_root __contains() a wrong type), so at the first bpf_spin_lock(&glock) "map \'.data.A\' has no valid bpf_spin_lock".',
    'rbtree_btf_fail__wrong_node_type/rbtree_api_add__wrong_node_type':
      'fails as prog_tests/rbtree.c wants, but in the verifier: the kernel takes the object BTF and creates the .data.A map, yet does not accept the map value\'s special fields (the bpf_rb_root __contains() a struct whose node is a bpf_list_node), so at the first bpf_spin_lock(&glock) "map \'.data.A\' has no valid bpf_spin_lock".',
  },
};

/** why a program could not be tried here at all (a property of this machine or of a standalone load) */
function blockedBy(reason: string[], stage: string, errno: number | null, log: string, expected: Expected): string | null {
  const r = reason.join('\n');
  if (/bpf_testmod|bpf_kfunc_call_test_/.test(r)) {
    return 'needs bpf_testmod.ko, the selftests\' own kernel module (its kfuncs or attach targets), which this kernel does not have loaded: libbpf stops before BPF_PROG_LOAD';
  }
  if (stage === 'kernel' && log.trim() === '') {
    return `the kernel refused BPF_PROG_LOAD with ${errno === null ? 'an error' : (ERRNO[errno] ?? `errno ${errno}`)} and an empty log, before the verifier ran: a limit of this host, not a verdict on the program`;
  }
  if (/no BTF-based attach target is specified/.test(r)) {
    return 'the section names no attach target; prog_tests set it at run time (bpf_program__set_attach_target), which a standalone load cannot do';
  }
  if (expected.outcome === 'unknown' && stage === 'libbpf') return expected.source;
  return null;
}

const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 7: 'E2BIG', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY',
  22: 'EINVAL', 28: 'ENOSPC', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP', 525: 'ENOTSUPP?', 4007: 'LIBBPF_ERRNO__PROG2BIG',
};

// ---------------------------------------------------------------------------------------- args
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const work = arg('--work');
const src = arg('--src');
const out = arg('--out');
const seconds = Number(arg('--seconds') ?? 'NaN');
if (!work || !src || !out) {
  process.stderr.write('usage: make-manifest.ts --work DIR --src DIR --out DIR [--seconds N]\n');
  process.exit(2);
}
const st = join(src, 'tools/testing/selftests/bpf');
const raw = join(work, 'raw');
const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const meta = JSON.parse(read(join(work, 'meta.json'))) as Record<string, unknown> & { objMaxBytes: number };

// ------------------------------------------------------------------------- BTF annotations
interface BtfTags {
  funcs: Map<string, number>;
  tags: Map<number, string[]>;
}
export function parseBtfTags(text: string): BtfTags {
  const funcs = new Map<string, number>();
  const tags = new Map<number, string[]>();
  for (const m of text.matchAll(/^\[(\d+)\] FUNC '([^']*)' type_id=\d+/gm)) funcs.set(m[2]!, Number(m[1]));
  // a tag's string may hold quotes (and, rarely, newlines): stop at the first "' type_id=N component_idx=N"
  for (const m of text.matchAll(/^\[\d+\] DECL_TAG '([\s\S]*?)' type_id=(\d+) component_idx=(-?\d+)$/gm)) {
    if (m[3] !== '-1') continue;
    const id = Number(m[2]);
    const list = tags.get(id) ?? [];
    list.push(m[1]!);
    tags.set(id, list);
  }
  return { funcs, tags };
}

/**
 * The test tags of one program in test_loader's order, each as `test_…` without its counter.
 * Two encodings: up to 6.x `comment:test_expect_msg=N=msg` (the __COUNTER__ after the first `=`,
 * in __msg/__xlated/__jited and their _unpriv forms only; the tags are taken in BTF order, as
 * 6.12's test_loader does), from 7.x `comment:N:test_…` for every tag (test_loader sorts them with
 * strverscmp, i.e. by N: BTF does not keep the source order).
 */
export function testTags(tags: string[]): string[] {
  const counted = tags.map((t) => /^comment:(\d+):([\s\S]*)$/.exec(t)).filter((m): m is RegExpExecArray => m !== null);
  if (counted.length > 0) return counted.sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2]!);
  return tags
    .filter((t) => t.startsWith('comment:test_'))
    .map((t) => t.slice('comment:'.length))
    .map((t) => {
      const m = /^(test_expect_msg(?:_unpriv)?=|test_expect_xlated(?:_unpriv)?=|test_jited(?:_unpriv)?=)\d+=([\s\S]*)$/.exec(t);
      return m ? m[1]! + m[2]! : t;
    });
}

// the subset of test_loader.c's parse_test_spec() that matters for a privileged load
function annotations(tags: string[], source: string): Expected | null {
  const e: Expected = { outcome: 'success', msgs: [], source };
  let any = false;
  const val = (s: string, pfx: string): string | null => (s.startsWith(pfx) ? s.slice(pfx.length) : null);
  for (const s of testTags(tags)) {
    if (!s.startsWith('test_') && !s.startsWith('load_mode=')) continue;
    any = true;
    let v: string | null;
    if (s === 'test_expect_failure') e.outcome = 'failure';
    else if (s === 'test_expect_success') e.outcome = 'success';
    else if ((v = val(s, 'test_expect_msg=')) !== null) e.msgs.push(v);
    else if ((v = val(s, 'test_expect_not_msg=')) !== null) (e.notMsgs ??= []).push(v);
    else if ((v = val(s, 'test_log_level=')) !== null) e.logLevel = Number(v);
    else if ((v = val(s, 'test_retval=')) !== null) e.retval = v;
    else if ((v = val(s, 'test_description=')) !== null) e.description = v;
    else if ((v = val(s, 'test_prog_flags=')) !== null) (e.flags ??= []).push(v);
    else if ((v = val(s, 'test_arch=')) !== null) (e.arch ??= []).push(v);
    else if (s === 'test_auxiliary') e.auxiliary = true;
    else if (s.includes('_unpriv')) e.unprivTags = true;
  }
  return any ? e : null;
}

// --------------------------------------------------------------------- prog_tests facts
const progTests = existsSync(join(st, 'prog_tests'))
  ? readdirSync(join(st, 'prog_tests')).filter((f) => f.endsWith('.c')).sort()
  : [];
const progTestText = new Map(progTests.map((f) => [f, read(join(st, 'prog_tests', f))]));
const runTests = new Set(read(join(work, 'run_tests.txt')).split('\n').filter(Boolean));
function testFilesOf(family: string): string[] {
  return progTests.filter((f) => progTestText.get(f)!.includes(`"${family}.skel.h"`)).map((f) => `prog_tests/${f}`);
}
// {prog_name, err_msg} tables, compiled and printed by build-corpus.sh
const tables = new Map<string, { file: string; table: string; msg: string }>();
for (const f of existsSync(join(work, 'tables')) ? readdirSync(join(work, 'tables')) : []) {
  if (!f.endsWith('.tsv')) continue;
  const lines = read(join(work, 'tables', f)).split('\n').filter(Boolean);
  const [, file = '', table = ''] = /^# (\S+) (\S+)/.exec(lines[0] ?? '') ?? [];
  for (const l of lines.slice(1)) {
    const tab = l.indexOf('\t');
    const msg = l.slice(tab + 1).replace(/\\(n|t|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : '\\'));
    tables.set(l.slice(0, tab), { file, table, msg });
  }
}
// objects whose prog_tests assert that open_and_load FAILS (the whole object is the test)
function objectMustFail(family: string): string | null {
  for (const f of testFilesOf(family)) {
    const t = progTestText.get(f.slice('prog_tests/'.length))!;
    // e.g. prog_tests/rbtree.c: skel = rbtree_btf_fail__##suffix##__open_and_load(); ASSERT_ERR_PTR(skel, ...)
    const base = family.replace(/__[a-z_0-9]+$/, '__');
    if (t.includes(`${base}##suffix##__open_and_load`) && /ASSERT_ERR_PTR\(skel/.test(t)) return f;
    if (t.includes(`${family}__open_and_load`) && new RegExp(`ASSERT_ERR_PTR\\(\\w+,\\s*"${family}`).test(t)) return f;
  }
  return null;
}

function expectationFor(
  family: string,
  familyProgs: Set<string>,
  prog: string,
  progType: string,
  section: string,
  tags: string[],
): Expected {
  const files = testFilesOf(family);
  const where = files.length ? files.join(', ') : 'no prog_tests file';
  if (runTests.has(family)) {
    return annotations(tags, `annotations (test_loader: RUN_TESTS(${family}) in ${where})`) ?? {
      outcome: 'success',
      msgs: [],
      source: `test_loader default: no annotation = must load (RUN_TESTS(${family}) in ${where})`,
    };
  }
  const own = annotations(tags, `annotations (not run by test_loader; ${where})`);
  if (own) return own;
  // a {prog_name, err_msg} table is this family's if it names programs of this family
  const mine = [...tables.entries()].filter(([name, r]) => files.includes(r.file) && familyProgs.has(name));
  const row = tables.get(prog);
  if (row && mine.length) {
    return { outcome: 'failure', msgs: [row.msg], source: `${row.file} table ${row.table}` };
  }
  if (mine.length) {
    return { outcome: 'unknown', msgs: [], source: `not in the table ${mine[0]![1].table} of ${mine[0]![1].file}` };
  }
  const must = objectMustFail(family);
  if (must) return { outcome: 'failure', msgs: [], source: `${must}: ${family}__open_and_load() must fail` };
  if (progType === 'ext') {
    return {
      outcome: 'unknown',
      msgs: [],
      source: `freplace program: ${where} loads it against a target program (attach_prog_fd), which a standalone load cannot give`,
    };
  }
  if (/^(fentry|fexit|fmod_ret|fentry\.s|fexit\.s|fmod_ret\.s|tp_btf|lsm|lsm\.s|iter|iter\.s)$/.test(section.replace(/^\?/, ''))) {
    return {
      outcome: 'unknown',
      msgs: [],
      source: `SEC("${section}") has no attach target: ${where} sets one at run time (bpf_program__set_attach_target), which a standalone load cannot do`,
    };
  }
  return { outcome: 'success', msgs: [], source: `skeleton load in ${where} (no annotations)` };
}

// ------------------------------------------------------------------------------- results
function result(errText: string): { ok: boolean; errno: number | null; libbpf: string[]; progLoadFailed: boolean } {
  const lines = errText.split('\n').filter(Boolean);
  const res = lines.filter((l) => /^result(\[[^\]]*\])?: /.test(l)).pop() ?? '';
  const m = /errno=(\d+)/.exec(res);
  const libbpf = lines.filter((l) => l.startsWith('libbpf: '));
  return {
    ok: /: ok$/.test(res),
    errno: m ? Number(m[1]) : null,
    libbpf,
    progLoadFailed: libbpf.some((l) => /BPF program load failed/.test(l)),
  };
}

/** The kernel's own error lines: from 7.x the verifier appends a report ("Verification failed: …",
 * "At:", "Causal path:", "Suggestion:"): the README quotes what comes before it. */
function headline(message: string[]): string[] {
  const i = message.findIndex((l) => /^Verification failed: /.test(l));
  return i > 0 ? message.slice(0, i) : message;
}

function describe(e: ProgramEntry): string | undefined {
  const v = e.actual.verdict;
  if (e.check.outcome === 'mismatch') {
    if (e.expected.outcome === 'success') {
      const why = v === 'load-failed' ? `fails to load (${e.actual.stage}): ${(e.actual.reason ?? headline(e.actual.message)).join(' / ')}` : `rejects it: ${headline(e.actual.message).join(' / ')}`;
      return `the ${meta.selftestsSource} selftest expects this program to load; ${meta.release} ${why}`;
    }
    return `the ${meta.selftestsSource} selftest expects a rejection${e.expected.msgs.length ? ` (${JSON.stringify(e.expected.msgs)})` : ''}; ${meta.release} accepts it`;
  }
  if (e.check.msgs === 'missing') {
    return `rejected as expected, but an expected message is not in the ${meta.release} log: expected ${JSON.stringify(e.check.missingMsg)}, the kernel says ${JSON.stringify(headline(e.actual.message).join('\n') || (e.actual.reason ?? []).join('\n'))}`;
  }
  return undefined;
}

// --------------------------------------------------------------------------------- build
const families = read(join(work, 'families.txt')).split('\n').filter(Boolean);
const famEntries: FamilyEntry[] = [];
const programs: ProgramEntry[] = [];
const gz = (data: string | Buffer): Buffer => gzipSync(data, { level: 9 });
// --replace (a build of every family): the release dir is made anew, nothing stale stays
if (process.argv.includes('--replace')) rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

for (const family of families) {
  const d = join(raw, family);
  const group = read(join(d, 'group')).trim() || 'other';
  const compileErr = read(join(d, 'compile.err'));
  const compile = read(join(d, 'compile.cmd')).trim() || undefined;
  rmSync(join(out, family), { recursive: true, force: true });
  const objPath = join(work, 'obj', `${family}.bpf.o`);
  if (!existsSync(objPath)) {
    const first = compileErr.split('\n').find((l) => /error:/.test(l)) ?? compileErr.split('\n')[0] ?? '';
    famEntries.push({
      family,
      group,
      status: compileErr.startsWith('no such file') ? 'missing' : 'compile-failed',
      error: first.replace(src + '/', '').trim(),
      ...(compile ? { compile } : {}),
      programs: 0,
    });
    continue;
  }
  mkdirSync(join(out, family), { recursive: true });
  const btfText = read(join(d, 'btf.txt'));
  const btfFile = `${family}/${family}.btf.gz`;
  writeFileSync(join(out, btfFile), gz(btfText));
  const objGz = gz(readFileSync(objPath));
  let objFile: string | undefined;
  if (objGz.length <= meta.objMaxBytes) {
    objFile = `${family}/${family}.bpf.o.gz`;
    writeFileSync(join(out, objFile), objGz);
  }
  const progRows = read(join(d, 'progs.tsv')).split('\n').filter(Boolean);
  if (!progRows.length) {
    famEntries.push({ family, group, status: 'open-failed', error: read(join(d, 'open.err')).split('\n')[0] ?? '', programs: 0 });
    continue;
  }
  const btf = parseBtfTags(btfText);
  const before = programs.length;
  const familyNames = new Set(progRows.map((r) => r.split('\t')[0]!));
  for (const row of progRows) {
    const [program = '', sec = '', progType = '', attachType = '', autoload = '1', insns = '0'] = row.split('\t');
    const section = autoload === '0' ? `?${sec}` : sec;
    const fid = btf.funcs.get(program);
    const expected = expectationFor(family, familyNames, program, progType, section, fid === undefined ? [] : (btf.tags.get(fid) ?? []));
    const l1 = read(join(d, `${program}.L1.log`));
    const l2 = read(join(d, `${program}.L2.log`));
    const r1 = result(read(join(d, `${program}.L1.err`)));
    const r2 = result(read(join(d, `${program}.L2.err`)));
    const f1 = logFacts(l1);
    const f2 = logFacts(l2);
    let verdict: Verdict;
    let stage: ProgramEntry['actual']['stage'];
    if (r1.ok) {
      verdict = 'accepted';
      stage = 'verifier';
    } else if (r1.errno === 28 && Buffer.byteLength(l1) >= (16 << 20) - 1) {
      verdict = 'log-truncated';
      stage = 'verifier';
    } else if (r1.progLoadFailed && l1.trim() !== '') {
      verdict = 'rejected';
      stage = 'verifier';
    } else {
      verdict = 'load-failed';
      stage = r1.progLoadFailed ? 'kernel' : 'libbpf';
    }
    const reason = r1.libbpf
      .map((l) => l.replace(/^libbpf: /, ''))
      .filter((l) => !/^failed to load object|^prog '[^']*': failed to load: /.test(l));
    const files = {
      L1: `${family}/${program}.L1.log.gz`,
      L2: `${family}/${program}.L2.log.gz`,
      btf: btfFile,
      ...(objFile ? { obj: objFile } : {}),
    };
    writeFileSync(join(out, files.L1), gz(l1));
    writeFileSync(join(out, files.L2), gz(l2));
    const entry: ProgramEntry = {
      family,
      group,
      program,
      section,
      progType,
      ...(attachType && attachType !== 'cgroup_inet_ingress' ? { attachType } : {}),
      autoload: autoload !== '0',
      insnCount: Number(insns),
      expected,
      actual: {
        verdict,
        errno: r1.errno,
        ...(r1.errno !== null && ERRNO[r1.errno] ? { errnoName: ERRNO[r1.errno] } : {}),
        stage,
        failInsn: verdict === 'accepted' ? null : f1.failInsn,
        message: verdict === 'accepted' ? [] : f1.message,
        insnsProcessed: f1.insnsProcessed,
        ...(verdict === 'load-failed' || verdict === 'log-truncated' ? { reason } : {}),
        l2: {
          errno: r2.errno,
          failInsn: r2.ok ? null : f2.failInsn,
          insnsProcessed: f2.insnsProcessed,
          bytes: Buffer.byteLength(l2),
        },
      },
      check: { outcome: 'n/a', msgs: 'n/a' },
      files,
    };
    // ---- expected vs actual
    const blocked = verdict === 'load-failed' ? blockedBy(reason, stage, r1.errno, l1, expected) : null;
    if (blocked) {
      entry.check.outcome = 'blocked';
      entry.check.blockedBy = blocked;
    } else if (expected.outcome !== 'unknown') {
      const loaded = verdict === 'accepted';
      entry.check.outcome = loaded === (expected.outcome === 'success') ? 'match' : 'mismatch';
      if (expected.msgs.length) {
        const log = (expected.logLevel ?? 0) & 2 ? l2 : l1;
        const missing = matchMsgs(log, expected.msgs);
        entry.check.msgs = missing === null ? 'match' : 'missing';
        if (missing !== null) entry.check.missingMsg = expected.msgs[missing]!;
      }
    }
    const notes = NOTES[String(meta.release)] ?? {};
    const differs = entry.check.outcome === 'mismatch' || entry.check.msgs === 'missing';
    const handKey = `${family}/${program}` in notes ? `${family}/${program}` : differs && `${family}/*` in notes ? `${family}/*` : undefined;
    const hand = handKey ? notes[handKey] : undefined;
    const paths =
      verdict === 'rejected' && entry.actual.failInsn === null && entry.actual.l2.failInsn !== null
        ? 'The error comes after the walked path ended (e.g. while validating a callback): the level-1 log keeps only the failing path, so failInsn is null at L1, while L2 keeps every path and ends on another instruction.'
        : undefined;
    const note = [describe(entry), hand, paths].filter(Boolean).join(' — ');
    if (note) entry.note = note;
    if (handKey?.endsWith('/*')) entry.noteKey = handKey;
    programs.push(entry);
  }
  famEntries.push({
    family,
    group,
    status: 'compiled',
    ...(compile ? { compile } : {}),
    expectationSource: [...new Set(programs.slice(before).map((p) => p.expected.source.replace(/ \(.*$/, '')))].join('; '),
    programs: progRows.length,
    files: { btf: btfFile, ...(objFile ? { obj: objFile } : {}) },
  });
}

// merge with an existing manifest when only some families were rebuilt (--families)
const manifestPath = join(out, 'manifest.json');
let allFams = famEntries;
let allProgs = programs;
if (existsSync(manifestPath)) {
  const old = JSON.parse(read(manifestPath)) as { families: FamilyEntry[]; programs: ProgramEntry[] };
  const rebuilt = new Set(families);
  allFams = [...old.families.filter((f) => !rebuilt.has(f.family)), ...famEntries];
  allProgs = [...old.programs.filter((p) => !rebuilt.has(p.family)), ...programs];
}
const order = new Map(allFams.map((f, i) => [f.family, i]));
allProgs.sort((a, b) => order.get(a.family)! - order.get(b.family)!);

const manifest = {
  schema: 1,
  ...meta,
  buildSeconds: Number.isFinite(seconds) ? seconds : undefined,
  verdicts: {
    accepted: 'BPF_PROG_LOAD succeeded',
    rejected: 'BPF_PROG_LOAD failed and the kernel wrote a log (the verifier said why: message, failInsn)',
    'load-failed': 'failed before the verifier: libbpf stopped before BPF_PROG_LOAD (maps, BTF, relocations, attach target; stage "libbpf") or the kernel refused without a log (stage "kernel"); see reason',
    'log-truncated': 'the log did not fit in the 16 MiB buffer (ENOSPC)',
  },
  families: allFams,
  programs: allProgs,
};
writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
writeFileSync(join(out, 'README.md'), readme(manifest.families, allProgs));

function du(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const s = statSync(p);
    n += s.isDirectory() ? du(p) : s.size;
  }
  return n;
}

function readme(fams: FamilyEntry[], progs: ProgramEntry[]): string {
  const L: string[] = [];
  const m = meta as Record<string, unknown>;
  const lv = m.logLevels as { L1: number; L2: number };
  L.push(`# Selftests corpus: ${m.release}`, '');
  L.push(
    `Verifier logs of the BPF selftests of ${m.selftestsSource} (${m.selftestsVersion}), compiled here and loaded one program at a time into Linux ${m.kernel}, ` +
      'with what the selftests expect beside what this kernel did. Generated by `npm run corpus` (scripts/corpus/build-corpus.sh): do not edit by hand. ' +
      'Every program is in manifest.json; ../README.md explains the layout and the fields.',
    '',
  );
  L.push(`- kernel ${m.kernel}; selftests ${m.selftestsSource} (${m.selftestsVersion}${m.debianVersion !== 'unknown' ? `, Debian ${m.debianVersion}` : ''}); libbpf ${m.libbpf}; ${m.clang}`);
  L.push(`- logs: L1 = log_level ${lv.L1}, L2 = log_level ${lv.L2} (level 1 or 2, with the stats bit 4)`);
  const g = m.guest as { package: string; accel: string; memoryMb: number; guests: number; seconds: number } | undefined;
  if (g) {
    L.push(
      `- loaded in ${g.guests} QEMU guest(s) (${g.accel === 'kvm' ? 'KVM' : 'TCG'}, ${g.memoryMb} MB) booted with Debian's ${g.package} (scripts/corpus/guest-load.ts): ${g.seconds} s for every load; vmlinux.h: ${String(m.vmlinuxH)}`,
    );
  }
  L.push(`- built ${m.builtAt}${Number.isFinite(seconds) ? ` in ${seconds} s` : ''}; ${progs.length} programs, ${(du(out!) / 1048576).toFixed(2)} MiB of files`, '');
  L.push('| group | family | programs | accepted | rejected | load-failed | mismatches | blocked here | expected from |');
  L.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  const tot = { n: 0, a: 0, r: 0, l: 0, x: 0, b: 0 };
  for (const f of fams) {
    const ps = progs.filter((p) => p.family === f.family);
    if (f.status !== 'compiled') {
      L.push(`| ${f.group} | ${f.family} | — | — | — | — | — | — | ${f.status}: \`${(f.error ?? '').replace(/\|/g, '\\|')}\` |`);
      continue;
    }
    const a = ps.filter((p) => p.actual.verdict === 'accepted').length;
    const r = ps.filter((p) => p.actual.verdict === 'rejected').length;
    const l = ps.length - a - r;
    const x = ps.filter((p) => p.check.outcome === 'mismatch' || p.check.msgs === 'missing').length;
    const b = ps.filter((p) => p.check.outcome === 'blocked').length;
    tot.n += ps.length; tot.a += a; tot.r += r; tot.l += l; tot.x += x; tot.b += b;
    const src = [...new Set(ps.map((p) => p.expected.source.replace(/ \(.*$/, '').replace(/:.*$/, '')))].join('; ');
    L.push(`| ${f.group} | ${f.family} | ${ps.length} | ${a} | ${r} | ${l} | ${x} | ${b} | ${src} |`);
  }
  L.push(`| | **total** | ${tot.n} | ${tot.a} | ${tot.r} | ${tot.l} | ${tot.x} | ${tot.b} | |`, '');
  L.push(
    '*mismatches*: the kernel does not do what the selftest expects (outcome, or an expected `__msg` is not in the log). ' +
      '*blocked here*: the program could not be tried on this machine or alone (see Host limits); these are not verdicts on the program.',
    '',
  );
  const diff = progs.filter((p) => p.check.outcome === 'mismatch' || p.check.msgs === 'missing');
  if (diff.length) {
    L.push(`## Where ${m.release} differs from the ${m.selftestsSource} expectations`, '');
    const shared = new Set<string>();
    for (const p of diff) {
      const key = p.noteKey;
      if (key && shared.has(key)) continue;
      const same = key ? diff.filter((q) => q.noteKey === key) : [p];
      if (key) shared.add(key);
      const what = same.length > 1 ? `${same.length} programs of \`${p.family}\` (${same.map((q) => q.program).join(', ')}), e.g. \`${p.program}\`` : `\`${p.family}/${p.program}\``;
      L.push(`- ${what} (${p.actual.verdict}${p.actual.errnoName ? ` ${p.actual.errnoName}` : ''}): ${(p.note ?? '').replace(/\n/g, ' ')}`);
    }
    L.push('');
  }
  const other = progs.filter((p) => p.note && !diff.includes(p));
  if (other.length) {
    L.push('## Other notes', '');
    const byNote = new Map<string, ProgramEntry[]>();
    for (const p of other) byNote.set(p.note!, [...(byNote.get(p.note!) ?? []), p]);
    for (const [note, ps] of byNote) {
      L.push(`- ${ps.map((p) => `\`${p.family}/${p.program}\``).join(', ')} (${ps[0]!.actual.verdict}): ${note.replace(/\n/g, ' ')}`);
    }
    L.push('');
  }
  const blocked = progs.filter((p) => p.check.outcome === 'blocked');
  if (blocked.length) {
    L.push('## Host limits (blocked here)', '');
    const by = new Map<string, ProgramEntry[]>();
    for (const p of blocked) by.set(p.check.blockedBy!, [...(by.get(p.check.blockedBy!) ?? []), p]);
    for (const [why, ps] of by) {
      const secs = new Map<string, number>();
      for (const p of ps) {
        const k = p.section.replace(/^\?/, '').split('/')[0]!;
        secs.set(k, (secs.get(k) ?? 0) + 1);
      }
      const fam = [...new Set(ps.map((p) => p.family))].join(', ');
      L.push(`- ${ps.length} programs: ${why}. Sections: ${[...secs].map(([k, n]) => `${k} ${n}`).join(', ')}. Families: ${fam}.`);
    }
    const loadedKinds = new Set(progs.filter((p) => p.actual.verdict !== 'load-failed').map((p) => p.section.replace(/^\?/, '').split('/')[0]!));
    L.push(`- Sections whose programs did reach the verifier here: ${[...loadedKinds].sort().join(', ')}.`, '');
  }
  return L.join('\n') + '\n';
}

const counts = allProgs.reduce<Record<string, number>>((c, p) => ((c[p.actual.verdict] = (c[p.actual.verdict] ?? 0) + 1), c), {});
process.stderr.write(`make-manifest: ${allProgs.length} programs ${JSON.stringify(counts)} -> ${relative(process.cwd(), out)}\n`);
