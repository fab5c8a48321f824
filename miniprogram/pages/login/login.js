// The login page: WeChat opens it with the code's scene. It only forwards WeChat's events to
// the logic in lib/login.js and renders what that logic shows.

const { wrap } = require('../../lib/wx')
const { createLogin } = require('../../lib/login')

Page({
  data: {
    screen: 'loading',
  },

  onLoad(query) {
    this.login = createLogin({
      platform: wrap(wx),
      baseUrl: getApp().config.baseUrl,
      render: (patch) => this.setData(patch),
    })
    return this.login.open(query)
  },

  onUnload() {
    this.login.stop()
  },

  onAllow(event) {
    return this.login.allow(event.detail)
  },

  onPick(event) {
    this.login.pick(event.currentTarget.dataset.digits)
  },

  onDeny() {
    return this.login.deny()
  },

  onRetry() {
    return this.login.retry()
  },

  onScanCode() {
    return this.login.rescan()
  },

  onClose() {
    this.login.close()
  },

  onAgreePrivacy() {
    this.login.agreePrivacy()
  },

  onDisagreePrivacy() {
    this.login.disagreePrivacy()
  },

  onReadPrivacy() {
    this.login.readPrivacy()
  },

  onNickname(event) {
    this.login.setNickname(event.detail.value)
  },

  onNicknameReview(event) {
    this.login.nicknameReviewed(event.detail.pass)
  },
})
