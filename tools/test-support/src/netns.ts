/**
 * Network namespaces for what a plain loopback cannot show: a black-holed address (SYNs
 * silently dropped, so a connect hangs), a slow path (the first SYN dropped, so a connect
 * takes the kernel's 1 s SYN retransmission). Each namespace has its own `lo` with 127.0.0.1
 * and ::1 and its own nftables. Namespaces are made inside the sandbox of
 * `scripts/with-test-names` (where the tests run, as root or as an ordinary user's root of a user
 * namespace): commands run in them keep its private hosts table and vanish with it.
 *
 * Namespaces are named `<prefix><pid>-<n>-<random>` so that {@link cleanupStaleNetns} can tell
 * leftovers of a crashed run (owner pid gone) from namespaces of a run still in progress.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { TestSupportError } from './errors.js';
import { assertTestNames } from './names.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  runCommand,
  startProcess,
  type CommandResult,
  type CommandWrapper,
  type ManagedProcess,
  type RunCommandOptions,
  type StartProcessOptions,
} from './process.js';

/** Default prefix of namespace names created by {@link createNetns}. */
export const NETNS_PREFIX = 'sockchan-';

/** The nftables table the fixture puts its rules in (inside the namespace only). */
export const NFT_TABLE = 'sockchan_test';

const liveNamespaces = new Set<string>();
let exitHookInstalled = false;
let counter = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous on purpose: 'exit' handlers cannot await. A namespace left over by a killed
  // run is handled by cleanupStaleNetns().
  process.on('exit', () => {
    for (const name of liveNamespaces) deleteNamespaceSync(name);
    liveNamespaces.clear();
  });
}

function deleteNamespaceSync(name: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: 5_000 });
  for (const pid of (pids.stdout ?? '').split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  spawnSync('ip', ['netns', 'delete', name], { timeout: 5_000 });
}

function assertRoot(what: string): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    throw new TestSupportError(
      `${what} needs root (network namespaces and nftables); this process runs as uid ${process.getuid?.() ?? '?'}: ` +
        'run the tests with `npx -y pnpm@12.21.0 test <folder>`, whose sandbox (scripts/with-test-names) gives an ordinary user a root of its own',
      'ERR_TEST_SUPPORT_NOT_ROOT',
    );
  }
}

async function assertTool(command: string, args: readonly string[], pkg: string): Promise<void> {
  try {
    await runCommand(command, args, { timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS });
  } catch (error) {
    throw new TestSupportError(`${command} is required for network-namespace tests (apt-get install ${pkg}): ${String(error)}`, 'ERR_TEST_SUPPORT_MISSING_TOOL', error);
  }
}

