// scan, diagnose, explain, waitIdle and the error objects, against real temporary homes.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

import * as ks from '../index.js'
import { T0, at, home, minutes, tmpdir, writeLinuxLock } from './helpers.mjs'

describe('scan', () => {
  it('reads a home, async and sync', async () => {
    const h = home('linux-healthy')
    for (const snapshot of [await ks.scan(h), ks.scanSync(h)]) {
      assert.equal(snapshot.home, h)
      assert.equal(snapshot.given, 'home')
      assert.equal(snapshot.platform, 'linux')
      assert.equal(snapshot.platformOverridden, false)
      assert.deepEqual(snapshot.notes, [])
      const json = JSON.parse(snapshot.json)
      assert.equal(json.platform.platform, 'linux')
      assert.ok(json.deployments.pending, 'pending marker in the snapshot JSON')
    }
  })

  it('accepts the site folder and a platform override', async () => {
    const h = home('windows-healthy')
    const s = await ks.scan(path.join(h, 'site'), { platform: 'linux', logTailBytes: 1024 })
    assert.equal(s.given, 'site')
    assert.equal(s.home, h)
    assert.equal(s.platform, 'linux')
    assert.equal(s.platformOverridden, true)
  })
})

describe('errors', () => {
  it('HOME_NOT_FOUND rejects (async) and throws (sync) with .code and .path', async () => {
    const missing = path.join(tmpdir(), 'no-such-home')
    await assert.rejects(ks.diagnose(missing), (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, 'HOME_NOT_FOUND')
      assert.equal(err.path, missing)
      assert.match(err.message, /does not exist/)
      return true
    })
    assert.throws(() => ks.diagnoseSync(missing), { code: 'HOME_NOT_FOUND', path: missing })
    await assert.rejects(ks.scan(missing), { code: 'HOME_NOT_FOUND' })
    assert.throws(() => ks.scanSync(missing), { code: 'HOME_NOT_FOUND' })
    await assert.rejects(ks.plan(missing), { code: 'HOME_NOT_FOUND' })
    await assert.rejects(ks.waitIdle(missing, { timeoutMs: 0 }), { code: 'HOME_NOT_FOUND' })
  })

  it('NOT_A_HOME for a folder without site/', async () => {
    const dir = tmpdir()
    await assert.rejects(ks.diagnose(dir), { code: 'NOT_A_HOME', path: dir })
  })

  it('INVALID_INPUT for bad options, with no .path: the core checks every range', async () => {
    const h = home('linux-healthy')
    // 0 and 1441 are whole numbers: refused by the core (as `--stall-minutes` and Python's stall_minutes);
    // 1.5 and NaN are not numbers of minutes at all: refused here.
    for (const stallMinutes of [0, 1441, 1.5, Number.NaN, -1]) {
      await assert.rejects(ks.diagnose(h, { stallMinutes }), (err) => {
        assert.equal(err.code, 'INVALID_INPUT')
        assert.equal(err.path, undefined)
        assert.match(err.message, /stall/)
        return true
      })
      await assert.rejects(ks.plan(h, { stallMinutes }), { code: 'INVALID_INPUT' })
      await assert.rejects(ks.waitIdle(h, { timeoutMs: 0, stallMinutes }), { code: 'INVALID_INPUT' })
    }
    await assert.rejects(ks.diagnose(h, { stallMinutes: 0 }), { message: /the stall window must be 1 to 1440 minutes, not 0/ })
    assert.equal(ks.diagnoseSync(h, { stallMinutes: 1440 }).verdict, 'idle')
    for (const logTailBytes of [0, 1023, 16 * 1024 * 1024 + 1]) {
      assert.throws(() => ks.diagnoseSync(h, { logTailBytes }), { code: 'INVALID_INPUT', message: /log tail/ })
      assert.throws(() => ks.scanSync(h, { logTailBytes }), { code: 'INVALID_INPUT', message: /log tail/ })
      assert.throws(() => ks.planSync(h, { logTailBytes }), { code: 'INVALID_INPUT' })
      assert.throws(() => ks.waitIdleSync(h, { timeoutMs: 0, logTailBytes }), { code: 'INVALID_INPUT' })
    }
    assert.equal(ks.diagnoseSync(h, { logTailBytes: 1024 }).verdict, 'idle')
    assert.throws(() => ks.waitIdleSync(h, { timeoutMs: -1 }), { code: 'INVALID_INPUT' })
    for (const status of [1.5, 0, 99, 600, 1000, 70000]) {
      assert.throws(() => ks.explainSync('x', status), { code: 'INVALID_INPUT', message: /status/ })
      await assert.rejects(ks.explain('x', status), { code: 'INVALID_INPUT' })
    }
    assert.throws(() => ks.explainSync('x', 1000), { message: /1000 is not an HTTP status/ })
    assert.equal(ks.explainSync('x', 100).status, 100)
    assert.equal(ks.explainSync('x', 599).status, 599)
  })
})

