// Remote mode: diagnose, explain, waitIdle and track of a site over Kudu's REST API (the `kudu-emulator` binary
// on 127.0.0.1), with credentials given in code or from the environment; secrets never shown.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import util from 'node:util'

import * as ks from '../index.js'
import { PASSWORD, T0, TOKEN, USER, home, serve, stopEmulators, tmpdir, writeLinuxLock, writeRecord } from './helpers.mjs'

after(stopEmulators)

const EXAMPLES = ['linux-healthy', 'linux-expired-lock', 'linux-stuck', 'windows-healthy', 'windows-corrupt-status']
const NEW_ID = '3f786850e387550fdab836ed7e6dc881de23001b'
const basic = () => ks.Credentials.basic(USER, PASSWORD)
const platformOf = (example) => (example.startsWith('windows') ? 'windows' : 'linux')
const withoutHome = (json) => {
  const { home: _, ...rest } = JSON.parse(json)
  return rest
}

/** Everything a value shows: its inspection, its JSON, its string. */
const shown = (value) => `${util.inspect(value, { depth: 10, showHidden: true })} ${JSON.stringify(value)} ${String(value)}`

describe('diagnose over the REST API', () => {
  for (const example of EXAMPLES) {
    it(`${example}: the remote diagnosis is the local one (async and sync)`, async () => {
      const h = home(example)
      const { url } = await serve(h, { platform: platformOf(example) })
      const local = await ks.diagnose(h, { now: T0 })
      const remote = await ks.diagnose({ remote: url, credentials: basic(), now: T0 })
      assert.equal(remote.home, url)
      assert.equal(JSON.parse(remote.json).home, url)
      assert.deepEqual(withoutHome(remote.json), withoutHome(local.json))
      assert.equal(remote.verdict, local.verdict)
      assert.deepEqual(remote.findings, local.findings)
      const sync = ks.diagnoseSync({ remote: url, credentials: basic(), now: T0, maxInFlight: 1, stallMinutes: 1440 })
      assert.equal(sync.verdict, ks.diagnoseSync(h, { now: T0, stallMinutes: 1440 }).verdict)
    })
  }

  it('without `now` the site is judged by its own clock', async () => {
    const { url } = await serve(home('linux-healthy'))
    const before = Date.now() - 60_000
    const d = await ks.diagnose({ remote: url, credentials: basic() })
    assert.equal(d.verdict, 'idle')
    assert.ok(d.now.getTime() >= before && d.now.getTime() <= Date.now() + 60_000)
  })

  it('a token, with or without its Bearer prefix', async () => {
    const { url } = await serve(home('windows-healthy'), { platform: 'windows', token: true })
    for (const token of [TOKEN, `Bearer ${TOKEN}`]) {
      assert.equal(ks.diagnoseSync({ remote: url, credentials: ks.Credentials.token(token), now: T0 }).verdict, 'idle')
    }
  })

  it('app and resourceGroup through ARM', async () => {
    const { url, info } = await serve(home('linux-healthy'), { token: true })
    const site = { app: info.app, resourceGroup: info.resource_group, subscription: info.subscription, armEndpoint: url }
    const d = await ks.diagnose({ ...site, credentials: ks.Credentials.token(TOKEN), now: T0 })
    assert.equal(d.home, url)
    await assert.rejects(ks.diagnose({ ...site, slot: 'nope', credentials: ks.Credentials.token(TOKEN) }), (err) => {
      assert.equal(err.code, 'SITE_NOT_FOUND')
      assert.ok(err.url)
      return true
    })
  })
})

