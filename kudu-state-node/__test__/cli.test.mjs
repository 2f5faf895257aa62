// The `kudu-state` bin: the Rust command through the addon, run as a subprocess.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, it } from 'node:test'

import * as ks from '../index.js'
import { T0, examples, here, home } from './helpers.mjs'

const bin = path.join(here, '..', 'bin', 'kudu-state.js')
const run = (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })

describe('kudu-state bin', () => {
  it('exits 0 on a healthy home and 12 on a broken one', () => {
    const ok = run('diagnose', path.join(examples, 'linux-healthy'))
    assert.equal(ok.status, 0, ok.stderr)
    assert.match(ok.stdout, /^IDLE/)
    const broken = run('diagnose', path.join(examples, 'linux-stuck'))
    assert.equal(broken.status, 12, broken.stderr)
    assert.match(broken.stdout, /linux-lock-corrupt/)
  })

  it('diagnose --json is the diagnosis JSON, byte for byte', () => {
    const home = path.join(examples, 'linux-stuck')
    const out = run('diagnose', home, '--json', '--now', '2024-09-04T10:00:00Z')
    assert.equal(out.status, 12, out.stderr)
    const json = JSON.parse(out.stdout)
    assert.equal(json.schema, 1)
    assert.equal(json.verdict, 'broken')
    assert.equal(out.stdout, ks.diagnoseSync(home, { now: new Date('2024-09-04T10:00:00Z') }).json + '\n')
  })

  it('explain reads standard input; usage errors exit 2; failures exit 1 with the code', () => {
    const body = 'There is a deployment currently in progress. Please try again when it completes.'
    const x = spawnSync(process.execPath, [bin, 'explain', '--json'], { input: body, encoding: 'utf8' })
    assert.equal(x.status, 0, x.stderr)
    assert.equal(JSON.parse(x.stdout).kind, 'deployment-in-progress')
    assert.equal(run('no-such-command').status, 2)
    const missing = run('diagnose', path.join(examples, 'no-such-home'))
    assert.equal(missing.status, 1)
    assert.match(missing.stderr, /error\[HOME_NOT_FOUND\]/)
    const version = run('--version')
    assert.equal(version.status, 0)
    assert.match(version.stdout, /^kudu-state 0\.1\.0/)
  })

  it('plan --json is the plan JSON that Plan.fromJSON reads', () => {
    const h = home('linux-expired-lock')
    const out = run('plan', h, '--json', '--now', T0.toISOString())
    assert.equal(out.status, 10, out.stderr)
    const fromCli = ks.Plan.fromJSON(out.stdout)
    const mine = ks.planSync(h, { now: T0 })
    assert.deepEqual(fromCli.toJSON(), mine.toJSON())
    assert.equal(out.stdout, mine.json + '\n')
  })
})