describe('diagnose', () => {
  it('a healthy home is idle, async and sync; times are Dates', async () => {
    const h = home('linux-healthy')
    for (const d of [await ks.diagnose(h, { now: T0 }), ks.diagnoseSync(h, { now: T0 })]) {
      assert.equal(d.verdict, 'idle')
      assert.equal(d.safeToDeploy, true)
      assert.equal(d.safeAfter, null)
      assert.ok(d.now instanceof Date)
      assert.equal(d.now.getTime(), T0.getTime())
      assert.equal(d.schema, 1)
      assert.equal(d.platform, 'linux')
      assert.ok(d.findings.some((f) => f.code === 'pending-marker' && f.severity === 'info'))
      const json = JSON.parse(d.json)
      assert.equal(json.now, '2024-09-04T10:00:00Z')
      assert.equal(json.safe_to_deploy, true)
      assert.equal(json.findings.length, d.findings.length)
    }
  })

  it('a live Linux lock is deploying at a fixed now, and not once it has expired', async () => {
    const h = home('linux-healthy')
    writeLinuxLock(h, T0)
    const early = await ks.diagnose(h, { now: at(minutes(5)) })
    assert.equal(early.verdict, 'deploying')
    assert.equal(early.safeToDeploy, false)
    assert.ok(early.safeAfter instanceof Date)
    assert.equal(early.safeAfter.toISOString(), at(minutes(25)).toISOString())
    const live = early.findings.find((f) => f.code === 'linux-lock-live')
    assert.equal(live.path, 'site/locks/deployment/info.lock')
    assert.equal(live.evidence.operation, 'Performing continuous deployment')

    // Held for 15 minutes with nothing running: stuck (and a shorter stall window says so sooner).
    assert.equal(ks.diagnoseSync(h, { now: at(minutes(15)) }).verdict, 'stuck')
    assert.equal(ks.diagnoseSync(h, { now: at(minutes(5)), stallMinutes: 3 }).verdict, 'stuck')

    const later = ks.diagnoseSync(h, { now: at(minutes(30)) })
    assert.equal(later.verdict, 'idle')
    assert.equal(later.safeToDeploy, true)
    assert.ok(later.findings.some((f) => f.code === 'linux-lock-expired'))
  })

  it('a corrupt Windows status.xml is broken', async () => {
    const d = await ks.diagnose(home('windows-corrupt-status'), { now: T0 })
    assert.equal(d.platform, 'windows')
    assert.equal(d.verdict, 'broken')
    assert.ok(d.findings.some((f) => f.code === 'status-xml-corrupt' && f.severity === 'error'))
  })
})

describe('explain', () => {
  const body =
    "The 'Preparing zip package' operation conflicts with the pending 'Performing continuous deployment' operation started at 2024-09-04T10:33:18.1234567Z.  Please retry operation later."

  it('classifies a 409 body, async and sync', async () => {
    for (const x of [await ks.explain(body, 409), ks.explainSync(body, 409)]) {
      assert.equal(x.kind, 'lock-conflict')
      assert.equal(x.kind, ks.ConflictKind.LockConflict)
      assert.equal(x.retryable, true)
      assert.equal(x.requestedOperation, 'Preparing zip package')
      assert.equal(x.holderOperation, 'Performing continuous deployment')
      assert.ok(x.startedAt instanceof Date)
      assert.equal(x.startedAt.toISOString(), '2024-09-04T10:33:18.123Z')
      assert.equal(x.status, 409)
      assert.equal(x.body, body)
      assert.equal(JSON.parse(x.json).kind, 'lock-conflict')
    }
  })

  it('never fails on any body', async () => {
    const x = await ks.explain('')
    assert.equal(x.kind, 'unknown')
    assert.equal(x.status, null)
    assert.equal(ks.explainSync('{"Message": "There is a deployment currently in progress. Please try again when it completes."}').kind, 'deployment-in-progress')
  })
})

