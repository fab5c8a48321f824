// The project opens in WeChat DevTools without errors: checked the way DevTools checks it.
// project.config.json has what DevTools needs, app.json is valid and every page it lists has
// its files, every .json parses, every .wxml is well-formed and binds only handlers the page
// has and data the page sets, and every script loads only modules inside the project.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')

const { PROJECT, definitionOf } = require('./support/runtime')
const { parseWxml, elements, expressions, WxmlError } = require('./support/wxml')
const { TEXTS } = require('../lib/i18n')
const { initialView } = require('../lib/state')

// Folders that are not part of the mini program (project.config.json's packOptions ignore them).
const OUTSIDE = new Set(['test', 'tools', 'node_modules'])

function projectFiles(extension, folder = PROJECT) {
  const found = []
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name)
    if (entry.isDirectory()) {
      if (!(folder === PROJECT && OUTSIDE.has(entry.name))) found.push(...projectFiles(extension, full))
    } else if (entry.name.endsWith(extension)) {
      found.push(full)
    }
  }
  return found
}

function readJson(relative) {
  return JSON.parse(fs.readFileSync(path.join(PROJECT, relative), 'utf8'))
}

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/
const APP_KEYS = new Set([
  'entryPagePath', 'pages', 'window', 'tabBar', 'networkTimeout', 'debug', 'functionalPages',
  'subpackages', 'subPackages', 'workers', 'requiredBackgroundModes', 'requiredPrivateInfos',
  'plugins', 'preloadRule', 'resizable', 'usingComponents', 'permission', 'sitemapLocation',
  'style', 'useExtendedLib', 'entranceDeclare', 'darkmode', 'themeLocation', 'lazyCodeLoading',
  'singlePage', 'supportedMaterials', 'serviceProviderTicket', 'embeddedAppIdList', 'halfPage',
  'debugOptions', 'enablePassiveEvent', 'resolveAlias', 'renderer', 'componentFramework',
  // Turned the privacy check on before WeChat enforced it for all (2023-09-15).
  '__usePrivacyCheck__',
])
const WINDOW_KEYS = new Set([
  'navigationBarBackgroundColor', 'navigationBarTextStyle', 'navigationBarTitleText',
  'navigationStyle', 'homeButton', 'backgroundColor', 'backgroundTextStyle',
  'backgroundColorTop', 'backgroundColorBottom', 'enablePullDownRefresh', 'onReachBottomDistance',
  'pageOrientation', 'restartStrategy', 'initialRenderingCache', 'visualEffectInBackground',
  'handleWebviewPreload',
])
const PAGE_KEYS = new Set([
  ...WINDOW_KEYS, 'disableScroll', 'usingComponents', 'style', 'singlePage', 'renderer',
  'componentFramework',
])
// WeChat's built-in components that the pages may use without declaring them.
const BUILT_INS = new Set([
  'view', 'text', 'image', 'button', 'input', 'icon', 'block', 'scroll-view', 'swiper',
  'swiper-item', 'navigator', 'form', 'label', 'textarea', 'switch', 'checkbox', 'radio',
  'rich-text', 'progress', 'slot', 'template', 'import', 'include',
])
const LITERALS = new Set(['true', 'false', 'null', 'undefined'])

describe('project.config.json', () => {
  const config = readJson('project.config.json')

  it('has the fields DevTools needs', () => {
    assert.equal(typeof config.appid, 'string')
    assert.ok(config.appid === 'touristappid' || /^wx[0-9a-f]{16}$/.test(config.appid), config.appid)
    assert.equal(config.compileType, 'miniprogram')
    assert.match(config.libVersion, /^\d+\.\d+\.\d+$/)
    assert.equal(typeof config.projectname, 'string')
    assert.equal(typeof config.setting, 'object')
    assert.equal(config.setting.urlCheck, true, 'requests go only to legal domains, as on phones')
    if (config.miniprogramRoot) assert.ok(fs.existsSync(path.join(PROJECT, config.miniprogramRoot)))
  })

  it('leaves the tests and tools out of the upload', () => {
    const ignored = config.packOptions.ignore
    const types = ['folder', 'file', 'suffix', 'prefix', 'regexp', 'glob']
    for (const rule of ignored) assert.ok(types.includes(rule.type), rule.type)
    const folders = ignored.filter((rule) => rule.type === 'folder').map((rule) => rule.value)
    assert.deepEqual(folders.sort(), ['test', 'tools'])
  })
})

