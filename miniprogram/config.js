// The one setting of the mini program: the public URL of your minilogin server (its
// MINILOGIN_PUBLIC_URL), without a trailing slash. It must be an https URL whose domain is one
// of the mini program's legal request domains (request合法域名); see README.md.
module.exports = { baseUrl: 'https://login.example.com' }
