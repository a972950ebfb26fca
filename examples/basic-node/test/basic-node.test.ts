import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const root = await mkdtemp(join(tmpdir(), 'peerscope-basic-'))
const started: ChildProcess[] = []
after(async () => {
  // A failed assertion must not leave a node running: the test runner would wait for it.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await rm(root, { recursive: true, force: true })
})

interface Running {
  child: ChildProcess
  /** The `label  value` lines the example prints. */
  fields: Map<string, string>
  exited: Promise<number | null>
}

/** Starts the example as a user would; resolves once it has printed its start-up lines. */
function start(dir: string, args: string[] = []): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@peerscope/source', main, '--dir', join(root, dir), '--port', '0', ...args],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    started.push(child)
    const exited = new Promise<number | null>((done) => child.on('exit', done))
    const fields = new Map<string, string>()
    child.stdout!.setEncoding('utf8')
    child.stdout!.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        const m = /^(.+?)\s{2,}(.*)$/.exec(line)
        if (m !== null) fields.set(m[1]!, m[2]!)
      }
      if (fields.has('remembers') && (!args.includes('--dial') || fields.has('pinged')))
        resolve({ child, fields, exited })
    })
    child.on('error', reject)
    void exited.then((code) => reject(new Error(`the example exited early with code ${code}`)))
  })
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGINT')
  return running.exited
}

test('the basic node serves its API, pings a peer, stops on SIGINT, and keeps its identity and peers', async () => {
  const other = await start('other')
  const node = await start('node', ['--dial', other.fields.get('listening')!.split(' ')[0]!])
  assert.match(node.fields.get('pinged')!, /in \d+ ms$/)
  const api = (await (await fetch(new URL('api/v1/node', node.fields.get('dashboard')))).json()) as {
    node: { peerId: string }
  }
  assert.equal(api.node.peerId, node.fields.get('peer id'))
  assert.equal(node.fields.get('remembers'), '0 peer(s)')
  assert.equal(await stop(node), 0, 'stops by itself after SIGINT')

  const again = await start('node')
  assert.equal(again.fields.get('peer id'), node.fields.get('peer id'), 'same identity after a restart')
  assert.equal(again.fields.get('remembers'), '1 peer(s)', 'the pinged peer is remembered')
  assert.equal(await stop(again), 0)
  assert.equal(await stop(other), 0)
})