describe('app.json', () => {
  const app = readJson('app.json')

  it('has only keys WeChat knows', () => {
    for (const key of Object.keys(app)) assert.ok(APP_KEYS.has(key), `unknown app.json key ${key}`)
    for (const key of Object.keys(app.window)) assert.ok(WINDOW_KEYS.has(key), `unknown window key ${key}`)
    assert.ok(['black', 'white'].includes(app.window.navigationBarTextStyle))
    for (const key of ['navigationBarBackgroundColor', 'backgroundColor']) {
      assert.match(app.window[key], HEX_COLOR)
    }
  })

  it('lists pages that each have their .js, .wxml and .json', () => {
    assert.ok(Array.isArray(app.pages) && app.pages.length > 0)
    assert.equal(new Set(app.pages).size, app.pages.length, 'a page is listed twice')
    for (const page of app.pages) {
      assert.match(page, /^[\w-]+(\/[\w-]+)*$/, `${page}: no leading slash, no extension`)
      for (const extension of ['.js', '.wxml', '.json']) {
        assert.ok(fs.existsSync(path.join(PROJECT, page + extension)), `${page}${extension} is missing`)
      }
    }
  })

  it('names a sitemap that exists and parses', () => {
    const sitemap = readJson(app.sitemapLocation)
    assert.ok(Array.isArray(sitemap.rules))
    for (const rule of sitemap.rules) assert.ok(['allow', 'disallow'].includes(rule.action))
  })

  it('has app.js registering the app with an https server', () => {
    let registered = null
    const context = {
      App: (given) => (registered = given),
      require: (name) => require(path.join(PROJECT, name)),
    }
    const source = fs.readFileSync(path.join(PROJECT, 'app.js'), 'utf8')
    vm.runInNewContext(`(function (require) {${source}\n})(require)`, context)
    assert.ok(registered, 'app.js calls App()')
    assert.match(registered.config.baseUrl, /^https:\/\/[^/]+$/)
    assert.ok(fs.existsSync(path.join(PROJECT, 'app.wxss')))
  })
})

