/**
 * Decides, from the first bytes of a file, whether it can be a verifier log, and says clearly why not.
 *
 * `sniffLogHead(head)` returns null for text that may be a log, or a one-line reason otherwise:
 * empty file, ELF object, raw BTF blob, other binary data, a bpftool BTF dump (text or JSON) given as
 * a log. It never throws. Logs that merely contain a few NUL bytes or invalid UTF-8 are accepted
 * (their lines are kept verbatim and counted as unknown).
 */
export const SNIFF_BYTES = 64 * 1024;

const BTF_TEXT_HEADER = /^\[\d+\] (?:INT|PTR|ARRAY|STRUCT|UNION|ENUM|ENUM64|FWD|TYPEDEF|VOLATILE|CONST|RESTRICT|FUNC|FUNC_PROTO|VAR|DATASEC|FLOAT|DECL_TAG|TYPE_TAG) '/;

export function sniffLogHead(head: Buffer): string | null {
  if (head.length === 0) return 'empty file: there is no verifier log in it';
  if (head.length >= 4 && head[0] === 0x7f && head.toString('latin1', 1, 4) === 'ELF') {
    return 'this is an ELF object, not a verifier log (give a .bpf.o with --btf to use its BTF)';
  }
  if (head.length >= 2 && ((head[0] === 0x9f && head[1] === 0xeb) || (head[0] === 0xeb && head[1] === 0x9f))) {
    return 'this is a raw BTF blob, not a verifier log (give it with --btf)';
  }
  let control = 0;
  for (const b of head) if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) control += 1;
  if (control / head.length > 0.05) {
    return `binary data (${Math.round((100 * control) / head.length)}% control bytes in the first ${head.length} bytes), not a verifier log`;
  }
  const text = head.toString('utf8');
  const replacement = (text.match(/\uFFFD/g) ?? []).length;
  if (replacement / Math.max(1, text.length) > 0.2) return 'binary data (mostly invalid UTF-8), not a verifier log';
  const lines = text.split('\n', 50).map((l) => l.replace(/\r$/, ''));
  const btfLines = lines.filter((l) => BTF_TEXT_HEADER.test(l)).length;
  const firstContent = lines.find((l) => l.trim() !== '') ?? '';
  if (btfLines >= 1 && BTF_TEXT_HEADER.test(firstContent)) {
    return 'this looks like a BTF dump (bpftool btf dump), not a verifier log: pass it with --btf';
  }
  if (/^\s*\{\s*"types"\s*:/.test(text)) return 'this looks like a BTF dump in JSON (bpftool -j btf dump), not a verifier log: pass it with --btf';
  return null;
}
