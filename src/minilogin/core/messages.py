"""What each error code says to a person, in Simplified Chinese (the default) and English.

The phone, the PC page and API clients all show the ``message`` of an error body, so these
words are written for the person holding the phone or sitting at the PC, not for developers.
"""

from __future__ import annotations

from typing import Literal

Locale = Literal["zh-CN", "en"]

MESSAGES: dict[str, tuple[str, str]] = {
    "invalid_json": ("请求体不是有效的 JSON。", "The request body is not valid JSON."),
    "invalid_request": ("请求参数有误。", "The request has invalid parameters."),
    "invalid_code_challenge": (
        "code_challenge 必须是 SHA-256 摘要的 BASE64URL 编码（43 个字符）。",
        "code_challenge must be the BASE64URL of a SHA-256 digest (43 characters).",
    ),
    "invalid_code_challenge_method": (
        "code_challenge_method 只支持 S256。",
        "code_challenge_method must be S256.",
    ),
    "unknown_pool": ("用户池不存在。", "This user pool does not exist."),
    "unknown_client": ("应用不存在。", "This application does not exist."),
    "unknown_connection": (
        "身份源不存在或未对该应用启用。",
        "This identity source is not enabled for the application.",
    ),
    "connection_required": (
        "该应用启用了多个扫码身份源，请指定 connection。",
        "The application has several scan-code identity sources: name one in connection.",
    ),
    "no_connection": (
        "该应用未启用小程序扫码登录身份源。",
        "The application has no mini program scan code identity source enabled.",
    ),
    "origin_not_allowed": (
        "该来源未在应用中登记。",
        "This origin is not registered for the application.",
    ),
    "unauthorized": ("凭据缺失或无效。", "The credentials are missing or invalid."),
    "secret_in_query": (
        "请在 Authorization 请求头中发送 secret，不要放在网址里。",
        "Send the secret in the Authorization header, not in the URL.",
    ),
    "qrlogin_not_found": (
        "二维码不存在或已失效，请刷新。",
        "This code does not exist or is no longer valid. Refresh it.",
    ),
    "scene_not_found": (
        "二维码已失效，请在电脑上刷新后重新扫码。",
        "This code is no longer valid. Refresh it on the computer and scan again.",
    ),
    "already_scanned": (
        "该二维码已被其他微信扫描。",
        "Someone else has already scanned this code.",
    ),
    "qrlogin_expired": (
        "二维码已过期，请在电脑上刷新后重新扫码。",
        "The code has expired. Refresh it on the computer and scan again.",
    ),
    "qrlogin_cancelled": ("本次登录已取消。", "This login was cancelled."),
    "qrlogin_consumed": ("本次登录已完成。", "This login is already complete."),
    "qrlogin_authorized": ("本次登录已确认。", "This login is already confirmed."),
    "qrlogin_pending": ("请先扫码。", "Scan the code first."),
    "qrlogin_scanned": ("请先在手机上确认。", "Confirm on the phone first."),
    "qrlogin_needs_binding": (
        "请在电脑上完成账号绑定。",
        "Finish binding the account on the computer.",
    ),
    "session_not_found": (
        "会话已失效，请重新扫码。",
        "The session has ended. Scan the code again.",
    ),
    "account_not_found": (
        "没有与该手机号对应的账号，本站只允许已有账号登录。",
        "No account matches this phone number, and this site only lets existing accounts log in.",
    ),
    "phone_in_use": (
        "该手机号已属于另一个账号。请联系网站开启账号关联后再试。",
        "This phone number already belongs to another account. Ask the site to enable account association.",
    ),
    "account_blocked": ("该账号已被停用。", "This account has been blocked."),
    "invalid_phone": ("手机号无效。", "The phone number is not valid."),
    "phone_denied": (
        "你拒绝了使用手机号，登录已取消。",
        "You declined to share your phone number; the login was cancelled.",
    ),
    "phone_quota": (
        "该小程序的手机号验证次数已用完，本次登录已取消。",
        "The mini program has used up its phone-number verifications; this login was cancelled.",
    ),
    "phone_unavailable": (
        "微信无法为该小程序验证手机号（小程序未认证、隐私保护指引未声明手机号或微信版本过低），本次登录已取消。",
        "WeChat cannot verify phone numbers for this mini program (not verified, no phone number in its privacy guideline, or an outdated WeChat); this login was cancelled.",
    ),
    "cancelled_by_user": ("你已取消本次登录。", "You cancelled this login."),
    "cancelled_by_browser": ("电脑端已取消本次登录。", "The computer cancelled this login."),
    "invalid_credentials": ("账号或密码错误。", "The account or password is wrong."),
    "too_many_attempts": (
        "密码错误次数过多，本次登录已取消，请刷新二维码重试。",
        "Too many wrong passwords: this login was cancelled. Refresh the code to try again.",
    ),
    "login_only": (
        "本站只允许已有账号登录，无法创建新账号。",
        "This site only lets existing accounts log in; no new account can be created.",
    ),
    "account_already_linked": (
        "该账号已绑定了另一个微信。",
        "This account is already linked to another WeChat account.",
    ),
    "redirect_uri_mismatch": (
        "redirect_uri 与应用登记的回调地址不一致，无法返回应用。",
        "The redirect_uri does not match any the application registered, so nothing is sent back.",
    ),
    "redirect_uri_required": (
        "缺少 redirect_uri，且身份源没有配置回调地址。",
        "redirect_uri is missing and no identity source has a Callback URL.",
    ),
    "authorization_request_not_found": (
        "登录请求已过期，请返回应用重新登录。",
        "This login request has expired. Go back to the application and log in again.",
    ),
    "post_logout_redirect_uri_mismatch": (
        "post_logout_redirect_uri 与应用登记的地址不一致。",
        "The post_logout_redirect_uri does not match any the application registered.",
    ),
    "invalid_id_token_hint": (
        "id_token_hint 无效。",
        "The id_token_hint is not valid.",
    ),
    "rate_limited": ("操作太频繁，请稍后再试。", "Too many attempts. Try again later."),
    "payload_too_large": ("请求体太大。", "The request body is too large."),
    "invalid_pkce_required": (
        "pkce_required 为 true 或 false；单页应用（spa）必须使用 PKCE。",
        "pkce_required is true or false; a single page app (spa) must use PKCE.",
    ),
    "invalid_resource_server": (
        "resource_server 为 true 或 false。",
        "resource_server is true or false.",
    ),
    "qrcode_budget_exhausted": (
        "当前登录人数过多，暂时无法生成新的小程序码，请稍后再试。",
        "Too many logins right now: no new mini program code can be made. Try again shortly.",
    ),
    "match_required": (
        "请先选择电脑上显示的数字。",
        "Pick the number shown on the computer first.",
    ),
    "match_failed": (
        "所选数字与电脑上显示的不一致，本次登录已取消。",
        "The number picked is not the one on the computer: this login was cancelled.",
    ),
    "not_found": ("资源不存在。", "Not found."),
    "method_not_allowed": ("不支持该请求方法。", "This method is not allowed here."),
    "wechat_invalid_code": (
        "微信登录凭证无效或已过期，请重试。",
        "WeChat's login code is invalid or has expired. Try again.",
    ),
    "wechat_code_used": (
        "微信登录凭证已被使用，请重试。",
        "WeChat's login code was already used. Try again.",
    ),
    "wechat_rate_limited": (
        "微信接口调用过于频繁，请稍后再试。",
        "WeChat is rate-limiting requests. Try again shortly.",
    ),
    "temporarily_unavailable": (
        "服务繁忙，请稍后再试。",
        "The service is busy. Try again in a moment.",
    ),
    "signing_key_exists": (
        "该用户池的密钥正在被另一次轮换更新，请重新运行。",
        "Another rotation of this pool's keys ran at the same moment. Run it again.",
    ),
    "wechat_busy": ("微信系统繁忙，请稍后再试。", "WeChat is busy. Try again shortly."),
    "wechat_timeout": ("连接微信超时，请重试。", "WeChat did not answer in time. Try again."),
    "wechat_unreachable": ("无法连接微信，请重试。", "WeChat could not be reached. Try again."),
    "wechat_invalid_credentials": (
        "小程序的 AppID 或 AppSecret 配置有误，请联系网站管理员。",
        "The mini program's AppID or AppSecret is misconfigured. Contact the site's administrator.",
    ),
    "wechat_high_risk": (
        "微信判定该账号存在风险，无法登录。",
        "WeChat flagged this account as high-risk; it cannot log in.",
    ),
    "wechat_phone_quota": (
        "手机号快速验证次数已用完。",
        "The phone-number verification quota is used up.",
    ),
    "wechat_error": ("微信返回了错误，请重试。", "WeChat answered with an error. Try again."),
    "wechat_ip_not_allowed": (
        "服务器 IP 不在小程序的 IP 白名单中，请联系网站管理员。",
        "The server's IP address is not on the mini program's IP allowlist. Contact the site's administrator.",
    ),
    "wechat_api_unauthorized": (
        "小程序没有调用该微信接口的权限（可能需要完成微信认证），请联系网站管理员。",
        "The mini program may not call this WeChat API (it may need WeChat verification). Contact the site's administrator.",
    ),
    "wechat_invalid_page": (
        "小程序码要打开的页面在已发布的小程序中不存在，请联系网站管理员。",
        "The page the mini program code opens does not exist in the released mini program. Contact the site's administrator.",
    ),
    "wechat_invalid_scene": (
        "微信拒绝了小程序码的场景值。",
        "WeChat rejected the mini program code's scene.",
    ),
    "wechat_token_refresh_limited": (
        "微信接口凭证暂时无法刷新，请稍后再试。",
        "WeChat's access token cannot be refreshed right now. Try again shortly.",
    ),
    # the console and the admin API (API.md §6): each invalid_<field> states the field's rule
    "invalid_unique_id": (
        "唯一标识只能包含小写字母、数字和 -，长度 1–31 个字符。",
        "The unique ID may only hold lowercase letters, digits and -, 1–31 characters.",
    ),
    "unique_id_immutable": (
        "唯一标识创建后不能修改。",
        "The unique ID can't change after creation.",
    ),
    "connection_exists": (
        "该用户池中已有使用这个唯一标识的身份源。",
        "Another identity source of this user pool already has this unique ID.",
    ),
    "invalid_display_name": (
        "显示名称必填，最多 64 个字符。",
        "The display name is required, at most 64 characters.",
    ),
    "invalid_callback_url": (
        "回调地址必须是完整的 http(s) 地址，不能带 # 片段；除 localhost 和 127.0.0.1 外必须使用 https。",
        "The callback URL must be an absolute http(s) URL without a # fragment; https is required outside localhost and 127.0.0.1.",
    ),
    "invalid_private_deployment": (
        "私有化部署只能是开或关。",
        "Private deployment is either on or off.",
    ),
    "invalid_app_id": (
        "开启私有化部署时必须填写小程序 AppID；AppID 以 wx 开头，只含字母、数字、_ 和 -。",
        "A private deployment needs the mini program's AppID; it starts with wx and holds only letters, digits, _ and -.",
    ),
    "invalid_app_secret": (
        "开启私有化部署时必须填写小程序 AppSecret（不含空格，最多 128 个字符）。",
        "A private deployment needs the mini program's AppSecret (no spaces, at most 128 characters).",
    ),
    "invalid_login_mode": (
        "登录模式只能是「登录/注册」或「仅登录」。",
        'The login mode is "login and register" or "login only".',
    ),
    "invalid_association": (
        "账号身份关联只能是「不关联」「字段匹配」或「询问绑定」。",
        'Account identity association is "off", "field match" or "ask binding".',
    ),
    "invalid_page": (
        "小程序页面路径形如 pages/login/login，不以 / 开头，不带参数，最多 128 个字符。",
        "The mini program page looks like pages/login/login: no leading /, no query, at most 128 characters.",
    ),
    "invalid_env_version": (
        "小程序版本只能是 release、trial 或 develop。",
        "The mini program version is release, trial or develop.",
    ),
    "invalid_qr_expires_in": (
        "二维码有效期为 30–600 秒的整数。",
        "The code's lifetime is a whole number of seconds from 30 to 600.",
    ),
    "invalid_logo": (
        "Logo 必须是不超过 2 MB 的 PNG、JPEG 或 WebP 图片，边长不超过 4096 像素。",
        "The logo must be a PNG, JPEG or WebP image of at most 2 MB and 4096 pixels a side.",
    ),
    "no_logo": ("该身份源没有上传 Logo。", "This identity source has no logo."),
    "invalid_slug": (
        "用户池标识只能包含小写字母、数字和 -（不在首尾），长度 1–31 个字符。",
        "The user pool's slug may only hold lowercase letters, digits and - (not first or last), 1–31 characters.",
    ),
    "slug_immutable": (
        "用户池标识是签发者地址的一部分，创建后不能修改。",
        "The user pool's slug is part of its issuer URL and can't change after creation.",
    ),
    "pool_exists": ("已有使用这个标识的用户池。", "Another user pool already has this slug."),
    "invalid_name": ("名称必填，最多 64 个字符。", "The name is required, at most 64 characters."),
    "invalid_logo_url": (
        "Logo 地址必须是完整的 https 地址（localhost 可用 http）。",
        "The logo URL must be an absolute https URL (http only on localhost).",
    ),
    "invalid_type": (
        "应用类型只能是 spa（单页应用）或 web（Web 应用）。",
        "The application type is spa (single page app) or web (web app).",
    ),
    "application_type_immutable": (
        "应用类型创建后不能修改，请新建一个应用。",
        "The application type can't change after creation; create another application.",
    ),
    "client_id_immutable": ("client_id 不能修改。", "The client_id can't change."),
    "client_id_exists": ("该 client_id 已被使用。", "This client_id is taken."),
    "no_client_secret": (
        "单页应用没有客户端密钥。",
        "A single page application has no client secret.",
    ),
    "invalid_redirect_uris": (
        "登录回调地址必须是完整的 http(s) 地址（最多 20 个），不能带 # 片段；除 localhost 外必须使用 https。",
        "Redirect URIs must be absolute http(s) URLs (at most 20) without a # fragment; https is required outside localhost.",
    ),
    "invalid_post_logout_redirect_uris": (
        "登出回调地址必须是完整的 http(s) 地址（最多 20 个），不能带 # 片段；除 localhost 外必须使用 https。",
        "Post-logout redirect URIs must be absolute http(s) URLs (at most 20) without a # fragment; https is required outside localhost.",
    ),
    "invalid_web_origins": (
        "Web 来源只能写成 scheme://host[:port]（最多 20 个），不带路径。",
        "Web origins are scheme://host[:port] only (at most 20), without a path.",
    ),
    "invalid_id_token_lifetime": (
        "ID Token 有效期为 60–86400 秒的整数。",
        "The ID token lifetime is a whole number of seconds from 60 to 86400.",
    ),
    "invalid_access_token_lifetime": (
        "Access Token 有效期为 60–86400 秒的整数。",
        "The access token lifetime is a whole number of seconds from 60 to 86400.",
    ),
    "invalid_refresh_token_lifetime": (
        "Refresh Token 有效期为 3600–31536000 秒的整数。",
        "The refresh token lifetime is a whole number of seconds from 3600 to 31536000.",
    ),
    "app_id_rejected": (
        "微信不认识这个 AppID：请在小程序后台「开发管理 → 开发设置」中核对。",
        "WeChat does not know this AppID: check it under Development settings in the mini "
        "program's admin.",
    ),
    "app_secret_rejected": (
        "微信拒绝了这个 AppSecret：它与 AppID 不匹配或已被重置，请重新复制。",
        "WeChat rejected this AppSecret: it does not match the AppID or was reset. Copy it again.",
    ),
    "invalid_id_token_signed_response_alg": (
        "ID Token 签名算法只能是 RS256 或 ES256。",
        "The ID token signing algorithm is RS256 or ES256.",
    ),
    "invalid_username": (
        "用户名以字母开头，只含字母、数字、_、. 和 -，长度 3–32 个字符。",
        "A username starts with a letter and holds only letters, digits, _, . and -, 3–32 characters.",
    ),
    "invalid_password": ("密码长度为 8–128 个字符。", "A password has 8 to 128 characters."),
    "invalid_email": ("邮箱地址无效。", "The email address is not valid."),
    "invalid_phone_verified": (
        "「手机号已验证」只能是是或否，且需要填写手机号。",
        '"Phone verified" is yes or no, and needs a phone number.',
    ),
    "invalid_nickname": ("昵称最多 64 个字符。", "A nickname has at most 64 characters."),
    "invalid_blocked": ("「已停用」只能是是或否。", '"Blocked" is yes or no.'),
    "user_identifier_required": (
        "用户至少需要用户名或手机号之一。",
        "A user needs a username or a phone number.",
    ),
    "username_taken": ("该用户名已被使用。", "This username is taken."),
    "phone_taken": (
        "该手机号已属于本用户池中的另一个用户。",
        "Another user of this pool has this phone number.",
    ),
    "unknown_user": ("用户不存在。", "This user does not exist."),
    "unknown_identity": (
        "该用户没有这个微信身份。",
        "This user has no such WeChat identity.",
    ),
    "identity_linked": (
        "该微信身份已关联到一个用户。",
        "This WeChat identity is already linked to a user.",
    ),
    "unknown_admin": ("管理员不存在。", "This administrator does not exist."),
    "unknown_api_token": ("API 令牌不存在。", "This API token does not exist."),
    "admin_exists": ("该管理员用户名已被使用。", "This administrator username is taken."),
    "api_token_exists": ("该 API 令牌已存在。", "This API token already exists."),
    "invalid_admin_credentials": ("用户名或密码错误。", "The username or password is wrong."),
    "csrf_failed": (
        "请求未通过跨站请求伪造（CSRF）校验，请刷新页面后重试。",
        "The request failed the cross-site request forgery (CSRF) check. Reload the page and try again.",
    ),
    "invalid_days": ("天数为 1–31 的整数。", "days is a whole number from 1 to 31."),
    "invalid_tz_offset": (
        "时区偏移为 -840 到 840 分钟的整数。",
        "tz_offset is a whole number of minutes from -840 to 840.",
    ),
    "invalid_limit": ("limit 为 1–500 的整数。", "limit is a whole number from 1 to 500."),
    "invalid_action": (
        "action 过滤条件最多 10 个，每个 1–64 个字符。",
        "At most 10 action filters of 1 to 64 characters each.",
    ),
    "invalid_experience_code": (
        "体验登录的授权码无效、已使用或与 code_verifier 不匹配。",
        "The experience login's code is invalid, used, or does not match the code_verifier.",
    ),
}

_FALLBACK = ("请求无法完成。", "The request could not be completed.")


def negotiate(accept_language: str | None) -> Locale:
    """Simplified Chinese unless the first language the client names is English."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if not tag or tag == "*":
            continue
        return "en" if tag.startswith("en") else "zh-CN"
    return "zh-CN"


def message(code: str, locale: Locale) -> str:
    zh, en = MESSAGES.get(code, _FALLBACK)
    return en if locale == "en" else zh
