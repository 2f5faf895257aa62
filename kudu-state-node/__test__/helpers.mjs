// Temporary Kudu homes for the tests, copied from examples/homes (Kudu's exact bytes) and edited.
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
