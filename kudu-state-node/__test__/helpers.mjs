// Temporary Kudu homes for the tests, copied from examples/homes (Kudu's exact bytes) and edited; and sites
// serving them over Kudu's REST API (the `kudu-emulator` binary, on 127.0.0.1 only).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const here = path.dirname(fileURLToPath(import.meta.url))
export const examples = path.resolve(here, '..', '..', 'examples', 'homes')

/** A fixed time the tests diagnose at: the day after the example deployments. */
export const T0 = new Date('2024-09-04T10:00:00Z')
export const minutes = (n) => n * 60_000
export const at = (ms) => new Date(T0.getTime() + ms)

const made = []

/** A fresh temporary folder, removed when the process exits. */
export function tmpdir(prefix = 'kudu-state-node-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(dir)
  return dir
}
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

/** A copy of examples/homes/<name> in a temporary folder; returns the home path. */
export function home(name) {
  const dir = path.join(tmpdir(), name)
  fs.cpSync(path.join(examples, name), dir, { recursive: true })
  return dir
}

/** Writes KuduLite's deployment lock `site/locks/deployment/info.lock`, held for 25 minutes from `acquired`. */
export function writeLinuxLock(homeDir, acquired, op = 'Performing continuous deployment') {
  const dir = path.join(homeDir, 'site', 'locks', 'deployment')
  fs.mkdirSync(dir, { recursive: true })
  const expiry = new Date(acquired.getTime() + minutes(25)).toISOString().replace('.000Z', 'Z')
  const info = `{"lockExpiry":"${expiry}","heldByPID":57,"heldByTID":23,"heldByOp":"${op}","heldByWorker":"5f2c0b7e1d3a9c4b8e6f0a2d4c6e8f0a1b3d5f7092a4c6e8f0a1b3d5f7092a4c"}`
  fs.writeFileSync(path.join(dir, 'info.lock'), info)
  return path.join(dir, 'info.lock')
}

/** Every file and folder under `site/` with its bytes (folders as null), for byte-exact comparisons. */
export function capture(homeDir) {
  const out = {}
  const walk = (rel) => {
    const full = path.join(homeDir, rel)
    for (const entry of fs.readdirSync(full, { withFileTypes: true })) {
      const r = path.posix.join(rel, entry.name)
      if (entry.isDirectory()) {
        out[r + '/'] = null
        walk(r)
      } else {
        out[r] = fs.readFileSync(path.join(homeDir, r)).toString('base64')
      }
    }
  }
  walk('site')
  return out
}

// --- Remote mode: the `kudu-emulator` binary serves a home over Kudu's REST API on 127.0.0.1 ---------

/** The Basic credentials the emulated sites take. Every secret starts with "SECRET", so one search finds a leak. */
export const USER = '$emulated-app'
export const PASSWORD = 'SECRET-pw-0a9d2'
export const TOKEN = 'SECRET-token-77b41'
/** The one deployment of the healthy examples. */
export const HEALTHY_ID = '8c1f4e2a9b3d4f6e8a7b5c4d3e2f1a0b'

/** $KUDU_EMULATOR, else the workspace's debug build (built here when missing). */
function emulatorBinary() {
  if (process.env.KUDU_EMULATOR) return process.env.KUDU_EMULATOR
  const repo = path.resolve(here, '..', '..')
  const target = process.env.CARGO_TARGET_DIR || path.join(repo, 'target')
  const binary = path.join(target, 'debug', 'kudu-emulator')
  if (!fs.existsSync(binary)) {
    execFileSync('cargo', ['build', '-q', '-p', 'kudu-emulator', '--bin', 'kudu-emulator'], { cwd: repo, stdio: 'inherit' })
  }
  return binary
}

const served = []

/**
 * Whole seconds for every mtime under `root`: the REST API gives times in .NET ticks (100 ns), a disk in
 * nanoseconds, and a finding's evidence shows the mtime (Node's utimes is only exact to whole seconds).
 */
function settleTimes(root) {
  const all = [root, ...fs.readdirSync(root, { recursive: true }).map((rel) => path.join(root, rel))]
  for (const p of all) {
    const st = fs.lstatSync(p)
    const whole = Math.floor(st.mtimeMs / 1000)
    fs.lutimesSync(p, st.atime, whole)
  }
}

/**
 * Starts `kudu-emulator` on `homeDir` (Basic USER/PASSWORD, and Bearer TOKEN with `token: true`; `instances`:
 * the instance names; `hold`: files Kudu holds open, `REL_PATH[@INSTANCE]`); resolves to `{ url, info }`.
 * Every emulator stops with `stopEmulators()`.
 */
export async function serve(homeDir, { platform = 'linux', token = false, instances = [], hold = [] } = {}) {
  settleTimes(homeDir)
  const args = ['--home', homeDir, '--platform', platform, '--user', USER, '--password', PASSWORD]
  if (token) args.push('--token', TOKEN)
  if (instances.length) args.push('--instances', instances.join(','))
  for (const held of hold) args.push('--hold', held)
  const proc = spawn(emulatorBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'] })
  served.push(proc)
  const lines = []
  let buffered = ''
  await new Promise((resolve, reject) => {
    proc.on('error', reject)
    proc.on('exit', (code) => reject(new Error(`kudu-emulator exited with ${code}`)))
    proc.stdout.on('data', (chunk) => {
      buffered += chunk
      while (buffered.includes('\n') && lines.length < 2) {
        const at = buffered.indexOf('\n')
        lines.push(buffered.slice(0, at))
        buffered = buffered.slice(at + 1)
      }
      if (lines.length === 2) resolve()
    })
  })
  proc.removeAllListeners('exit')
  proc.stdout.removeAllListeners('data')
  proc.stdout.resume()
  return { url: lines[0].trim(), info: JSON.parse(lines[1]) }
}

/** Stops every emulator `serve` started (their stdin closes; they exit). */
export async function stopEmulators() {
  const running = served.splice(0)
  await Promise.all(
    running.map(
      (proc) =>
        new Promise((resolve) => {
          if (proc.exitCode !== null) return resolve()
          proc.on('exit', resolve)
          proc.stdin.end()
        }),
    ),
  )
}

/**
 * Writes `site/deployments/<id>/status.xml` in Kudu's bytes (from the healthy example's of that platform,
 * `templateHome`), with this status. Returns its path.
 */
export function writeRecord(homeDir, id, status, complete, progress = '', templateHome = 'linux-healthy') {
  const template = fs.readFileSync(path.join(examples, templateHome, 'site', 'deployments', HEALTHY_ID, 'status.xml'), 'utf8')
  const text = template
    .replaceAll(HEALTHY_ID, id)
    .replace('<status>Success</status>', `<status>${status}</status>`)
    .replace('<complete>True</complete>', `<complete>${complete ? 'True' : 'False'}</complete>`)
    .replace('<progress></progress>', `<progress>${progress}</progress>`)
  const dir = path.join(homeDir, 'site', 'deployments', id)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'status.xml'), text)
  return path.join(dir, 'status.xml')
}

/** Sets a file's or folder's mtime (and atime). */
export function setMtime(p, when) {
  fs.utimesSync(p, when, when)
}
