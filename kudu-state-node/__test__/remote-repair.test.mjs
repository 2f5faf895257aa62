// Remote repair: plan, apply and undo of a site over Kudu's REST API (the `kudu-emulator` binary on 127.0.0.1),
// on a Linux and a Windows home with an orphaned record; what the core refuses; no secret anywhere.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import util from 'node:util'

import * as ks from '../index.js'
import { PASSWORD, T0, USER, capture, home, minutes, serve, setMtime, stopEmulators, tmpdir, writeRecord } from './helpers.mjs'

after(stopEmulators)

/** The orphaned record: Building, not complete, nothing touched it for three hours, no lock. */
const STUCK_ID = '3f786850e387550fdab836ed7e6dc881de23001b'
/** Two Windows instances; the first one's Kudu holds the lock in the restart test. */
const HOLDER = 'a1b2c3' + '0'.repeat(58)
const OTHER = 'ffffff' + '0'.repeat(58)
const basic = () => ks.Credentials.basic(USER, PASSWORD)
const siteOf = (url) => ({ remote: url, credentials: basic() })
const threeHoursBefore = new Date(T0.getTime() - minutes(180))

/** Everything a value shows: its inspection, its JSON, its string. */
const shown = (value) => `${util.inspect(value, { depth: 10, showHidden: true })} ${JSON.stringify(value)} ${String(value)}`

/** The platform's healthy example plus an orphaned record, served by the emulator: `{ h, url }`. */
async function orphaned(platform) {
  const example = `${platform}-healthy`
  const h = home(example)
  const status = writeRecord(h, STUCK_ID, 'Building', false, 'Building the app', example)
  setMtime(status, threeHoursBefore)
  setMtime(path.dirname(status), threeHoursBefore)
  const { url } = await serve(h, { platform })
  return { h, url }
}

/** Every file under `dir`, as text. */
function allText(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map((rel) => path.join(dir, rel))
    .filter((p) => fs.statSync(p).isFile())
    .map((p) => fs.readFileSync(p, 'utf8'))
    .join('\n')
}

for (const platform of ['linux', 'windows']) {
  describe(`${platform}: a site with an orphaned record`, () => {
    it('the remote plan has steps and names the site (async and sync)', async () => {
      const { h, url } = await orphaned(platform)
      const before = capture(h)
      const plan = await ks.plan({ ...siteOf(url), now: T0 })
      assert.ok(plan instanceof ks.Plan)
      assert.equal(plan.home, url)
      assert.equal(plan.site.url, url)
      assert.ok(plan.site.instance, 'the instance that answered, which requests then stay on')
      assert.equal(plan.verdict, 'stuck')
      assert.equal(plan.created.getTime(), T0.getTime())
      assert.ok(plan.changesFiles && !plan.isEmpty)
      const [step] = plan.steps
      assert.equal(step.action, 'fail-orphaned-record')
      assert.equal(step.target, `site/deployments/${STUCK_ID}`)
      assert.equal(step.finding, 'deployment-orphaned')
      assert.equal(step.advisory, false)
      assert.equal(step.precondition.kind, 'dir')
      assert.ok(step.ops.length > 0)
      assert.ok(step.ops.every((op) => ['create', 'write', 'append', 'touch-active'].includes(op.op)), JSON.stringify(step.ops))
      const json = JSON.parse(plan.json)
      assert.equal(json.home, url)
      assert.deepEqual(json.site, { url, instance: plan.site.instance })
      assert.deepEqual(json.steps[0].ops, step.ops)
      assert.deepEqual(JSON.parse(JSON.stringify(plan)), json)
      const again = ks.Plan.fromJSON(plan.json)
      assert.deepEqual(again.site, plan.site)
      assert.equal(again.json, plan.json)
      assert.deepEqual(capture(h), before, 'planning changes nothing')
      // Without `now`, the site's own clock.
      const clocked = ks.planSync(siteOf(url))
      assert.ok(Math.abs(clocked.created.getTime() - Date.now()) < 60_000)
      assert.deepEqual(
        clocked.steps.map((s) => s.action),
        plan.steps.map((s) => s.action),
      )
    })

    it('apply changes the served files, the site is then idle, undo puts every byte back', async () => {
      const { h, url } = await orphaned(platform)
      const before = capture(h)
      const plan = await ks.plan({ ...siteOf(url), now: T0 })
      const backupDir = path.join(tmpdir(), 'backups')
      const report = await ks.apply(plan, { yes: true, backupDir, ...siteOf(url) })
      assert.deepEqual(
        report.steps.map((s) => s.outcome),
        plan.steps.map(() => 'applied'),
      )
      assert.equal(path.dirname(report.backup), fs.realpathSync(backupDir))
      assert.ok(fs.existsSync(path.join(report.backup, 'journal.jsonl')))
      const applied = capture(h)
      assert.notDeepEqual(applied, before)
      const status = Buffer.from(applied[`site/deployments/${STUCK_ID}/status.xml`], 'base64').toString()
      assert.match(status, /<status>Failed<\/status>/)
      assert.equal((await ks.diagnose(siteOf(url))).verdict, 'idle')
      // The same plan again changes nothing.
      const again = ks.applySync(plan, { yes: true, backupDir, ...siteOf(url) })
      assert.ok(again.steps.every((s) => s.outcome === 'already-done'), again.json)
      assert.deepEqual(capture(h), applied)

      const undone = await ks.undo(report.backup, siteOf(url))
      assert.deepEqual(capture(h), before, "every file's bytes are back")
      assert.equal(undone.backup, report.backup)
      assert.equal(undone.alreadyUndone, false)
      assert.ok(undone.restored.length > 0)
      // VFS cannot set a file's time: the files it rewrote are back with the time of the write.
      assert.ok(undone.timesNotRestored.length > 0)
      assert.ok(undone.timesNotRestored.every((p) => undone.restored.includes(p)))
      assert.deepEqual(undone.irreversible, [])
      assert.deepEqual(JSON.parse(undone.json).times_not_restored, undone.timesNotRestored)
      assert.equal(ks.undoSync(report.backup, siteOf(url)).alreadyUndone, true)
    })

    it('a plan applied after a file changed is PRECONDITION_FAILED, nothing touched', async () => {
      const { h, url } = await orphaned(platform)
      const plan = ks.planSync({ ...siteOf(url), now: T0 })
      // The deployment wrote its log meanwhile.
      fs.writeFileSync(path.join(h, 'site', 'deployments', STUCK_ID, 'log.log'), '2024-09-04T09:59:00.0000000Z,Still building.,0000,0\n')
      const changed = capture(h)
      const check = (err) => {
        assert.equal(err.code, 'PRECONDITION_FAILED')
        assert.ok(err.path.includes(STUCK_ID), err.path)
        assert.match(err.message, /changed since the plan/)
        return true
      }
      const backupDir = path.join(tmpdir(), 'backups')
      await assert.rejects(ks.apply(plan, { yes: true, backupDir, ...siteOf(url) }), check)
      assert.throws(() => ks.applySync(plan, { yes: true, backupDir, ...siteOf(url) }), check)
      assert.deepEqual(capture(h), changed, 'nothing was touched')
    })
  })
}