describe('every file of the project', () => {
  it('parses, when it is .json', () => {
    const files = projectFiles('.json')
    assert.ok(files.length >= 4)
    for (const file of files) assert.doesNotThrow(() => JSON.parse(fs.readFileSync(file, 'utf8')), file)
  })

  it('loads only modules inside the project, when it is .js', () => {
    for (const file of projectFiles('.js')) {
      const source = fs.readFileSync(file, 'utf8')
      const wrapped = `(function (require, module, exports) {${source}\n})`
      assert.doesNotThrow(() => new vm.Script(wrapped, { filename: file }))
      for (const [, name] of source.matchAll(/require\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        assert.match(name, /^\.\.?\//, `${file}: ${name} is not a file of the project`)
        const target = path.resolve(path.dirname(file), name.endsWith('.js') ? name : `${name}.js`)
        const inside = target.startsWith(PROJECT + path.sep) && fs.existsSync(target)
        assert.ok(inside, `${file}: ${name} does not exist`)
        const folder = path.relative(PROJECT, target).split(path.sep)[0]
        assert.ok(!OUTSIDE.has(folder), `${file}: ${name} is not uploaded`)
      }
    }
  })
})

describe('each page', () => {
  const app = readJson('app.json')

  for (const page of app.pages) {
    it(`${page}: .json is a page configuration`, () => {
      const config = readJson(`${page}.json`)
      for (const key of Object.keys(config)) assert.ok(PAGE_KEYS.has(key), `unknown page key ${key}`)
    })

    it(`${page}: .wxml is well-formed and uses only known components`, () => {
      const tree = parseWxml(fs.readFileSync(path.join(PROJECT, `${page}.wxml`), 'utf8'))
      const declared = readJson(`${page}.json`).usingComponents || {}
      for (const element of elements(tree)) {
        assert.ok(BUILT_INS.has(element.name) || element.name in declared, `<${element.name}> is unknown`)
      }
    })

    it(`${page}: .wxml binds only handlers the page defines`, () => {
      const definition = definitionOf(page)
      const tree = parseWxml(fs.readFileSync(path.join(PROJECT, `${page}.wxml`), 'utf8'))
      let bound = 0
      for (const element of elements(tree)) {
        for (const [name, value] of Object.entries(element.attributes)) {
          if (!/^(bind|catch|capture-bind|capture-catch|mut-bind)(:?)\w+$/.test(name)) continue
          bound += 1
          assert.equal(typeof definition[value], 'function', `${name}="${value}" names no method of the page`)
        }
      }
      assert.ok(bound > 0)
    })

    it(`${page}: .wxml shows only data the page sets and texts that exist`, () => {
      const pageData = Object.keys(definitionOf(page).data || {})
      const known = new Set([...pageData, ...Object.keys(initialView('zh-CN'))])
      const tree = parseWxml(fs.readFileSync(path.join(PROJECT, `${page}.wxml`), 'utf8'))
      // A wx:for names its element and index (`item` and `index` unless told otherwise).
      for (const element of elements(tree)) {
        if (!('wx:for' in element.attributes)) continue
        known.add(element.attributes['wx:for-item'] || 'item')
        known.add(element.attributes['wx:for-index'] || 'index')
      }
      for (const expression of expressions(tree)) {
        const code = expression.replace(/'[^']*'|"[^"]*"/g, '')
        for (const [name] of code.matchAll(/(?<![.\w$])[A-Za-z_$][\w$]*/g)) {
          if (!LITERALS.has(name)) assert.ok(known.has(name), `{{${expression}}}: ${name} is never set`)
        }
        for (const [, key] of code.matchAll(/(?<![.\w$])text\.(\w+)/g)) {
          for (const locale of Object.keys(TEXTS)) {
            assert.equal(typeof TEXTS[locale][key], 'string', `${locale} has no text.${key}`)
          }
        }
      }
    })
  }
})

describe('privacy', () => {
  const { AGREE_PRIVACY_BUTTON } = require('../lib/login')

  it('the login page has the agree button whose id the page passes to WeChat', () => {
    const wxml = fs.readFileSync(path.join(PROJECT, 'pages', 'login', 'login.wxml'), 'utf8')
    const button = new RegExp(`<button id="${AGREE_PRIVACY_BUTTON}"[^>]*open-type="agreePrivacyAuthorization"`)
    assert.match(wxml, button)
    assert.match(wxml, /bindagreeprivacyauthorization="onAgreePrivacy"/)
  })
})

describe('the WXML checker', () => {
  const broken = {
    'an unclosed tag': '<view><text>hi</text>',
    'tags closed out of order': '<view><text></view></text>',
    'a closing tag that closes nothing': '<view></view></view>',
    'an unquoted attribute': '<view class=big></view>',
    'an unterminated attribute': '<view class="big></view>',
    'an unbalanced mustache': '<view>{{name</view>',
    'a mustache inside a mustache': '<view>{{a {{b}} }}</view>',
    'a repeated attribute': '<view class="a" class="b"></view>',
    'wx:else without wx:if': '<view></view><view wx:else></view>',
    'an unterminated comment': '<!-- <view></view>',
  }
  for (const [what, source] of Object.entries(broken)) {
    it(`refuses ${what}`, () => assert.throws(() => parseWxml(source), WxmlError))
  }

  it('accepts self-closing tags, comments and conditional chains', () => {
    const tree = parseWxml(
      '<!-- c --><view wx:if="{{a === \'x\'}}"><input value="{{v}}" /></view>\n' +
        '<view wx:elif="{{b}}"></view><view wx:else>t</view>',
    )
    assert.deepEqual([...elements(tree)].map((element) => element.name), ['view', 'input', 'view', 'view'])
    assert.deepEqual([...expressions(tree)], ["a === 'x'", 'v', 'b'])
  })

  it('names the line of the mistake', () => {
    assert.throws(() => parseWxml('<view>\n\n<text></view>'), /line 3/)
  })
})
