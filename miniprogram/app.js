// The minilogin mini program: one page (pages/login/login) that WeChat opens when someone
// scans a minilogin code. The app holds only the configuration, read by the page through
// getApp().config.
const config = require('./config')

App({ config })