describe('credentials', () => {
  it('never show their secret: toString, toJSON, JSON.stringify, util.inspect', () => {
    const b = basic()
    const t = ks.Credentials.token(TOKEN)
    assert.ok(b instanceof ks.Credentials)
    assert.equal(b.scheme, 'Basic')
    assert.equal(b.user, USER)
    assert.equal(t.scheme, 'Bearer')
    assert.equal(t.user, null)
    assert.deepEqual(b.toJSON(), { scheme: 'Basic', user: USER })
    assert.equal(JSON.stringify({ credentials: t }), '{"credentials":{"scheme":"Bearer","user":null}}')
    assert.equal(String(b), 'Basic credentials of `$emulated-app`')
    assert.equal(`${t}`, 'a bearer token')
    for (const c of [b, t]) {
      const all = `${shown(c)} ${Object.keys(c)} ${Object.getOwnPropertyNames(c)} ${util.format('%o %O %j', c, c, c)}`
      assert.doesNotMatch(all, /SECRET/)
    }
    assert.throws(() => new ks.Credentials())
  })

  it('unusable ones are INVALID_INPUT, without the secret', () => {
    const bad = [
      () => ks.Credentials.basic('', 'x'),
      () => ks.Credentials.basic('a:b', 'x'),
      () => ks.Credentials.basic('a\nb', 'x'),
      () => ks.Credentials.basic(USER, ''),
      () => ks.Credentials.basic(USER, '  '),
      () => ks.Credentials.token(''),
      () => ks.Credentials.token('Bearer '),
      () => ks.Credentials.token('SECRET-a b'),
      () => ks.Credentials.token('SECRET-a\r\nX-Evil: 1'),
    ]
    for (const make of bad) {
      assert.throws(make, (err) => {
        assert.equal(err.code, 'INVALID_INPUT')
        assert.doesNotMatch(`${err.message} ${util.inspect(err)}`, /SECRET/)
        return true
      })
    }
  })

  it('come from the environment when not given; given ones win and are never replaced', async () => {
    const { url } = await serve(home('linux-healthy'))
    const names = [
      'KUDU_STATE_USERNAME',
      'KUDU_STATE_PASSWORD',
      'KUDU_STATE_TOKEN',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AZURE_FEDERATED_TOKEN_FILE',
      'ACTIONS_ID_TOKEN_REQUEST_URL',
      'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
      'PATH',
    ]
    const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]))
    try {
      for (const n of names) delete process.env[n]
      process.env.PATH = tmpdir() // no `az`
      await assert.rejects(ks.diagnose({ remote: url, now: T0 }), (err) => {
        assert.equal(err.code, 'NO_CREDENTIALS')
        assert.match(err.message, /KUDU_STATE_USERNAME/)
        return true
      })
      process.env.KUDU_STATE_USERNAME = USER
      process.env.KUDU_STATE_PASSWORD = PASSWORD
      assert.equal((await ks.diagnose({ remote: url, now: T0 })).verdict, 'idle')
      await assert.rejects(ks.diagnose({ remote: url, credentials: ks.Credentials.basic(USER, 'SECRET-wrong') }), {
        code: 'AUTH_FAILED',
      })
    } finally {
      for (const n of names) {
        if (saved[n] === undefined) delete process.env[n]
        else process.env[n] = saved[n]
      }
    }
  })
})

