// Type test of the generated index.d.ts: `tsc --noEmit -p __test__/tsconfig.json` (strict). Not run.
import * as ks from '../index.js'

declare const home: string

async function usage(): Promise<void> {
  const d: ks.Diagnosis = await ks.diagnose(home, { now: new Date(), stallMinutes: 10, platform: 'linux' })
  const verdict: 'idle' | 'deploying' | 'stuck' | 'broken' = d.verdict
  const after: Date | null = d.safeAfter
  const now: Date = d.now
  const severities: ks.Severity[] = d.findings.map((f) => f.severity)
  const schema: string = d.json
  const s: ks.Snapshot = ks.scanSync(home, { platform: 'windows' })
  const p: ks.Plan = await ks.plan(home, { allowLiveLock: false, now })
  const steps: ks.PlanStep[] = p.steps
  const action: ks.Action = steps[0]!.action
  const kinds: ks.NoteKind[] = s.notes.map((n) => n.kind)
  const created: Date = p.created
  const planJson: Record<string, any> = p.toJSON()
  const again: ks.Plan = ks.Plan.fromJSON(JSON.stringify(planJson))
  const r: ks.ApplyReport = await ks.apply(again, { yes: true, backupDir: '/tmp/backups' })
  const backup: string | null = r.backup
  const outcome: ks.StepOutcome | undefined = r.steps[0]?.outcome
  if (backup !== null) {
    const u: ks.UndoReport = await ks.undo(backup)
    const restored: string[] = ks.undoSync(backup).restored.concat(u.restored)
  }
  const x: ks.Explanation = ks.explainSync('body', 409)
  const kind: ks.ConflictKind = x.kind
  const tail: ks.Diagnosis = ks.diagnoseSync(home, { logTailBytes: 1 << 20, stallMinutes: 5 })
  const startedAt: Date | null = (await ks.explain('body')).startedAt
  const w: ks.WaitOutcome = await ks.waitIdle(home, { timeoutMs: 60_000, pollMs: 5_000 }, (p: ks.WaitProgress) => {
    const v: ks.Verdict = p.diagnosis.verdict
    void [v, p.waitedMs]
  })
  const idle: boolean = w.idle && ks.waitIdleSync(home, { timeoutMs: 0 }).idle
  const code: number = ks.runCli(['diagnose', home])
  const waitJson: string = w.json
  void [verdict, after, severities, schema, s, steps, created, r, outcome, x, startedAt, idle, code]
  void [action, kinds, kind, tail, waitJson]

  // Remote mode: the options name the site and are then the only argument (with the callback).
  const creds: ks.Credentials = ks.Credentials.basic('$app', 'password')
  const token: ks.Credentials = ks.Credentials.token('eyJ...')
  const scheme: 'Basic' | 'Bearer' = creds.scheme
  const user: string | null = token.user
  const shownCreds: { scheme: 'Basic' | 'Bearer'; user: string | null } = creds.toJSON()
  const site = { remote: 'https://app.scm.azurewebsites.net', credentials: creds, maxInFlight: 4, instance: 'i0' }
  const rd: ks.Diagnosis = await ks.diagnose({ ...site, now, stallMinutes: 10 })
  const rds: ks.Diagnosis = ks.diagnoseSync({ app: 'app', resourceGroup: 'rg', subscription: 's', slot: 'staging' })
  const byProfile: ks.Diagnosis = await ks.diagnose({ publishProfile: '/tmp/app.PublishSettings' })
  const rw: ks.WaitOutcome = await ks.waitIdle({ ...site, timeoutMs: 60_000 }, (p) => void p.diagnosis.home)
  const rws: ks.WaitOutcome = ks.waitIdleSync({ ...site, timeoutMs: 0 })
  // A callback may return anything (false stops): a count, a boolean, a Promise.
  const seen: ks.WaitProgress[] = []
  await ks.waitIdle(home, { timeoutMs: 1 }, (p) => seen.push(p))
  await ks.waitIdle(home, { timeoutMs: 1 }, (p) => p.waitedMs < 60_000)
  await ks.waitIdle(home, { timeoutMs: 1 }, async () => {})
  await ks.track('id', home, { timeoutMs: 1 }, () => false)
  const rx: ks.Explanation = await ks.explain('body', 409, site)
  const holder: ks.Diagnosis | null = rx.diagnosis
  const t: ks.TrackOutcome = await ks.track('id', home, { timeoutMs: 600_000, pollMs: 5_000 }, (c: ks.TrackProgress) => {
    const st: string | number | null = c.state.status
    void [st, c.waitedMs, c.state.lastLogMessage]
  })
  const rt: ks.TrackOutcome = await ks.track('id', { ...site, timeoutMs: 1_000 }, (c) => void c.state.found)
  const end: ks.TrackEnd = ks.trackSync('id', site).end
  const ended: 'succeeded' | 'failed' | 'timed-out' | 'stopped' = t.end
  const last: ks.TrackState = rt.last
  const trackJson: string = t.json
  void [creds, token, scheme, user, shownCreds, rd, rds, byProfile, rw, rws, holder, end, ended, last, trackJson]
  // Repairing a site: plan names it, apply and undo take it again.
  const rp: ks.Plan = await ks.plan({ ...site, now, allowScmRestart: true, allowLiveLock: false })
  const rps: ks.Plan = ks.planSync({ app: 'app', resourceGroup: 'rg' })
  const planSite: ks.PlanSite | null = rp.site
  const siteUrl: string | undefined = planSite?.url
  const pinned: string | null | undefined = planSite?.instance
  const pre: ks.Precondition | null = rp.steps[0]!.precondition
  const etag: string | null | undefined = pre?.etag
  const targetKind: ks.TargetKind | undefined = pre?.kind
  for (const op of rp.steps[0]!.ops) {
    if (op.op === 'restart-kudu') {
      const where: string = op.instance
      const held: string = op.lock
      const guarded: string[] = op.stalled.map((g) => g.path)
      void [where, held, guarded]
    } else if (op.op !== 'touch-active') {
      const changed: string = op.path
      void changed
    }
  }
  const ra: ks.ApplyReport = await ks.apply(rp, { yes: true, backupDir: 'b', ...site })
  const ras: ks.ApplyReport = ks.applySync(rps, { yes: true, publishProfile: '/tmp/app.PublishSettings' })
  const ru: ks.UndoReport = await ks.undo(ra.backup!, site)
  const rus: ks.UndoReport = ks.undoSync('b', { remote: 'https://app.scm.azurewebsites.net' })
  const notRestored: string[] = ru.timesNotRestored.concat(rus.irreversible)
  void [rps, siteUrl, pinned, etag, targetKind, ras, notRestored]
  // @ts-expect-error: an op is one of the core's.
  const badOp: ks.PlanStep['ops'][number] = { op: 'delete', path: 'x' }
  void badOp
  // @ts-expect-error: with a site the plan options are the only options argument.
  await ks.plan({ remote: 'x' }, { now })
  // @ts-expect-error: with a site the options are the only options argument.
  await ks.diagnose({ remote: 'x' }, { now })
  // @ts-expect-error: credentials are a Credentials object, not a plain object with a password.
  await ks.diagnose({ remote: 'x', credentials: { scheme: 'Basic', user: 'u', password: 'p' } })
  // @ts-expect-error: waitIdle on a home takes its options before the callback.
  await ks.waitIdle(home, () => {})
  // @ts-expect-error: a track end is one of the core's names.
  const badEnd: ks.TrackEnd = 'done'
  void badEnd

  // @ts-expect-error: `yes` is required to apply a plan.
  await ks.apply(p, { backupDir: '/tmp/backups' })
  // @ts-expect-error: a platform is 'linux' or 'windows'.
  ks.diagnoseSync(home, { platform: 'macos' })
  // @ts-expect-error: `timeoutMs` is required.
  await ks.waitIdle(home, {})
  // @ts-expect-error: an action is one of the core's names.
  const badAction: ks.Action = 'delete-everything'
  // @ts-expect-error: a conflict kind is one of the core's names.
  const badKind: ks.ConflictKind = 'teapot'
  void [badAction, badKind]
  // @ts-expect-error: a diagnosis' `now` is a Date, not a string.
  const bad: string = d.now
  void bad
}
void usage
