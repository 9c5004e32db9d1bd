// Runs a shell script as root inside a throwaway qemu VM whose kernel has IPVS (Debian's generic kernel, unpacked
// by test/vm/prepare.sh under /var/cache/lvskeeper-vm). The host's / is shared read-only over 9p, so node and
// ipvsadm are usable inside; this checkout is shared read-only on its own and mounted at the same path, because the
// guest mounts tmpfs over /tmp and /run, which would hide a checkout there. A per-run directory under /var/tmp is
// shared writable for results. TCG only: KVM guests hang on these machines.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, need, repoRoot } from '../support/tier.js';

export const VM_CACHE = process.env['LVSK_VM_CACHE'] ?? '/var/cache/lvskeeper-vm';

/** Every scheduler module lvskeeper knows; a kernel may lack some (6.1 has no ip_vs_twos). */
export const SCHEDULER_MODULES = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'mh', 'fo', 'ovf', 'twos'] as const;

/** Why the VM cannot run here, or undefined when it can. */
export function vmMissing(): string | undefined {
  if (!hasCommand('qemu-system-x86_64')) return 'needs qemu-system-x86_64 (bash test/vm/prepare.sh)';
  if (!existsSync(join(VM_CACHE, 'ready'))) return `no prepared kernel in ${VM_CACHE} (bash test/vm/prepare.sh)`;
  if (!hasCommand('ipvsadm')) return 'needs ipvsadm (bash test/vm/prepare.sh)';
  return undefined;
}

export interface VmResult {
  /** The script's exit status, or -1 if it never finished. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Scheduler modules that failed to load in this kernel. */
  readonly missingSchedulers: string[];
  /** The serial console, for diagnosing a failed boot. */
  readonly console: string;
}

export interface VmOptions {
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
  /** Extra environment for the script. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Guest prologue: modules, loopback, and a dummy interface so IPVS accepts unicast destinations. */
function guestScript(outDir: string, script: string, env: Readonly<Record<string, string>>): string {
  const kdir = join(VM_CACHE, 'k');
  const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`).join('\n');
  return `#!/bin/sh
OUT='${outDir}'
ip link set lo up
modprobe -d '${kdir}' ip_vs || echo ip_vs >> "$OUT/missing"
for s in ${SCHEDULER_MODULES.join(' ')}; do modprobe -d '${kdir}' ip_vs_$s 2>/dev/null || echo $s >> "$OUT/missing"; done
modprobe -d '${kdir}' dummy
ip link add lvskv0 type dummy && ip link set lvskv0 up
ip addr add 192.0.2.1/24 dev lvskv0
ip -6 addr add 2001:db8::1/64 dev lvskv0 nodad
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
${exports}
mkdir -p '${repoRoot}' && mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose repo '${repoRoot}' || echo LVSK-VM-REPO-FAIL
cd '${repoRoot}'
cat > /tmp/lvskv-user.sh <<'LVSKV_EOF'
${script}
LVSKV_EOF
/bin/sh /tmp/lvskv-user.sh > "$OUT/stdout" 2> "$OUT/stderr"
echo $? > "$OUT/rc"
`;
}

/** Boots the VM, runs `script` (sh, cwd = repo root) and returns its output once the VM has powered off. */
export async function runInVm(script: string, options: VmOptions = {}): Promise<VmResult> {
  const outDir = mkdtempSync('/var/tmp/lvskv-vm-');
  try {
    writeFileSync(join(outDir, 'guest.sh'), guestScript(outDir, script, options.env ?? {}));
    const kver = readFileSync(join(VM_CACHE, 'kver'), 'utf8').trim();
    const args = [
      '-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2', '-m', String(options.memoryMb ?? 1536),
      '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
      '-kernel', join(VM_CACHE, 'k/boot', `vmlinuz-${kver}`), '-initrd', join(VM_CACHE, 'initrd.gz'),
      '-append', `console=ttyS0 panic=-1 quiet lvskout=${outDir} `,
      '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-virtfs', `local,path=${repoRoot},mount_tag=repo,security_model=none,readonly=on,multidevs=remap`,
      '-virtfs', `local,path=${outDir},mount_tag=outdir,security_model=none,multidevs=remap`,
    ];
    const consoleText = await new Promise<string>((resolve, reject) => {
      const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => chunks.push(c));
      child.stderr.on('data', (c: Buffer) => chunks.push(c));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
      child.on('error', (err) => { clearTimeout(timer); reject(err); });
      child.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8').replace(/\r/g, '')); });
    });
    const read = (f: string): string => (existsSync(join(outDir, f)) ? readFileSync(join(outDir, f), 'utf8') : '');
    const rc = read('rc').trim();
    return {
      exitCode: rc === '' ? -1 : Number(rc),
      stdout: read('stdout'),
      stderr: read('stderr'),
      missingSchedulers: read('missing').split('\n').filter((s) => s !== ''),
      console: consoleText,
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

/** The `=== name` sections of a guest script's output, by name. */
export function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of stdout.split(/^=== /m).slice(1)) {
    const nl = part.indexOf('\n');
    out.set(part.slice(0, nl), part.slice(nl + 1));
  }
  return out;
}

/**
 * A test's one guest run: skipped (or failed under LVSK_REQUIRE_ALL) without the VM, failed when the script does;
 * its `=== name` sections, and its whole output to explain an assertion.
 */
export async function guestSections(t: TestContext, script: string): Promise<{ readonly s: Map<string, string>; readonly why: string } | undefined> {
  const missing = vmMissing();
  if (!need(t, missing === undefined, missing ?? '')) return undefined;
  const vm = await runInVm(script, { timeoutMs: 540_000 });
  assert.equal(vm.exitCode, 0, `guest failed:\n${vm.stdout}\n${vm.stderr}\n${vm.console.slice(-2000)}`);
  return { s: sections(vm.stdout), why: `guest output:\n${vm.stdout}\ndaemon log:\n${vm.stderr}` };
}
