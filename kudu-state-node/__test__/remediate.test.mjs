// plan, apply and undo on real temporary homes: the happy path and every refusal.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'

import * as ks from '../index.js'
import { T0, capture, home, tmpdir, writeLinuxLock } from './helpers.mjs'

// examples/homes/linux-expired-lock: a lock that expired on 2024-09-03; at T0 moving it is the plan.
const expiredLock = () => home('linux-expired-lock')

describe('plan → apply → diagnose → undo', () => {
  it('fixes an expired Linux lock and undo restores the bytes (async)', async () => {
    const h = expiredLock()
    const before = capture(h)
    const plan = await ks.plan(h, { now: T0 })
    assert.ok(plan instanceof ks.Plan)
    assert.equal(plan.home, h)
    assert.equal(plan.platform, 'linux')
    assert.equal(plan.verdict, 'idle')
    assert.ok(plan.created instanceof Date)
    assert.equal(plan.created.getTime(), T0.getTime())
    assert.equal(plan.isEmpty, false)
    assert.equal(plan.changesFiles, true)
    assert.equal(plan.schema, 2)
    assert.deepEqual(JSON.parse(plan.json), plan.toJSON())
    assert.throws(() => { plan.home = '/elsewhere' }, TypeError, 'a plan is read-only')
    assert.equal(plan.home, h)
    assert.deepEqual(plan.steps.map((s) => [s.action, s.target, s.risk, s.advisory]), [
      ['remove-expired-lock', 'site/locks/deployment', 'low', false],
    ])

    const backups = tmpdir()
    const report = await ks.apply(plan, { yes: true, backupDir: backups })
    assert.equal(report.resumed, false)
    assert.deepEqual(report.steps.map((s) => [s.index, s.action, s.outcome]), [[0, 'remove-expired-lock', 'applied']])
    assert.ok(report.backup.startsWith(backups))
    assert.equal(fs.existsSync(path.join(h, 'site/locks/deployment')), false)

    const after = await ks.diagnose(h, { now: T0 })
    assert.equal(after.verdict, 'idle')
    assert.ok(!after.findings.some((f) => f.code === 'linux-lock-expired'))

    // The same plan again changes nothing.
    const again = await ks.apply(plan, { yes: true, backupDir: backups })
    assert.equal(again.backup, null)
    assert.equal(again.steps[0].outcome, 'already-done')

    const undone = await ks.undo(report.backup)
    assert.equal(undone.backup, report.backup)
    assert.equal(undone.alreadyUndone, false)
    assert.ok(undone.restored.includes('site/locks/deployment'), JSON.stringify(undone.restored))
    assert.deepEqual(capture(h), before)
    assert.equal((await ks.undo(report.backup)).alreadyUndone, true)
  })

  it('the same with the Sync functions and the default backup folder', () => {
    const h = expiredLock()
    const before = capture(h)
    const plan = ks.planSync(h, { now: T0 })
    const report = ks.applySync(plan, { yes: true })
    assert.ok(report.backup.startsWith(path.join(h, 'data', 'kudu-state', 'backups')))
    assert.equal(ks.diagnoseSync(h, { now: T0 }).verdict, 'idle')
    const undone = ks.undoSync(report.backup)
    assert.equal(undone.alreadyUndone, false)
    assert.deepEqual(capture(h), before)
    assert.equal(JSON.parse(undone.json).already_undone, false)
  })

  it('a healthy home has an empty plan', async () => {
    const plan = await ks.plan(home('linux-healthy'), { now: T0 })
    assert.equal(plan.isEmpty, true)
    assert.deepEqual(plan.steps, [])
    const report = await ks.apply(plan, { yes: true })
    assert.equal(report.backup, null)
  })

  it('a live deployment plans only a wait, until the lock expiry', async () => {
    const h = home('linux-healthy')
    writeLinuxLock(h, T0)
    const plan = await ks.plan(h, { now: new Date(T0.getTime() + 60_000) })
    assert.deepEqual(plan.steps.map((s) => s.action), ['wait'])
    assert.equal(plan.steps[0].until.toISOString(), '2024-09-04T10:25:00.000Z')
    assert.equal(plan.changesFiles, false)
  })

  it('allowLiveLock plans moving a stalled live lock, at high risk', async () => {
    const h = home('linux-healthy')
    writeLinuxLock(h, T0)
    const now = new Date(T0.getTime() + 15 * 60_000)
    assert.deepEqual((await ks.plan(h, { now })).steps.map((s) => s.action), ['restart-scm'])
    const plan = await ks.plan(h, { now, allowLiveLock: true })
    assert.equal(plan.steps[0].action, 'remove-stalled-lock')
    assert.equal(plan.steps[0].risk, 'high')
  })
})

