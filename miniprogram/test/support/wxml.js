// A WXML reader as strict as WeChat DevTools' compiler about structure: every tag closed or
// self-closed and closed in order, attributes quoted, {{ }} balanced, wx:elif and wx:else
// right after a wx:if or wx:elif sibling. It returns the element tree for further checks.

class WxmlError extends Error {
  constructor(message, source, index) {
    const line = source.slice(0, index).split('\n').length
    super(`line ${line}: ${message}`)
    this.name = 'WxmlError'
    this.line = line
  }
}

const NAME = /[A-Za-z_][\w:.-]*/y
const SPACE = /\s*/y

function checkMustaches(text, source, index) {
  let depth = 0
  for (let at = 0; at < text.length; at += 1) {
    if (text.startsWith('{{', at)) {
      if (depth) throw new WxmlError('"{{" inside "{{ }}"', source, index + at)
      depth = 1
      at += 1
    } else if (text.startsWith('}}', at) && depth) {
      depth = 0
      at += 1
    }
  }
  if (depth) throw new WxmlError('"{{" without "}}"', source, index)
}

function match(pattern, source, at) {
  pattern.lastIndex = at
  const found = pattern.exec(source)
  return found ? found[0] : null
}

function parseWxml(source) {
  const root = { name: '#root', attributes: {}, children: [], index: 0 }
  const stack = [root]
  let at = 0

  function text(until) {
    const value = source.slice(at, until)
    checkMustaches(value, source, at)
    if (value.trim()) stack[stack.length - 1].children.push({ name: '#text', text: value.trim(), index: at })
    at = until
  }

  while (at < source.length) {
    const open = source.indexOf('<', at)
    if (open === -1) {
      text(source.length)
      break
    }
    text(open)
    if (source.startsWith('<!--', at)) {
      const end = source.indexOf('-->', at + 4)
      if (end === -1) throw new WxmlError('comment without "-->"', source, at)
      at = end + 3
      continue
    }
    if (source.startsWith('</', at)) {
      const name = match(NAME, source, at + 2)
      if (!name) throw new WxmlError('closing tag without a name', source, at)
      const end = at + 2 + name.length + match(SPACE, source, at + 2 + name.length).length
      if (source[end] !== '>') throw new WxmlError(`</${name} is not closed by ">"`, source, at)
      const current = stack.pop()
      if (current === root) throw new WxmlError(`</${name}> closes nothing`, source, at)
      if (current.name !== name) {
        const opened = lineOf(source, current.index)
        throw new WxmlError(`</${name}> closes <${current.name}> (opened on line ${opened})`, source, at)
      }
      at = end + 1
      continue
    }
    const name = match(NAME, source, at + 1)
    if (!name) throw new WxmlError('"<" that starts no tag', source, at)
    const element = { name, attributes: {}, children: [], index: at }
    at += 1 + name.length
    for (;;) {
      at += match(SPACE, source, at).length
      if (source.startsWith('/>', at)) {
        at += 2
        addChild(stack[stack.length - 1], element, source)
        break
      }
      if (source[at] === '>') {
        at += 1
        addChild(stack[stack.length - 1], element, source)
        stack.push(element)
        break
      }
      const attribute = match(NAME, source, at)
      if (!attribute) throw new WxmlError(`<${name}> has a malformed attribute`, source, at)
      if (Object.prototype.hasOwnProperty.call(element.attributes, attribute)) {
        throw new WxmlError(`<${name}> repeats ${attribute}`, source, at)
      }
      at += attribute.length
      if (source[at] !== '=') {
        element.attributes[attribute] = true
        continue
      }
      const quote = source[at + 1]
      if (quote !== '"' && quote !== "'") throw new WxmlError(`${attribute}= is not quoted`, source, at)
      const end = source.indexOf(quote, at + 2)
      if (end === -1) throw new WxmlError(`${attribute}= has no closing quote`, source, at)
      const value = source.slice(at + 2, end)
      checkMustaches(value, source, at + 2)
      element.attributes[attribute] = value
      at = end + 1
    }
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]
    throw new WxmlError(`<${open.name}> is never closed`, source, open.index)
  }
  return root
}

function lineOf(source, index) {
  return source.slice(0, index).split('\n').length
}

// wx:elif and wx:else belong to the element just before them, which has wx:if or wx:elif.
function addChild(parent, element, source) {
  const conditional = 'wx:elif' in element.attributes || 'wx:else' in element.attributes
  if (conditional) {
    const previous = parent.children.filter((child) => child.name !== '#text').pop()
    const chained = previous && ('wx:if' in previous.attributes || 'wx:elif' in previous.attributes)
    if (!chained) {
      const what = `<${element.name}> has wx:elif/wx:else without a wx:if before it`
      throw new WxmlError(what, source, element.index)
    }
  }
  parent.children.push(element)
}

function* elements(node) {
  for (const child of node.children) {
    if (child.name === '#text') continue
    yield child
    yield* elements(child)
  }
}

// The expressions inside every {{ }} of the tree, in attributes and in text.
function* expressions(node) {
  for (const child of node.children) {
    const values = child.name === '#text' ? [child.text] : Object.values(child.attributes)
    for (const value of values) {
      if (typeof value !== 'string') continue
      for (const found of value.matchAll(/\{\{(.*?)\}\}/gs)) yield found[1].trim()
    }
    if (child.name !== '#text') yield* expressions(child)
  }
}

module.exports = { parseWxml, elements, expressions, WxmlError }