describe('errors', () => {
  it('a wrong password is AUTH_FAILED with .url and .status, and no secret anywhere', async () => {
    const { url } = await serve(home('linux-healthy'))
    const wrong = ks.Credentials.basic(USER, 'SECRET-wrong-4e')
    const check = (err) => {
      assert.ok(err instanceof Error)
      assert.equal(err.code, 'AUTH_FAILED')
      assert.equal(err.status, 401)
      assert.ok(err.url.startsWith(`${url}/api/`), err.url)
      assert.equal(err.path, undefined)
      assert.match(err.message, /the credentials came from the `credentials` given in code/)
      assert.doesNotMatch(`${err.message} ${util.inspect(err)} ${err.stack}`, /SECRET/)
      return true
    }
    await assert.rejects(ks.diagnose({ remote: url, credentials: wrong }), check)
    assert.throws(() => ks.diagnoseSync({ remote: url, credentials: wrong }), check)
    await assert.rejects(ks.waitIdle({ remote: url, credentials: wrong, timeoutMs: 0 }), check)
    await assert.rejects(ks.explain('x', 409, { remote: url, credentials: wrong }), check)
    await assert.rejects(ks.track(NEW_ID, { remote: url, credentials: wrong, timeoutMs: 0 }), check)
    assert.throws(() => ks.trackSync(NEW_ID, { remote: url, credentials: wrong, timeoutMs: 0 }), check)
    await assert.rejects(ks.diagnose({ remote: url, credentials: ks.Credentials.token('SECRET-bad-token') }), {
      code: 'AUTH_FAILED',
    })
  })

  it('http:// off loopback is URL_REFUSED before anything is sent', async () => {
    await assert.rejects(ks.diagnose({ remote: 'http://example.com', credentials: basic() }), {
      code: 'URL_REFUSED',
      url: 'http://example.com',
    })
  })

  it('conflicting or incomplete arguments are INVALID_INPUT', async () => {
    const h = home('linux-healthy')
    const { url } = await serve(h)
    const cases = [
      [() => ks.diagnoseSync(h, { remote: url }), /give one or the other/],
      [() => ks.diagnoseSync({}), /give a home/],
      [() => ks.diagnoseSync(h, { credentials: basic() }), /`credentials` is for a remote site/],
      [() => ks.diagnoseSync(h, { maxInFlight: 4 }), /`maxInFlight` is for a remote site/],
      [() => ks.diagnoseSync({ remote: url, app: 'a', resourceGroup: 'rg' }), /either `remote` or `app`/],
      [() => ks.diagnoseSync({ app: 'a' }), /`app` needs `resourceGroup`/],
      [() => ks.diagnoseSync({ remote: url, slot: 's' }), /`slot` is only for `app`/],
      [() => ks.diagnoseSync({ remote: url, maxInFlight: 0 }), /1 to 16, not 0/],
      [() => ks.diagnoseSync({ remote: url, maxInFlight: 17 }), /1 to 16, not 17/],
      [() => ks.diagnoseSync({ remote: url, maxInFlight: 1.5 }), /1 to 16, not 1.5/],
      [() => ks.diagnoseSync({ remote: url }, { now: T0 }), /give the options once/],
      [() => ks.waitIdleSync(h), /needs options with `timeoutMs`/],
      [() => ks.waitIdleSync({ remote: url, timeoutMs: 0 }, { timeoutMs: 0 }), /give the options once/],
      [() => ks.trackSync(NEW_ID, h, { remote: url }), /give one or the other/],
      [() => ks.explainSync('x', 409, { remote: url, maxInFlight: 0 }), /1 to 16/],
      [() => ks.explainSync('x', 409, { credentials: basic() }), /`credentials` is for a remote site/],
    ]
    for (const [call, message] of cases) {
      assert.throws(call, (err) => {
        assert.equal(err.code, 'INVALID_INPUT', `${call}: ${err.message}`)
        assert.match(err.message, message)
        return true
      })
    }
    await assert.rejects(ks.waitIdle(h, () => {}), { code: 'INVALID_INPUT', message: /the options go between them/ })
    await assert.rejects(ks.track(NEW_ID, {}), { code: 'INVALID_INPUT', message: /give a home/ })
    assert.throws(() => ks.diagnoseSync({ remote: url, credentials: { scheme: 'Basic', password: 'x' } }))
  })
})

describe('explain with a site', () => {
  it("gives the site's diagnosis; the explanation's JSON stays the same", async () => {
    const body = 'There is a deployment currently in progress. Please try again when it completes.'
    const { url } = await serve(home('linux-healthy'))
    const x = await ks.explain(body, 409, { remote: url, credentials: basic() })
    assert.equal(x.diagnosis.home, url)
    assert.equal(x.diagnosis.verdict, 'idle')
    const plain = ks.explainSync(body, 409)
    assert.equal(plain.diagnosis, null)
    assert.equal(x.json, plain.json)
  })
})

describe('waitIdle over the REST API', () => {
  it('returns at once when clear', async () => {
    const { url } = await serve(home('linux-healthy'))
    const w = await ks.waitIdle({ remote: url, credentials: basic(), timeoutMs: 5000 })
    assert.equal(w.idle, true)
    assert.equal(w.diagnosis.home, url)
    assert.ok(w.waitedMs < 5000)
    assert.equal(ks.waitIdleSync({ remote: url, credentials: basic(), timeoutMs: 5000 }).idle, true)
  })

  it('times out under a live lock, reporting each poll', async () => {
    const h = home('linux-healthy')
    // Taken just now by the site's clock (which judges): held for 25 minutes.
    writeLinuxLock(h, new Date(Math.floor(Date.now() / 1000) * 1000))
    const { url } = await serve(h)
    const seen = []
    const w = await ks.waitIdle({ remote: url, credentials: basic(), timeoutMs: 500, pollMs: 100 }, (p) => seen.push(p))
    assert.equal(w.idle, false)
    assert.equal(w.diagnosis.verdict, 'deploying')
    assert.equal(JSON.parse(w.json).diagnosis.home, url)
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(seen.length >= 2, `${seen.length} progress calls`)
    assert.ok(seen.every((p) => p.diagnosis.home === url && p.diagnosis.verdict === 'deploying'))
  })
})