/** Names of the network namespaces that exist now (`ip netns list`). */
export async function listNetns(): Promise<string[]> {
  const result = await runCommand('ip', ['netns', 'list']);
  // Lines look like "name (id: 3)" or just "name".
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but is not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Options of {@link cleanupStaleNetns}. */
export interface CleanupStaleNetnsOptions {
  /**
   * Delete every namespace with the prefix, even those whose owner process still runs (which
   * may belong to a test run in progress). Default false: only those whose owner is gone.
   */
  includeLive?: boolean;
}

/**
 * Deletes namespaces left behind by crashed runs: those named `<prefix><pid>-...` whose owner
 * pid no longer exists (or all with the prefix when `includeLive`), killing any process still
 * in them. Resolves with the names deleted.
 */
export async function cleanupStaleNetns(prefix: string = NETNS_PREFIX, options: CleanupStaleNetnsOptions = {}): Promise<string[]> {
  assertRoot('cleanupStaleNetns');
  const deleted: string[] = [];
  for (const name of await listNetns()) {
    if (!name.startsWith(prefix)) continue;
    const owner = /^(\d+)-/.exec(name.slice(prefix.length));
    const ownerPid = owner?.[1] === undefined ? undefined : Number(owner[1]);
    if (options.includeLive !== true && (ownerPid === undefined || ownerPid === process.pid || isAlive(ownerPid))) continue;
    await killNamespacePids(name);
    await runCommand('ip', ['netns', 'delete', name], { allowFailure: true });
    deleted.push(name);
  }
  return deleted;
}

async function killNamespacePids(name: string): Promise<void> {
  const result = await runCommand('ip', ['netns', 'pids', name], { allowFailure: true });
  for (const pid of result.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** An address and TCP port whose SYNs a rule matches. */
export interface SynTarget {
  /** A literal IPv4 or IPv6 address as seen inside the namespace, e.g. `::1` or `127.0.0.1`. */
  address: string;
  /** TCP port, 1..65535. */
  port: number;
}

/** Options of {@link Netns.dropFirstSyn}. */
export interface DropFirstSynOptions extends SynTarget {
  /**
   * How long a connection attempt is remembered (s), so that its retransmitted SYN passes.
   * Default 60. A later attempt from the same source address and port within this time is
   * not delayed.
   */
  rememberSeconds?: number;
}

/** An nftables rule added by {@link Netns.dropSyn} or {@link Netns.dropFirstSyn}. */
export interface NftRule {
  /** The chain holding the rule inside {@link NFT_TABLE}. */
  readonly chain: string;
  /** How many packets the rule dropped so far (from its nft counter). */
  droppedPackets(): Promise<number>;
  /** Removes the rule (and its set). Idempotent. */
  remove(): Promise<void>;
}

/** Options of {@link createNetns}. */
export interface CreateNetnsOptions {
  /**
   * Exact name to use. Default: `<prefix><pid>-<n>-<random>`, unique and recognisable by
   * {@link cleanupStaleNetns}. Letters, digits, `_`, `.`, `-`; at most 64 characters.
   */
  name?: string;
  /** Prefix of the generated name. Default {@link NETNS_PREFIX}. */
  prefix?: string;
}

/** Options of {@link Netns.exec} and {@link Netns.runNode}. */
export type NetnsRunOptions = RunCommandOptions;

/** Options of {@link Netns.spawn} and {@link Netns.spawnNode}. */
export type NetnsSpawnOptions = StartProcessOptions;

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TestSupportError(`bad TCP port ${port}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
}

function familyOf(address: string): 'ip' | 'ip6' {
  const version = net.isIP(address);
  if (version === 0) throw new TestSupportError(`not a literal IP address: ${JSON.stringify(address)}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
  return version === 4 ? 'ip' : 'ip6';
}

/**
 * A network namespace created by {@link createNetns}. Commands run in it with
 * `ip netns exec NAME CMD ...`, inside the sandbox's private hosts table. Always `dispose()` it
 * (e.g. in `afterEach`/`afterAll`); it is also deleted when this process exits.
 */
export class Netns implements CommandWrapper {
  /** The namespace's name (as `ip netns list` shows it). */
  readonly name: string;
  private readonly processes = new Set<ManagedProcess>();
  private readonly rules = new Set<NftRule>();
  private tableReady: Promise<void> | undefined;
  private ruleCounter = 0;
  private disposed = false;

  /** @internal Use {@link createNetns}. */
  constructor(name: string) {
    this.name = name;
  }

  /**
   * The command line that runs `command args` inside this namespace. `ip netns exec` keeps the
   * mount namespace's bind mounts, so the private hosts table holds inside too.
   */
  wrapCommand(command: string, args: readonly string[]): [string, string[]] {
    return ['ip', ['netns', 'exec', this.name, command, ...args]];
  }

  /**
   * Runs a command inside the namespace (no shell) to completion. Rejects on a non-zero exit
   * or a timeout (default 10 s) unless `allowFailure` is set.
   */
  async exec(command: string, args: readonly string[] = [], options: NetnsRunOptions = {}): Promise<CommandResult> {
    this.assertLive();
    const [cmd, argv] = this.wrapCommand(command, args);
    return await runCommand(cmd, argv, options);
  }

  /** Starts a long-running command inside the namespace; stopped by {@link Netns.dispose} at the latest. */
  async spawn(command: string, args: readonly string[] = [], options: NetnsSpawnOptions = {}): Promise<ManagedProcess> {
    this.assertLive();
    const [cmd, argv] = this.wrapCommand(command, args);
    const child = await startProcess(cmd, argv, { label: `${command} in netns ${this.name}`, ...options });
    this.processes.add(child);
    void child.exited.then(() => this.processes.delete(child));
    return child;
  }

  /** Runs `node SCRIPT ARGS...` (this Node binary) inside the namespace to completion. */
  runNode(scriptPath: string, args: readonly string[] = [], options: NetnsRunOptions = {}): Promise<CommandResult> {
    return this.exec(process.execPath, [scriptPath, ...args], options);
  }

  /**
   * Runs an ES module given as source text with `node --input-type=module -e` inside the
   * namespace to completion; `args` are in `process.argv.slice(1)`.
   */
  runNodeCode(code: string, args: readonly string[] = [], options: NetnsRunOptions = {}): Promise<CommandResult> {
    return this.exec(process.execPath, ['--input-type=module', '-e', code, '--', ...args], options);
  }

  /**
   * Runs a Node script (a path) or module source (`{ code }`) inside the namespace and parses
   * the last non-empty stdout line as JSON. Rejects on a non-zero exit or unparseable output.
   */
  async runNodeJson<T = unknown>(script: string | { code: string }, args: readonly string[] = [], options: NetnsRunOptions = {}): Promise<T> {
    const result = typeof script === 'string' ? await this.runNode(script, args, options) : await this.runNodeCode(script.code, args, options);
    const last = result.stdout.trimEnd().split('\n').pop() ?? '';
    try {
      return JSON.parse(last) as T;
    } catch (error) {
      throw new TestSupportError(`node in netns ${this.name} printed no JSON on its last line:\n${result.stdout}\n${result.stderr}`, 'ERR_TEST_SUPPORT_COMMAND_FAILED', error);
    }
  }

  /** Starts `node SCRIPT ARGS...` inside the namespace as a long-running {@link ManagedProcess}. */
  spawnNode(scriptPath: string, args: readonly string[] = [], options: NetnsSpawnOptions = {}): Promise<ManagedProcess> {
    return this.spawn(process.execPath, [scriptPath, ...args], options);
  }

  /** Applies an nftables script (`nft -f -`) inside the namespace. */
  async nft(ruleset: string): Promise<void> {
    this.assertLive();
    await runCommand('ip', ['netns', 'exec', this.name, 'nft', '-f', '-'], { input: ruleset });
  }

  /** The namespace's current nftables ruleset (`nft list ruleset`). */
  async listRuleset(): Promise<string> {
    this.assertLive();
    return (await runCommand('ip', ['netns', 'exec', this.name, 'nft', 'list', 'ruleset'])).stdout;
  }

  /**
   * Silently drops every SYN to `address`:`port` inside the namespace (input hook, so the
   * connecting side sees no error, only retransmissions: its connect hangs until its own
   * timeout). Returns the rule, removable with `remove()`.
   */
  async dropSyn(target: SynTarget): Promise<NftRule> {
    const family = familyOf(target.address);
    validatePort(target.port);
    const chain = await this.newChain();
    await this.nft(
      `add chain inet ${NFT_TABLE} ${chain} { type filter hook input priority -10; policy accept; }\n` +
        `add rule inet ${NFT_TABLE} ${chain} ${family} daddr ${target.address} tcp dport ${target.port} tcp flags & (syn | ack) == syn counter drop\n`,
    );
    return this.trackRule(chain, undefined);
  }

  /**
   * Drops only the first SYN of each connection attempt to `address`:`port`. An attempt is
   * identified by its source address and port, which the kernel keeps for its retransmissions:
   * the first SYN adds that pair to a dynamic nft set and is dropped; the retransmitted SYN
   * (about 1 s later, the kernel's initial RTO) finds the pair in the set and passes. So each
   * new connect succeeds, about 1 s late.
   */
  async dropFirstSyn(options: DropFirstSynOptions): Promise<NftRule> {
    const family = familyOf(options.address);
    validatePort(options.port);
    const remember = options.rememberSeconds ?? 60;
    if (!Number.isInteger(remember) || remember < 1 || remember > 86_400) {
      throw new TestSupportError(`bad rememberSeconds ${remember}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
    }
    const chain = await this.newChain();
    const set = `${chain}_seen`;
    const match = `${family} daddr ${options.address} tcp dport ${options.port} tcp flags & (syn | ack) == syn`;
    await this.nft(
      `add set inet ${NFT_TABLE} ${set} { type ${family === 'ip' ? 'ipv4_addr' : 'ipv6_addr'} . inet_service; flags dynamic, timeout; timeout ${remember}s; }\n` +
        `add chain inet ${NFT_TABLE} ${chain} { type filter hook input priority -10; policy accept; }\n` +
        `add rule inet ${NFT_TABLE} ${chain} ${match} ${family} saddr . tcp sport @${set} accept\n` +
        `add rule inet ${NFT_TABLE} ${chain} ${match} add @${set} { ${family} saddr . tcp sport } counter drop\n`,
    );
    return this.trackRule(chain, set);
  }

  /** Removes every rule this fixture added. */
  async clearRules(): Promise<void> {
    await Promise.all([...this.rules].map((rule) => rule.remove()));
  }

  /** Processes started with {@link Netns.spawn}/{@link Netns.spawnNode} that still run. */
  get liveProcesses(): readonly ManagedProcess[] {
    return [...this.processes];
  }

  /** True once {@link Netns.dispose} has started. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Stops every process started in the namespace, kills anything else still inside it, and
   * deletes the namespace (its rules go with it). Idempotent; safe in `afterEach` even when
   * the test failed half-way. Rejects if the namespace still exists afterwards.
   */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([...this.processes].map((p) => p.stop()));
    await killNamespacePids(this.name);
    await runCommand('ip', ['netns', 'delete', this.name], { allowFailure: true });
    liveNamespaces.delete(this.name);
    if ((await listNetns()).includes(this.name)) {
      throw new TestSupportError(`network namespace ${this.name} still exists after ip netns delete`, 'ERR_TEST_SUPPORT_COMMAND_FAILED');
    }
  }

  private assertLive(): void {
    if (this.disposed) throw new TestSupportError(`network namespace ${this.name} has been disposed`, 'ERR_TEST_SUPPORT_DISPOSED');
  }

  private async newChain(): Promise<string> {
    this.assertLive();
    this.tableReady ??= this.nft(`add table inet ${NFT_TABLE}\n`);
    await this.tableReady;
    this.ruleCounter += 1;
    return `rule${this.ruleCounter}`;
  }

  private trackRule(chain: string, set: string | undefined): NftRule {
    let removed = false;
    const rule: NftRule = {
      chain,
      droppedPackets: async () => {
        const text = (await runCommand('ip', ['netns', 'exec', this.name, 'nft', 'list', 'chain', 'inet', NFT_TABLE, chain])).stdout;
        const found = /counter packets (\d+)/.exec(text);
        return found?.[1] === undefined ? 0 : Number(found[1]);
      },
      remove: async () => {
        if (removed || this.disposed) return;
        removed = true;
        this.rules.delete(rule);
        await this.nft(
          `flush chain inet ${NFT_TABLE} ${chain}\ndelete chain inet ${NFT_TABLE} ${chain}\n` + (set === undefined ? '' : `delete set inet ${NFT_TABLE} ${set}\n`),
        );
      },
    };
    this.rules.add(rule);
    return rule;
  }
}

/**
 * Creates a network namespace with `lo` up and both 127.0.0.1 and ::1 on it. Throws loudly
 * (never skips) outside the sandbox of `scripts/with-test-names` (`ERR_TEST_SUPPORT_NO_TEST_NAMES`),
 * when not root there, or when `ip` or `nft` is missing. Deletes the namespace again if any setup
 * step fails.
 */
export async function createNetns(options: CreateNetnsOptions = {}): Promise<Netns> {
  assertTestNames();
  assertRoot('createNetns');
  await assertTool('ip', ['-V'], 'iproute2');
  await assertTool('nft', ['--version'], 'nftables');
  const prefix = options.prefix ?? NETNS_PREFIX;
  counter += 1;
  const name = options.name ?? `${prefix}${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name === '.' || name === '..') {
    throw new TestSupportError(`bad network namespace name ${JSON.stringify(name)}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
  }
  installExitHook();
  await runCommand('ip', ['netns', 'add', name]);
  liveNamespaces.add(name);
  const netns = new Netns(name);
  try {
    await runCommand('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    // IPv6 may be disabled by default for new namespaces on some hosts; the fixture needs ::1.
    await runCommand('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', 'net.ipv6.conf.lo.disable_ipv6=0']);
    let v6 = (await runCommand('ip', ['-n', name, '-6', 'addr', 'show', 'dev', 'lo'])).stdout;
    if (!/inet6 ::1\/128/.test(v6)) {
      await runCommand('ip', ['-n', name, '-6', 'addr', 'add', '::1/128', 'dev', 'lo']);
      v6 = (await runCommand('ip', ['-n', name, '-6', 'addr', 'show', 'dev', 'lo'])).stdout;
      if (!/inet6 ::1\/128/.test(v6)) throw new TestSupportError(`no ::1 on lo in netns ${name}:\n${v6}`, 'ERR_TEST_SUPPORT_COMMAND_FAILED');
    }
    const v4 = (await runCommand('ip', ['-n', name, '-4', 'addr', 'show', 'dev', 'lo'])).stdout;
    if (!/inet 127\.0\.0\.1\/8/.test(v4)) throw new TestSupportError(`no 127.0.0.1 on lo in netns ${name}:\n${v4}`, 'ERR_TEST_SUPPORT_COMMAND_FAILED');
  } catch (error) {
    await netns.dispose().catch(() => undefined);
    throw error;
  }
  return netns;
}