describe("the core's refusals", () => {
  it("a site's plan or backup without the site; another site's; a home's plan on a site", async () => {
    const { h, url } = await orphaned('windows')
    const before = capture(h)
    const plan = await ks.plan({ ...siteOf(url), now: T0 })
    const refusedAs = (code) => (pattern) => (err) => {
      assert.equal(err.code, code)
      assert.match(err.message, pattern)
      return true
    }
    const refused = refusedAs('HOME_MISMATCH')
    const invalid = refusedAs('INVALID_INPUT')
    await assert.rejects(ks.apply(plan, { yes: true }), refused(/made for the site/))
    assert.throws(() => ks.applySync(ks.Plan.fromJSON(plan.json), { yes: true }), refused(/made for the site/))
    assert.deepEqual(capture(h), before)

    // The default backup folder: ./kudu-state-backups/<host> under the current directory.
    const work = tmpdir()
    const cwd = process.cwd()
    process.chdir(work)
    let report
    try {
      report = await ks.apply(plan, { yes: true, ...siteOf(url) })
    } finally {
      process.chdir(cwd)
    }
    assert.equal(path.dirname(report.backup), path.join(fs.realpathSync(work), 'kudu-state-backups', '127.0.0.1'))
    await assert.rejects(ks.undo(report.backup), refused(/backup is of the site/))

    const other = await orphaned('linux')
    const mismatch = { code: 'HOME_MISMATCH' }
    await assert.rejects(ks.apply(plan, { yes: true, ...siteOf(other.url) }), mismatch)
    await assert.rejects(ks.undo(report.backup, siteOf(other.url)), mismatch)
    const local = ks.planSync(other.h, { now: T0 })
    assert.equal(local.site, null)
    await assert.rejects(ks.apply(local, { yes: true, backupDir: tmpdir(), ...siteOf(other.url) }), mismatch)

    // Site-only options without a site, a home and a site together, and no `yes`.
    assert.throws(() => ks.applySync(plan, { yes: true, credentials: basic() }), invalid(/`credentials` is for a remote site/))
    assert.throws(() => ks.undoSync(report.backup, { maxInFlight: 2 }), invalid(/`maxInFlight` is for a remote site/))
    assert.throws(() => ks.planSync(other.h, { remote: other.url }), invalid(/give one or the other/))
    assert.throws(() => ks.planSync({ remote: url }, { now: T0 }), invalid(/give the options once/))
    await assert.rejects(ks.apply(plan, siteOf(url)), invalid(/yes: true/))
    assert.ok((await ks.undo(report.backup, siteOf(url))).restored.length > 0)
  })
})

