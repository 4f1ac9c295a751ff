/**
 * Why an object failed to load, in libbpf's own words.
 *
 * Contract: `loaderReasonOf(log)` takes the text of a `bpftool -d` / kptrscope-load run and returns the
 * `libbpf: ` line just before `libbpf: failed to load object …` without its prefix (for a kfunc the
 * kernel lacks: `extern (func ksym) 'bpf_obj_new_impl': not found in kernel or module BTFs`; after a
 * verifier rejection: `prog 'NAME': failed to load: -22`), else the first `Error: ` line, else null.
 * Pure.
 */
export function loaderReasonOf(log: string): string | null {
  const lines = log.split('\n').map((l) => l.replace(/\r$/, ''));
  const idx = lines.findIndex((l) => /^libbpf: failed to load object /.test(l));
  if (idx < 0) {
    const err = lines.find((l) => /^Error: /.test(l));
    return err ? err.slice('Error: '.length) : null;
  }
  for (let i = idx - 1; i >= 0; i--) {
    const l = lines[i] as string;
    if (l.startsWith('libbpf: ')) return l.slice('libbpf: '.length);
  }
  return (lines[idx] as string).slice('libbpf: '.length);
}