describe('Plan JSON', () => {
  it('round-trips through toJSON / fromJSON and applies', async () => {
    const h = expiredLock()
    const plan = await ks.plan(h, { now: T0 })
    const text = JSON.stringify(plan)
    const json = JSON.parse(text)
    assert.deepEqual(json, JSON.parse(plan.json))
    assert.equal(json.schema, 2)
    assert.equal(json.created, '2024-09-04T10:00:00Z')
    assert.equal(json.steps[0].action, 'remove-expired-lock')
    for (const copy of [ks.Plan.fromJSON(text), ks.Plan.fromJSON(json)]) {
      assert.equal(copy.id, plan.id)
      assert.deepEqual(copy.toJSON(), plan.toJSON())
    }
    const report = ks.applySync(ks.Plan.fromJSON(text), { yes: true })
    assert.equal(report.steps[0].outcome, 'applied')
  })

  it('fromJSON throws INVALID_INPUT for something that is not a plan', () => {
    assert.throws(() => ks.Plan.fromJSON('{}'), { code: 'INVALID_INPUT' })
    assert.throws(() => ks.Plan.fromJSON('not json'), { code: 'INVALID_INPUT' })
    assert.throws(() => ks.Plan.fromJSON({ schema: 99 }), { code: 'INVALID_INPUT' })
  })

  it('has no public constructor', () => {
    assert.throws(() => new ks.Plan())
  })
})

describe('refusals', () => {
  it('apply changes nothing without yes: true (INVALID_INPUT)', async () => {
    const h = expiredLock()
    const before = capture(h)
    const plan = await ks.plan(h, { now: T0 })
    await assert.rejects(ks.apply(plan, {}), { code: 'INVALID_INPUT' })
    await assert.rejects(ks.apply(plan, { yes: false }), { code: 'INVALID_INPUT' })
    await assert.rejects(ks.apply(plan), { code: 'INVALID_INPUT' })
    assert.throws(() => ks.applySync(plan, { yes: 'yes' }), (err) => err instanceof Error)
    assert.throws(() => ks.applySync(plan, { backupDir: tmpdir() }), { code: 'INVALID_INPUT', message: /yes: true/ })
    assert.deepEqual(capture(h), before)
    assert.equal(fs.existsSync(path.join(h, 'data')), false)
  })

  it('PRECONDITION_FAILED when a target changed between plan and apply', async () => {
    const h = expiredLock()
    const plan = await ks.plan(h, { now: T0 })
    // Kudu took the lock again meanwhile.
    writeLinuxLock(h, new Date())
    const lockDir = path.join(h, 'site', 'locks', 'deployment')
    await assert.rejects(ks.apply(plan, { yes: true }), (err) => {
      assert.equal(err.code, 'PRECONDITION_FAILED')
      assert.equal(err.path, lockDir)
      assert.match(err.message, /changed since the plan/)
      return true
    })
    assert.throws(() => ks.applySync(plan, { yes: true }), { code: 'PRECONDITION_FAILED' })
    assert.ok(fs.existsSync(path.join(lockDir, 'info.lock')), 'the new lock is untouched')
  })

  it('UNDO_CONFLICT when a file changed since apply', async () => {
    const h = expiredLock()
    const plan = await ks.plan(h, { now: T0 })
    const report = await ks.apply(plan, { yes: true })
    // A new deployment took the lock after the repair: undo must not overwrite it.
    const lock = writeLinuxLock(h, new Date())
    const mine = fs.readFileSync(lock)
    await assert.rejects(ks.undo(report.backup), (err) => {
      assert.equal(err.code, 'UNDO_CONFLICT')
      assert.ok(err.path.startsWith(h), err.path)
      return true
    })
    assert.throws(() => ks.undoSync(report.backup), { code: 'UNDO_CONFLICT' })
    assert.deepEqual(fs.readFileSync(lock), mine)
  })

  it('undo of a folder whose journal is not one is INVALID_INPUT', async () => {
    const dir = tmpdir()
    fs.writeFileSync(path.join(dir, 'journal.json'), 'not a journal')
    await assert.rejects(ks.undo(dir), { code: 'INVALID_INPUT' })
  })
})
