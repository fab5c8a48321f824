// Just enough of the mini program runtime to run a page file: Page() registers the page's
// definition, an instance gets `data` and `setData`, and `wx` and getApp() are the globals
// they are in WeChat while a lifecycle method runs.

const path = require('node:path')

const PROJECT = path.resolve(__dirname, '..', '..')

function definitionOf(page) {
  const file = path.join(PROJECT, `${page}.js`)
  let definition = null
  const before = globalThis.Page
  globalThis.Page = (given) => {
    definition = given
  }
  try {
    delete require.cache[require.resolve(file)]
    require(file)
  } finally {
    globalThis.Page = before
  }
  if (!definition) throw new Error(`${page}.js did not call Page()`)
  return definition
}

// Runs `call` with the globals WeChat provides; the page reads them synchronously.
function withGlobals({ wx, app }, call) {
  const before = { wx: globalThis.wx, getApp: globalThis.getApp }
  globalThis.wx = wx
  globalThis.getApp = () => app
  try {
    return call()
  } finally {
    globalThis.wx = before.wx
    globalThis.getApp = before.getApp
  }
}

function loadPage(page, environment) {
  const definition = definitionOf(page)
  const instance = {
    data: structuredClone(definition.data || {}),
    setData(patch) {
      for (const [key, value] of Object.entries(patch)) {
        if (/[.[]/.test(key)) throw new Error(`setData paths are not simulated: ${key}`)
        this.data[key] = structuredClone(value)
      }
    },
  }
  for (const [name, member] of Object.entries(definition)) {
    if (typeof member === 'function') {
      instance[name] = (...args) => withGlobals(environment, () => member.apply(instance, args))
    }
  }
  return instance
}

module.exports = { PROJECT, definitionOf, loadPage }
