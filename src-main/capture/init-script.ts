/**
 * The guest's `/init`: a busybox shell script generated from a plan, plus the serial protocol it
 * speaks (read back by serial-demux.ts).
 *
 * Contract: `guestPlan(objects, opts)` turns the objects to load into numbered steps; `initScript(plan)`
 * is pure and returns the script text. The script mounts devtmpfs, proc, sysfs and bpffs, arms a
 * watchdog (`poweroff -f` after `plan.watchdogSec`, so a guest whose host died never runs forever),
 * then writes to the data port (`/dev/ttyS1`, the second serial port) only protocol lines:
 *
 *   @@KPTRSCOPE HELLO <protocol>            first line: the guest is up
 *   @@KPTRSCOPE STEP <i>/<n> <text>         a step starts (progress)
 *   @@KPTRSCOPE BEGIN <name> <bytes>        a file follows, base64, 76 columns (busybox base64)
 *   @@KPTRSCOPE END <name> <sha256>         end of that file and the SHA-256 of its bytes
 *   @@KPTRSCOPE DONE                        every step ran; the guest powers off next
 *
 * Files sent: `uname` (`uname -r`), `bpftool-version`, per step `sK.out` (stdout, and stderr unless
 * the step is `raw`), `sK.err` (raw steps' stderr), `sK.rc` (exit status), and `vmlinux.btf.gz` (gzip
 * of /sys/kernel/btf/vmlinux) when `plan.sendVmlinuxBtf`. Base64 survives the tty's `\n` → `\r\n`
 * translation and any stray byte; the SHA-256 proves each file arrived whole. The kernel's own console
 * stays on ttyS0, so kernel messages never mix with data.
 *
 * Objects live in /objs/oI/NAME.bpf.o and every loader runs inside /objs/oI with the bare file name,
 * so libbpf's messages read `loading NAME.bpf.o` as on the host.
 */

export const PROTOCOL_VERSION = 1;
export const MARK = '@@KPTRSCOPE';

/** bpftool: `bpftool -d prog loadall` (kernel log level 1|2|4, libbpf debug output). load: the
 * bundled libbpf loader (kptrscope-load) with the same output at level 1 or 2. raw: scripts/loader.c
 * `--raw --level N` (the kernel's buffer only, stdout; its result line on stderr). each:
 * `kptrscope-load --each` (every program loaded on its own), run only when step `after` failed —
 * libbpf stops an object at its first rejected program, and the others need their own load. */
export type StepKind = 'bpftool' | 'load' | 'raw' | 'each';

export interface GuestObject {
  /** Directory under /objs: `o0`, `o1`, … */
  dir: string;
  /** File name inside it (a safe name: letters, digits, `_ . -`). */
  file: string;
  /** Program object's short name (the file name without `.bpf.o` / `.o`). */
  name: string;
}

export interface GuestStep {
  id: string;
  kind: StepKind;
  object: number;
  level: number;
  /** `each` steps: the id of the load whose failure makes this step run (else its output is empty). */
  after?: string;
}

export interface GuestPlan {
  objects: GuestObject[];
  steps: GuestStep[];
  sendVmlinuxBtf: boolean;
  watchdogSec: number;
  /** Set when the guest runs a userland of its own (guest-userland.ts): the command prefix that runs
   * a binary with that userland's loader and libraries, and that userland's bpftool. */
  userland?: { runWith: string; bpftool: string };
}

/** Guest paths of the tools (installed by initramfs.ts). */
export const GUEST_BPFTOOL = '/usr/sbin/bpftool';
export const GUEST_LOADER = '/usr/bin/kptrscope-load';
export const GUEST_RAW_LOADER = '/usr/bin/kptrscope-rawload';

