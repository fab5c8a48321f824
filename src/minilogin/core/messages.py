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
    "cancelled_by_user": ("你已取消本次登录。", "You cancelled this login."),
    "cancelled_by_browser": ("电脑端已取消本次登录。", "The computer cancelled this login."),
    "invalid_credentials": ("账号或密码错误。", "The account or password is wrong."),
    "too_many_attempts": ("密码错误次数过多，本次登录已取消，请刷新二维码重试。", "Too many wrong passwords: this login was cancelled. Refresh the code to try again."),
    "login_only": ("本站只允许已有账号登录，无法创建新账号。", "This site only lets existing accounts log in; no new account can be created."),
    "account_already_linked": ("该账号已绑定了另一个微信。", "This account is already linked to another WeChat account."),
    "rate_limited": ("操作太频繁，请稍后再试。", "Too many attempts. Try again later."),
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