describe('waitIdle', () => {
  it('returns at once on an idle home, async and sync', async () => {
    const h = home('linux-healthy')
    for (const w of [await ks.waitIdle(h, { timeoutMs: 5000 }), ks.waitIdleSync(h, { timeoutMs: 5000, pollMs: 10 })]) {
      assert.equal(w.idle, true)
      assert.ok(w.waitedMs < 5000)
      assert.equal(w.diagnosis.verdict, 'idle')
    }
  })

  it('times out while a live lock is held, without blocking the event loop', async () => {
    const h = home('linux-healthy')
    writeLinuxLock(h, new Date())
    let ticks = 0
    const timer = setInterval(() => ticks++, 10)
    const seen = []
    const w = await ks.waitIdle(h, { timeoutMs: 300, pollMs: 50, platform: 'linux', stallMinutes: 10 }, (p) => seen.push(p))
    clearInterval(timer)
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(seen.length >= 2, `progress called ${seen.length} times`)
    assert.equal(seen[0].diagnosis.verdict, 'deploying')
    assert.ok(seen.every((p, i) => i === 0 || p.waitedMs >= seen[i - 1].waitedMs))
    assert.equal(w.idle, false)
    assert.ok(w.waitedMs >= 300)
    assert.equal(w.diagnosis.verdict, 'deploying')
    assert.ok(ticks > 5, `event loop ran ${ticks} timer ticks while waiting`)
  })

  it('onProgress returning false stops the wait; what it throws rejects the wait', async () => {
    const h = home('linux-healthy')
    writeLinuxLock(h, new Date())
    const options = { timeoutMs: 60_000, pollMs: 10, platform: 'linux', stallMinutes: 10 }
    const calls = []
    const w = await ks.waitIdle(h, options, (p) => {
      calls.push(p.waitedMs)
      return false
    })
    assert.equal(w.idle, false)
    assert.equal(calls.length, 1)
    assert.ok(w.waitedMs < 60_000)

    const thrown = new RangeError('stop here')
    let thrownCalls = 0
    await assert.rejects(
      ks.waitIdle(h, options, () => {
        thrownCalls++
        throw thrown
      }),
      (e) => e === thrown,
    )
    assert.equal(thrownCalls, 1)
    // process.exit() from the callback ends the process: the worker does not wait for an answer that
    // never comes (it used to, forever). The wait's own timeout then ends the pool's thread.
    const script = `
      const ks = require(${JSON.stringify(fileURLToPath(new URL('../index.js', import.meta.url)))})
      ks.waitIdle(${JSON.stringify(h)}, ${JSON.stringify({ ...options, timeoutMs: 2_000 })}, () => process.exit(7))`
    const child = spawnSync(process.execPath, ['-e', script], { timeout: 120_000 })
    assert.equal(child.signal, null, `killed: ${child.stderr}`)
    assert.equal(child.status, 7, String(child.stderr))
    // Anything but false goes on (a push returns the new length).
    const seen = []
    const timedOut = await ks.waitIdle(h, { ...options, timeoutMs: 100 }, (p) => seen.push(p))
    assert.ok(seen.length >= 2 && timedOut.idle === false)
  })
})

describe('string enums', () => {
  it('are the core names, the same text as in the JSON', async () => {
    assert.equal(ks.Action.RemoveExpiredLock, 'remove-expired-lock')
    assert.equal(ks.StepOutcome.AlreadyDone, 'already-done')
    assert.equal(ks.ConflictKind.ArmSiteLock, 'arm-site-lock')
    assert.equal(ks.NoteKind.NonUtf8Name, 'non-utf8-name')
    assert.deepEqual(Object.values(ks.Verdict), ['idle', 'deploying', 'stuck', 'broken'])
    assert.deepEqual(Object.values(ks.Platform), ['windows', 'linux'])

    const d = ks.diagnoseSync(home('linux-stuck'), { now: T0 })
    const dj = JSON.parse(d.json)
    assert.equal(d.verdict, dj.verdict)
    assert.equal(d.platform, dj.platform)
    assert.deepEqual(d.findings.map((f) => f.severity), dj.findings.map((f) => f.severity))
    assert.ok(d.findings.every((f) => Object.values(ks.Severity).includes(f.severity)))

    const p = ks.planSync(home('linux-stuck'), { now: T0 })
    const pj = JSON.parse(p.json)
    assert.deepEqual(p.steps.map((s) => [s.action, s.risk]), pj.steps.map((s) => [s.action, s.risk]))
    assert.ok(p.steps.every((s) => Object.values(ks.Action).includes(s.action)))

    for (const body of ['There is a deployment currently in progress.', 'ScopeLocked', 'hello']) {
      const x = ks.explainSync(body, 409)
      assert.equal(x.kind, JSON.parse(x.json).kind)
      assert.ok(Object.values(ks.ConflictKind).includes(x.kind))
    }
  })

  it('a link in the home is a scan note of kind symlink', () => {
    const h = home('linux-healthy')
    fs.symlinkSync('/etc', path.join(h, 'site', 'deployments', 'elsewhere'))
    const s = ks.scanSync(h)
    const note = s.notes.find((n) => n.path === 'site/deployments/elsewhere')
    assert.ok(note, JSON.stringify(s.notes))
    assert.equal(note.kind, ks.NoteKind.Symlink)
    assert.equal(JSON.parse(s.json).notes[0].kind, 'symlink')
  })
})