/** `leak_obj.bpf.o` → `leak_obj`; other names lose `.o`. */
export function objectName(file: string): string {
  const base = file.replace(/^.*\//, '');
  return base.replace(/\.bpf\.o$/, '').replace(/\.o$/, '');
}

export function safeFileName(file: string): string {
  const base = file.replace(/^.*\//, '');
  const safe = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
  return safe === '' ? 'object.bpf.o' : safe;
}

export interface PlanOptions {
  userland?: { runWith: string; bpftool: string };
  /** Kernel log level of the ingested load: 7 → bpftool -d; 1 or 2 → kptrscope-load. */
  level: number;
  /** Extra raw kernel logs (scripts/loader.c --raw) at these levels. */
  rawLevels?: number[];
  sendVmlinuxBtf: boolean;
  watchdogSec: number;
}

export function guestPlan(files: string[], opts: PlanOptions): GuestPlan {
  const objects = files.map((f, i) => ({ dir: `o${i}`, file: safeFileName(f), name: objectName(f) }));
  const steps: GuestStep[] = [];
  objects.forEach((_, i) => {
    const main = `s${steps.length}`;
    steps.push({ id: main, kind: opts.level === 7 ? 'bpftool' : 'load', object: i, level: opts.level });
    steps.push({ id: `s${steps.length}`, kind: 'each', object: i, level: opts.level, after: main });
    for (const lv of opts.rawLevels ?? []) steps.push({ id: `s${steps.length}`, kind: 'raw', object: i, level: lv });
  });
  return { objects, steps, sendVmlinuxBtf: opts.sendVmlinuxBtf, watchdogSec: opts.watchdogSec, ...(opts.userland ? { userland: opts.userland } : {}) };
}

/** The protocol functions, shared by the init script and the tests (which run them with a plain sh). */
export function protocolShell(dataPort: string): string {
  return [
    `exec 3>${dataPort}`,
    `say() { echo "${MARK} $*" >&3; }`,
    // wc -c prints the size; sha256sum prints "<hex>  -" for stdin.
    `emit() { say "BEGIN $1 $(wc -c < "$2" | tr -d ' ')"; base64 "$2" >&3; say "END $1 $(sha256sum < "$2" | cut -d' ' -f1)"; }`,
  ].join('\n');
}

function describe(step: GuestStep, obj: GuestObject): string {
  switch (step.kind) {
    case 'bpftool':
      return `${obj.name} bpftool -d prog loadall`;
    case 'load':
      return `${obj.name} kptrscope-load level ${step.level}`;
    case 'raw':
      return `${obj.name} raw log level ${step.level}`;
    case 'each':
      return `${obj.name} each program on its own, if the object failed`;
  }
}

/** The command that runs a guest tool: through the guest userland's own loader when there is one. */
function tool(plan: GuestPlan, which: 'bpftool' | 'load' | 'raw' | 'each'): string {
  const path = which === 'bpftool' ? (plan.userland?.bpftool ?? GUEST_BPFTOOL) : which === 'load' || which === 'each' ? GUEST_LOADER : GUEST_RAW_LOADER;
  return plan.userland ? `${plan.userland.runWith} ${path}` : path;
}

function stepCommand(plan: GuestPlan, step: GuestStep, obj: GuestObject, index: number): string {
  const out = `/tmp/${step.id}`;
  switch (step.kind) {
    case 'bpftool':
      return `(cd /objs/${obj.dir} && ${tool(plan, 'bpftool')} -d prog loadall ${obj.file} /sys/fs/bpf/p${index}) > ${out}.out 2>&1`;
    case 'load':
      return `(cd /objs/${obj.dir} && ${tool(plan, 'load')} ${obj.file} ${step.level}) > ${out}.out 2>&1`;
    case 'raw':
      return `(cd /objs/${obj.dir} && ${tool(plan, 'raw')} ${obj.file} --raw --level ${step.level}) > ${out}.out 2> ${out}.err`;
    case 'each':
      return `: > ${out}.out; if [ "$(cat /tmp/${step.after}.rc)" != 0 ]; then (cd /objs/${obj.dir} && ${tool(plan, 'each')} ${obj.file} ${step.level} --each) > ${out}.out 2>&1; fi`;
  }
}

/**
 * The start of every guest /init (this one's and scripts/corpus/guest-load.ts'): busybox, the
 * mounts, the watchdog, the protocol functions, the HELLO line, the `uname` file, and the kernel's
 * config linked where libbpf looks for it (when the run part ships /boot/config). `what` names the generator in
 * the script's comment and the watchdog's message.
 */
export function guestPreamble(what: { generator: string; purpose: string; name: string }, watchdogSec: number): string[] {
  return [
    '#!/bin/busybox sh',
    `# ${what.name} guest init (generated by ${what.generator}): ${what.purpose}, send the`,
    '# results over /dev/ttyS1 between @@KPTRSCOPE markers, power off.',
    '/bin/busybox mkdir -p /bin /proc /sys /dev /tmp',
    '/bin/busybox --install -s /bin',
    'export PATH=/bin:/sbin:/usr/bin:/usr/sbin',
    'mount -t devtmpfs dev /dev',
    'mount -t proc proc /proc',
    'mount -t sysfs sys /sys',
    'mount -t bpf bpf /sys/fs/bpf',
    `(sleep ${watchdogSec}; echo "${what.name}: watchdog: ${watchdogSec} s passed, powering off" > /dev/console; poweroff -f) &`,
    protocolShell('/dev/ttyS1'),
    `say HELLO ${PROTOCOL_VERSION}`,
    'uname -r > /tmp/uname',
    'emit uname /tmp/uname',
    // libbpf reads `extern … __kconfig` values from /boot/config-$(uname -r) (the run part ships it).
    '[ -e /boot/config ] && ln -sf config "/boot/config-$(uname -r)"',
  ];
}

export function initScript(plan: GuestPlan): string {
  const lines: string[] = [
    ...guestPreamble({ name: 'kptrscope', generator: 'src-main/capture/init-script.ts', purpose: 'load BPF objects' }, plan.watchdogSec),
    `${tool(plan, 'bpftool')} version > /tmp/bpftool-version 2>&1`,
    'emit bpftool-version /tmp/bpftool-version',
  ];
  plan.steps.forEach((step, i) => {
    const obj = plan.objects[step.object];
    if (!obj) throw new Error(`init script: step ${step.id} names object ${step.object}, which is not in the plan`);
    lines.push(`say STEP ${i + 1}/${plan.steps.length} ${describe(step, obj)}`);
    lines.push(stepCommand(plan, step, obj, i));
    lines.push(`echo $? > /tmp/${step.id}.rc`);
    lines.push(`emit ${step.id}.out /tmp/${step.id}.out`);
    if (step.kind === 'raw') lines.push(`emit ${step.id}.err /tmp/${step.id}.err`);
    lines.push(`emit ${step.id}.rc /tmp/${step.id}.rc`);
  });
  if (plan.sendVmlinuxBtf) {
    lines.push('say STEP vmlinux BTF');
    lines.push('gzip -c /sys/kernel/btf/vmlinux > /tmp/vmlinux.btf.gz');
    lines.push('emit vmlinux.btf.gz /tmp/vmlinux.btf.gz');
  }
  lines.push('say DONE', 'sync', 'poweroff -f', '');
  return lines.join('\n');
}