describe('track', () => {
  const where = {
    home: (h) => [h],
    remote: (_h, url) => [{ remote: url, credentials: basic() }],
  }
  for (const [name, target] of Object.entries(where)) {
    for (const [status, end] of [
      ['Success', 'succeeded'],
      ['Failed', 'failed'],
    ]) {
      it(`${name}: ends ${end} with a ${status} record (async and sync)`, async () => {
        const h = home('linux-healthy')
        writeRecord(h, NEW_ID, status, true)
        const { url } = await serve(h)
        const [first] = target(h, url)
        const options = { timeoutMs: 5000, pollMs: 50 }
        const out =
          typeof first === 'string' ? await ks.track(NEW_ID, first, options) : await ks.track(NEW_ID, { ...first, ...options })
        assert.equal(out.end, end)
        assert.equal(out.last.status, status)
        assert.equal(out.last.found, true)
        assert.equal(out.last.complete, true)
        const json = JSON.parse(out.json)
        assert.equal(json.end, out.end)
        assert.equal(json.last.status, status)
        const sync =
          typeof first === 'string' ? ks.trackSync(NEW_ID, first, options) : ks.trackSync(NEW_ID, { ...first, ...options })
        assert.equal(sync.end, end)
      })
    }

    it(`${name}: follows changes until success`, async () => {
      const h = home('linux-healthy')
      writeRecord(h, NEW_ID, 'Building', false, 'Building the app')
      const { url } = await serve(h)
      const [first] = target(h, url)
      const states = []
      const onChange = (change) => {
        states.push(change.state)
        if (states.length === 1) writeRecord(h, NEW_ID, 'Success', true)
      }
      const options = { timeoutMs: 10_000, pollMs: 50 }
      const out =
        typeof first === 'string'
          ? await ks.track(NEW_ID, first, options, onChange)
          : await ks.track(NEW_ID, { ...first, ...options }, onChange)
      await new Promise((resolve) => setImmediate(resolve))
      assert.equal(out.end, 'succeeded')
      assert.deepEqual(
        states.map((s) => s.status),
        ['Building', 'Success'],
      )
      assert.equal(states[0].progress, 'Building the app')
    })

    it(`${name}: onChange returning false stops the track`, async () => {
      const h = home('linux-healthy')
      writeRecord(h, NEW_ID, 'Building', false, 'Building the app')
      const { url } = await serve(h)
      const [first] = target(h, url)
      const options = { timeoutMs: 60_000, pollMs: 20 }
      let calls = 0
      const stop = () => {
        calls++
        return false
      }
      const out =
        typeof first === 'string'
          ? await ks.track(NEW_ID, first, options, stop)
          : await ks.track(NEW_ID, { ...first, ...options }, stop)
      assert.equal(out.end, 'stopped')
      assert.equal(out.last.status, 'Building')
      assert.equal(calls, 1)
    })

    it(`${name}: times out when nothing changes`, async () => {
      const h = home('linux-healthy')
      const { url } = await serve(h)
      const [first] = target(h, url)
      const options = { timeoutMs: 300, pollMs: 50 }
      const out =
        typeof first === 'string' ? await ks.track('not-there', first, options) : await ks.track('not-there', { ...first, ...options })
      assert.equal(out.end, 'timed-out')
      assert.equal(out.last.found, false)
      assert.equal(out.last.status, null)
      assert.ok(out.waitedMs >= 300)
    })
  }

  it('a missing home and a bad id', async () => {
    await assert.rejects(ks.track(NEW_ID, path.join(tmpdir(), 'nope'), { timeoutMs: 0 }), { code: 'HOME_NOT_FOUND' })
    assert.throws(() => ks.trackSync('../escape', home('linux-healthy'), { timeoutMs: 0 }), { code: 'INVALID_INPUT' })
  })
})

describe('no secret anywhere', () => {
  it('in any result, for Basic credentials and a token', async () => {
    const h = home('linux-stuck')
    writeRecord(h, NEW_ID, 'Failed', true)
    const { url } = await serve(h, { token: true })
    const all = []
    for (const credentials of [basic(), ks.Credentials.token(TOKEN)]) {
      const site = { remote: url, credentials }
      all.push(
        await ks.diagnose(site),
        ks.waitIdleSync({ ...site, timeoutMs: 0 }),
        await ks.explain('There is a deployment currently in progress.', 409, site),
        await ks.track(NEW_ID, { ...site, timeoutMs: 1000, pollMs: 50 }),
        credentials,
      )
    }
    const text = all.map(shown).join('\n')
    assert.ok(text.includes(url))
    assert.doesNotMatch(text, /SECRET/)
    assert.ok(fs.existsSync(h))
  })
})