describe('Windows: Kudu holds a file open', () => {
  it('restart-kudu only with allowScmRestart; undo says it cannot be undone', async () => {
    const h = home('windows-healthy')
    const lock = path.join(h, 'site', 'locks', 'deployments.lock')
    fs.mkdirSync(path.dirname(lock), { recursive: true })
    fs.writeFileSync(
      lock,
      '{\r\n  "OperationName": "Performing deployment",\r\n  "AcquiredDateTime": "2024-09-04T08:00:00.0000000Z",\r\n' +
        '  "StackTrace": "   at Kudu.Core.Infrastructure.LockFile.TryLockOperation()",\r\n  "InstanceId": "a1b2c3"\r\n}',
    )
    setMtime(lock, new Date(T0.getTime() - minutes(120)))
    const { url } = await serve(h, { platform: 'windows', instances: [HOLDER, OTHER], hold: [`site/locks/deployments.lock@${HOLDER}`] })
    const site = { ...siteOf(url), instance: HOLDER, now: T0 }
    const advice = ks.planSync(site).steps.find((s) => s.action === 'restart-scm')
    assert.equal(advice.advisory, true)
    assert.deepEqual(advice.ops, [])
    const plan = await ks.plan({ ...site, allowScmRestart: true })
    assert.equal(plan.site.instance, HOLDER)
    const step = plan.steps.find((s) => s.action === 'restart-scm')
    assert.equal(step.advisory, false)
    assert.deepEqual(step.ops, [{ op: 'restart-kudu', instance: HOLDER, lock: 'site/locks/deployments.lock', stalled: [] }])
    assert.equal(step.precondition.kind, 'file')
    assert.ok(step.precondition.etag, "a plan over the API records the file's ETag")
    const report = await ks.apply(plan, { yes: true, backupDir: tmpdir(), ...siteOf(url) })
    assert.deepEqual(
      report.steps.filter((s) => s.action === 'restart-scm').map((s) => s.outcome),
      ['applied'],
    )
    const undone = await ks.undo(report.backup, siteOf(url))
    assert.equal(undone.irreversible.length, 1)
    assert.ok(undone.irreversible[0].includes(HOLDER), undone.irreversible[0])
  })

  it('a held file is HELD_OPEN with .path and .url; what was removed is put back', async () => {
    const h = home('windows-healthy')
    const folder = path.join(h, 'site', 'deployments', STUCK_ID) // no status.xml: moved away
    fs.mkdirSync(folder)
    fs.writeFileSync(path.join(folder, 'manifest'), 'm')
    setMtime(path.join(folder, 'manifest'), threeHoursBefore)
    setMtime(folder, threeHoursBefore)
    const { url } = await serve(h, { platform: 'windows', hold: [`site/deployments/${STUCK_ID}/manifest`] })
    const plan = await ks.plan({ ...siteOf(url), now: T0 })
    assert.deepEqual(
      plan.steps.map((s) => s.action),
      ['remove-folder-without-status'],
    )
    assert.deepEqual(plan.steps[0].ops, [{ op: 'move', path: `site/deployments/${STUCK_ID}` }])
    const before = capture(h)
    const check = (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, 'HELD_OPEN')
      assert.equal(err.path, `site/deployments/${STUCK_ID}/manifest`)
      assert.ok(err.url.startsWith(`${url}/api/vfs/`), err.url)
      assert.match(err.message, /held open/)
      return true
    }
    await assert.rejects(ks.apply(plan, { yes: true, backupDir: tmpdir(), ...siteOf(url) }), check)
    assert.throws(() => ks.applySync(plan, { yes: true, backupDir: tmpdir(), ...siteOf(url) }), check)
    assert.deepEqual(capture(h), before)
  })
})

describe('no secret anywhere', () => {
  it('in plans, reports, errors and the backup folder', async () => {
    const { url } = await orphaned('linux')
    const plan = await ks.plan({ ...siteOf(url), now: T0 })
    const backupDir = tmpdir()
    const report = await ks.apply(plan, { yes: true, backupDir, ...siteOf(url) })
    const all = []
    const wrong = { remote: url, credentials: ks.Credentials.basic(USER, 'SECRET-wrong-51') }
    for (const call of [
      () => ks.plan(wrong),
      () => ks.apply(plan, { yes: true, backupDir, ...wrong }),
      () => ks.undo(report.backup, wrong),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.equal(err.code, 'AUTH_FAILED')
        all.push(`${err.message} ${util.inspect(err)} ${err.stack}`)
        return true
      })
    }
    const undone = await ks.undo(report.backup, siteOf(url))
    all.push(...[plan, plan.steps, plan.site, report, undone].map(shown), plan.json, allText(backupDir))
    const text = all.join('\n')
    assert.ok(text.includes(url))
    assert.doesNotMatch(text, /SECRET/)
  })
})
