// A real minilogin server in sandbox mode (`python -m minilogin dev`) on a free port, with the
// cases of prepare_cases.py in its data folder. Python: $MINILOGIN_PYTHON, else the repo's venv.

const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const REPO = path.resolve(__dirname, '..', '..', '..')
const PYTHON = process.env.MINILOGIN_PYTHON || path.join(REPO, '.venv', 'bin', 'python')
const START_TIMEOUT_MS = 60000 // a loaded machine starts slowly

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

function runPython(args, env) {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, args, { env, cwd: REPO }, (error, stdout, stderr) =>
      error ? reject(new Error(`${args.join(' ')} failed: ${stderr || error.message}`)) : resolve(stdout),
    ),
  )
}

// `env`: settings of this server beyond the defaults (MINILOGIN_* variables).
async function startServer({ env: extra = {} } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'minilogin-miniprogram-'))
  const port = await freePort()
  const publicUrl = `http://127.0.0.1:${port}`
  const env = Object.assign({}, process.env, {
    MINILOGIN_DATA_DIR: dataDir,
    MINILOGIN_PUBLIC_URL: publicUrl,
    // Every test's computer and phone share 127.0.0.1: the rate limits would count them all.
    MINILOGIN_RATE_LIMIT_SCALE: '0',
  }, extra)
  delete env.MINILOGIN_WECHAT_APP_ID
  const cases = JSON.parse(await runPython([path.join(__dirname, 'prepare_cases.py')], env))

  const child = spawn(PYTHON, ['-m', 'minilogin', 'dev', '--port', String(port)], {
    env,
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (chunk) => (log += chunk))
  child.stderr.on('data', (chunk) => (log += chunk))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  // Should the test process end without stop() (a crash, an interrupt), take the server along.
  const orphaned = () => child.kill('SIGKILL')
  process.once('exit', orphaned)

  async function stop() {
    process.removeListener('exit', orphaned)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
      await exited
      clearTimeout(timer)
    }
    fs.rmSync(dataDir, { recursive: true, force: true })
  }

  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null) {
      await stop()
      throw new Error(`the server exited:\n${log}`)
    }
    try {
      const response = await fetch(`${publicUrl}/pools/demo/.well-known/openid-configuration`)
      if (response.ok) break
    } catch (notYet) {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`the server did not start within ${START_TIMEOUT_MS} ms:\n${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { public: publicUrl, cases, stop, log: () => log }
}

module.exports = { startServer }
