# Gatehouse's interface in English: the default language and the fallback.
#
# One message per thing said. Ids are grouped by page or component: `home-…`,
# `login-…`, `account-…`; `error-…` are server errors, `mail-…` the e-mails.
# Every other language has exactly these ids with the same variables (a test checks).

## Frame: header, footer, language switcher

skip-to-content = Skip to content
brand-name = Gatehouse
nav-main = Main
nav-home = Home
nav-devices = Devices
nav-activity = Activity
nav-account = Account
nav-sign-in = Sign in
nav-create-account = Create account
nav-sign-out = Sign out
footer-about = Gatehouse — an open-source session-security starter for full-stack Rust. Short-lived tokens, rotating refresh, per-device sign-out.
language-switcher = Language
language-current = { $language } (current language)
page-title = { $page } · Gatehouse

## Dates and times

month-name = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
}
date-long = { $day } { $month } { $year }
date-time-long = { $day } { $month } { $year } at { $time } UTC
time-just-now = just now
time-in-a-moment = in a moment
time-minutes-ago = { $count ->
    [one] { $count } minute ago
   *[other] { $count } minutes ago
}
time-hours-ago = { $count ->
    [one] { $count } hour ago
   *[other] { $count } hours ago
}
time-days-ago = { $count ->
    [one] { $count } day ago
   *[other] { $count } days ago
}
time-in-minutes = { $count ->
    [one] in { $count } minute
   *[other] in { $count } minutes
}
time-in-hours = { $count ->
    [one] in { $count } hour
   *[other] in { $count } hours
}
time-in-days = { $count ->
    [one] in { $count } day
   *[other] in { $count } days
}

## Home

home-title = Sessions done right
home-lead = Gatehouse signs you in with short-lived tokens, rotates them quietly, and lets you sign out any device at once.
home-walkthrough-title = How a session works
home-walkthrough-progress = Step { $step } of { $steps }: { $title }
home-walkthrough-previous = Previous
home-walkthrough-next = Next step
home-step-1-title = Sign in
home-step-1-body = Your password is checked against an Argon2id hash. A new device session starts and your browser receives two HttpOnly cookies it cannot read from JavaScript.
home-step-2-title = Short-lived access
home-step-2-body = Each request carries a signed access token that lives 15 minutes. The server checks its signature and an in-memory revocation list; no database trip.
home-step-3-title = Quiet rotation
home-step-3-body = Before the access token runs out, the refresh token is exchanged for a new pair. Every refresh token works once: a replayed one reveals theft and ends the session.
home-step-4-title = You stay in control
home-step-4-body = Your devices page lists every signed-in browser. Signing one out takes effect on its very next request, not when its token happens to expire.

## Shared form parts

loading = Loading…
field-email = E-mail address
field-password = Password

## Sign in, sign up, the code step, refreshing

login-title = Sign in
login-submit = Sign in
login-submitting = Signing in…
login-forgot = Forgot your password?
login-new = New to Gatehouse?
login-create-account = Create an account
login-reason-revoked = This device was signed out.
login-reason-ended = Your session has ended. Please sign in again.
signup-title = Create an account
signup-password-hint = At least 8 characters. A passphrase of a few words is easy to remember and hard to guess.
signup-submit = Create account
signup-submitting = Creating your account…
signup-have-account = Already have an account?
code-title = Two-step sign-in
code-intro = Open your authenticator app and enter the 6-digit code it shows for Gatehouse.
code-field = Code
code-hint = Lost your phone? Enter one of your recovery codes instead.
code-submit = Verify
code-submitting = Checking…
code-start-again = Start again
refresh-title = Restoring your session
refresh-heading = Restoring your session…
refresh-body = One moment while your sign-in is renewed.
refresh-continue = Continue
not-found-title = Page not found
not-found-body = There is nothing at this address. It may have moved, or the link may be mistyped.
not-found-home = Go to the home page
account-notice-verification-sent = We have sent you a new link. Open it to confirm your address.
account-notice-change-sent = Check the inbox of your new address: open the link we sent there to finish the change. Until then, your address stays as it is.

## Account

account-title = Your account
account-intro = You are signed in on this device. Access tokens are renewed quietly while you use the app.
account-check-session = Check my session
account-session-ok-before = Signed in as
account-session-ok-after = on this device.
email-verified = Verified
email-not-verified = Not verified
email-confirm-why = Confirm your address so you can reset your password if you forget it. We sent you a link when you signed up.
email-resend = Send me a new link
alerts-title = Sign-in alerts
alerts-on = We e-mail you when your account is signed in from a new device.
alerts-off = We do not e-mail you about sign-ins from new devices.
alerts-turn-off = Turn sign-in alerts off
alerts-turn-on = Turn sign-in alerts on
email-change-title = Change your address
email-change-intro = We will send a link to the new address; the change happens when you open it. Your current address will be told.
email-change-field = New e-mail address
email-change-submit = Send confirmation link
password-changed = { $count ->
    [0] Your password was changed. No other devices were signed in.
    [one] Your password was changed and 1 other device was signed out.
   *[other] Your password was changed and { $count } other devices were signed out.
}
password-change-title = Change password
password-change-intro = Every other device will be signed out; this one stays signed in.
password-change-field = New password
password-change-hint = At least 8 characters.
delete-title = Delete account
delete-intro = This removes your account, every signed-in device and your activity. It cannot be undone.
delete-confirm = I understand that my account and everything in it will be deleted
delete-submit = Delete my account

## Devices

cancel = Cancel
devices-title = Your devices
devices-lead = These browsers are signed in to your account. If you do not recognise one, sign it out: it will have to sign in again on its very next request.
devices-loading = Loading your devices…
devices-none = No devices are signed in.
devices-list = Signed-in devices
devices-load-failed = Your devices could not be loaded:
devices-this-signed-out = This device was signed out.
devices-signed-out = { $count ->
    [0] No other devices were signed in.
    [one] The device was signed out. It will have to sign in again on its next request.
   *[other] { $count } devices were signed out. They will have to sign in again on their next request.
}
devices-sign-out-this = Sign out of this device
devices-confirm-label = Confirm signing out { $device }
devices-confirm-before = Sign out
devices-confirm-after = ?
devices-confirm-yes = Yes, sign it out
devices-sign-out-label = Sign out { $device }
devices-this = This device
devices-bound = Bound to this device
devices-bound-hint = This browser keeps a key its sign-in is bound to: a copy of its cookies stops working within minutes.
devices-ip = IP address
devices-signed-in = Signed in
devices-last-active = Last active
devices-expires = Expires
devices-method = Signed in with
devices-others-title = Sign out everywhere else
devices-others-intro = { $count ->
    [one] Signs out the 1 other device above. This device stays signed in.
   *[other] Signs out the { $count } other devices above. This device stays signed in.
}
devices-others-submit = Sign out of all other devices
device-unknown = Unknown device
device-label = { $browser } on { $os }
sign-in-method-password = password
sign-in-method-password-and-totp = password and authenticator app
sign-in-method-password-and-recovery-code = password and recovery code
sign-in-method-passkey = passkey

## Activity

activity-title = Account activity
activity-lead = Sign-ins, sign-outs and security alerts for your account, newest first.
activity-loading = Loading activity…
activity-none = Nothing to show yet.
activity-older = Older activity
activity-load-failed = Activity could not be loaded:
event-signed-in-with = Signed in with { $method }.
# In every event: $actor is the device that acted; $detail is a device, a count, an
# address or a passkey's name (see each message).
event-signed-in-title = Signed in
event-signed-in-text = { $detail }.
event-new-device-sign-in-title = Sign-in from a new device
event-new-device-sign-in-text = { $detail }. If this was not you, sign that device out on the Devices page and change your password.
event-signed-out-title = Signed out
event-signed-out-text = { $detail }.
event-device-signed-out-title = Device signed out
event-device-signed-out-text = { $detail } was signed out from { $actor }.
event-other-devices-signed-out-title = All other devices signed out
event-other-devices-signed-out-text = { $detail ->
    [one] 1 device signed out from { $actor }.
   *[other] { $detail } devices signed out from { $actor }.
}
event-password-changed-title = Password changed
event-password-changed-text = { $detail ->
    [one] Changed from { $actor }; 1 device signed out.
   *[other] Changed from { $actor }; { $detail } devices signed out.
}
event-token-reuse-detected-title = Suspected token theft
event-token-reuse-detected-text = A sign-in token of { $detail } was used twice, which happens when it has been copied. That device was signed out to protect your account. If you did not expect this, change your password.
event-dbsc-bound-title = Session bound to this device
event-dbsc-bound-text = The browser on { $detail } now keeps a key for its sign-in that cannot be copied off it: a copy of its cookies stops working within minutes.
event-dbsc-proof-failed-title = Stolen cookies refused
event-dbsc-proof-failed-text = Someone tried to renew the sign-in of { $detail } without the key that device keeps, which happens when its cookies have been copied. The attempt was refused. If you did not expect this, change your password and check that device for malware.
event-session-evicted-title = Device signed out automatically
event-session-evicted-text = { $detail } was the least recently used of too many signed-in devices and was signed out to make room.
event-password-reset-title = Password reset by e-mail
event-password-reset-text = { $detail ->
    [one] A new password was set with a link sent by e-mail, from { $actor }; 1 device signed out.
   *[other] A new password was set with a link sent by e-mail, from { $actor }; { $detail } devices signed out.
}
event-email-verified-title = E-mail address verified
event-email-verified-text = { $detail } was confirmed from { $actor }.
event-email-change-requested-title = Change of e-mail address requested
event-email-change-requested-text = A confirmation link was sent to { $detail }, from { $actor }.
event-email-changed-title = E-mail address changed
event-email-changed-text = { $detail }, from { $actor }.
event-passkey-added-title = Passkey added
event-passkey-added-text = The passkey “{ $detail }” was added, from { $actor }. It can now sign in to your account.
event-passkey-removed-title = Passkey removed
event-passkey-removed-text = The passkey “{ $detail }” was removed, from { $actor }.
event-wrong-code-title = Wrong sign-in code after the right password
event-wrong-code-text = Someone who knows your password entered a wrong code, from { $actor }. If this was not you, change your password.
event-totp-enabled-title = Two-step sign-in turned on
event-totp-enabled-text = An authenticator app was added, from { $actor }.
event-totp-disabled-title = Two-step sign-in turned off
event-totp-disabled-text = The authenticator app and recovery codes were removed, from { $actor }. If this was not you, change your password.
event-recovery-code-used-title = Signed in with a recovery code
event-recovery-code-used-text = From { $actor }; { $detail } recovery codes left.
event-recovery-codes-regenerated-title = New recovery codes
event-recovery-codes-regenerated-text = The old recovery codes stopped working, from { $actor }.

## Confirming it is you (sudo mode)

sudo-legend = Confirm it is you
sudo-hint = You have not entered your password on this device in the last few minutes.
sudo-password = Your password
sudo-code = Or a code from your authenticator app

## Two-step sign-in

totp-on = On
totp-on-text = Signing in needs your password and a code from your authenticator app.
totp-codes-left = { $count ->
    [one] 1 recovery code left.
   *[other] { $count } recovery codes left.
}
totp-few-codes-left = { $count ->
    [one] Only 1 recovery code left. Get new ones so a lost phone never locks you out.
   *[other] Only { $count } recovery codes left. Get new ones so a lost phone never locks you out.
}
totp-renew-codes = Get new recovery codes
totp-turn-off = Turn off two-step sign-in
totp-off-text = Off. Add a second step to signing in: after your password, a 6-digit code from an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator, 1Password or Aegis). Someone who learns your password still cannot sign in.
totp-set-up = Set up an authenticator app
totp-step-scan = Open your authenticator app, add an account, and scan this code:
totp-qr-alt = QR code to scan with your authenticator app
totp-step-type = Cannot scan it? Type this key instead:
totp-step-code = Enter the 6-digit code the app now shows
totp-turn-on = Turn on two-step sign-in
totp-codes-file-heading = Gatehouse recovery codes. Each works once, instead of a code from your authenticator app.
totp-codes-save = Save your recovery codes now.
totp-codes-why = If you lose your phone, each of these codes signs you in once instead of a code from the app. Keep them somewhere safe, such as a password manager. They will not be shown again.
totp-codes-download = Download
totp-codes-copy = Copy
totp-codes-copied = Copied

## Recovery: forgotten password, links from e-mails

forgot-intro = Enter the address you signed up with. We will send you a link to choose a new password.
forgot-submit = Send me a link
forgot-submitting = Sending…
forgot-sent = If an account uses that address, we have sent it a link to choose a new password. The link works for 30 minutes. If nothing arrives within a few minutes, check your spam folder.
forgot-remembered = Remembered it?
link-checking = Checking your link…
link-ask-again = Ask for a new link
link-go-to-account = Go to your account
reset-title = Choose a new password
reset-for-before = For
reset-for-after = . Every device signed in to this account will be signed out.
reset-submit = Set new password
reset-submitting = Saving…
review-title = Your password has been changed
review-intro-before = Every device signed in to
review-intro-after = {""} was signed out. Besides the password, these can get into the account. If you did not add one of them, remove it now: whoever had your account may have.
review-passkeys-intro = A passkey signs in without the password.
review-no-passkeys = The account has no passkeys.
review-second-factor-title = Two-step sign-in
review-second-factor-off = Two-step sign-in is off.
review-second-factor-on = Two-step sign-in was turned on
review-second-factor-recent = If you did not turn it on, turn it off here: otherwise signing in would need codes from someone else's app.
review-second-factor-turn-off = Turn off two-step sign-in
review-passkey-kept = { $days ->
    [one] Added more than a day before the reset: sign in to remove it on your account page.
   *[other] Added more than { $days } days before the reset: sign in to remove it on your account page.
}
review-second-factor-kept = { $days ->
    [one] It was turned on more than a day before the reset, so it stays on: sign in with a code from your app or a recovery code.
   *[other] It was turned on more than { $days } days before the reset, so it stays on: sign in with a code from your app or a recovery code.
}
review-open-until = You can remove them here until
review-continue = Continue to sign in
verify-title = Confirm your address
verify-heading = Confirm your e-mail address
verify-intro = Confirm that this address is yours:
verify-submit = Confirm my address
verify-done = Thank you: { $email } is confirmed.
verify-done-unnamed = Thank you: your address is confirmed.
confirm-title = Confirm your new address
confirm-heading = Confirm your new e-mail address
confirm-intro = Use this address for your account from now on:
confirm-submit = Use this address
confirm-done = Done: your account now uses { $email }.
confirm-done-unnamed = Done: your account now uses its new address.

## Passkeys

passkey-cancelled = The passkey prompt was closed. Nothing was changed.
passkey-already-on-device = This device already has a passkey for your account. Use it to sign in, or add a passkey on another device.
passkey-wrong-site = Passkeys work only at this site's main address. Open it there and try again.
passkey-unsupported = This browser cannot use passkeys. Sign in with your password instead.
passkey-browser-failed = Your browser could not use a passkey just now. Try again, or use your password.
passkey-or = or
passkey-sign-in = Sign in with a passkey
passkey-sign-in-pending = Waiting for your passkey…
passkeys-title = Passkeys
passkeys-intro = A passkey signs you in with your fingerprint, face or device PIN instead of your password. It cannot be phished or guessed, and it counts as both steps of two-step sign-in.
passkeys-off = Passkeys are not available on this server.
passkeys-none = You have no passkeys yet.
passkeys-synced = Synced
passkeys-added = Added
passkeys-last-used = last used
passkeys-not-used = not used yet
passkeys-remove = Remove
passkeys-remove-label = Remove the passkey { $name }
passkeys-limit = You have { $count } passkeys, the most an account can have. Remove one to add another.
passkeys-elsewhere-before = Passkeys work only at
passkeys-elsewhere-after = . Open your account page there to add or use one.
passkeys-added-notice = Passkey “{ $name }” added. You can now sign in with it.
passkeys-name = Name (optional)
passkeys-name-hint = So you can tell your passkeys apart, for example “Work laptop”. Leave it empty to use this browser's name.
passkeys-add = Add a passkey
passkeys-add-pending = Waiting for your device…

## Notices left for the next page

notice-signed-out = You have signed out.
notice-account-deleted = Your account has been deleted.
notice-password-reset = Your password has been changed and every device was signed out. Sign in with your new password.
notice-check-inbox = Check your inbox: we have sent a link to { $email }. Open it to confirm your address, then sign in.

## Errors from the server

error-unknown-language = That language is not available.
error-access-token-expired = Your session needs refreshing.
error-sudo-required = Please confirm it is you to continue.
error-not-found = Not found.
error-throttled = { $seconds ->
    [one] Too many attempts. Try again in 1 second.
   *[other] Too many attempts. Try again in { $seconds } seconds.
}
error-internal = Something went wrong on our side. Please try again.
error-unreadable-request = The request could not be read: { $reason }
error-missing-field = The field { $field } is missing.
error-unreachable = Cannot reach the server. Check your connection and try again.
error-invalid-email = Enter a valid e-mail address.
error-password-too-short = Use at least 8 characters for your password.
error-password-too-long = Use at most 128 characters for your password.
error-email-taken = An account with this e-mail address already exists. Sign in instead.
error-invalid-credentials = Wrong e-mail address or password.
error-not-signed-in = You are not signed in.
error-token-reuse = For your safety this device was signed out: your sign-in was used from somewhere else. Please sign in again.
error-device-proof = This device could not prove it holds the key its sign-in is bound to. Please sign in again.
error-wrong-password = Your current password is not correct.
error-email-not-verified = Please confirm your e-mail address first: open the link we sent you. We have sent you a new one.
error-link-unknown = This link is not valid. It may have been replaced by a newer one: use the most recent e-mail, or ask for a new link.
error-link-expired = This link has expired. Ask for a new one.
error-link-used = This link has already been used.
error-same-email = That is already your address.
error-mail-limit = We have already sent you several e-mails in the last hour. Check your inbox and spam folder, or try again later.
error-wrong-code = That code is not right. Codes change every 30 seconds: enter the one your app shows now, or one of your recovery codes.
error-no-pending-sign-in = Please sign in again: enter your e-mail address and password.
error-no-enrolment = Setting up the authenticator app took too long. Please start again.
error-second-factor-already-on = Two-step sign-in is already on.
error-passkey-limit = You have { $count } passkeys, the most an account can have. Remove one you no longer use first.
error-passkey-expired = That took too long. Please try again.
error-passkey-failed = That passkey did not work. Try again, or use your password.
error-passkey-already-added = This passkey is already on your account.
error-review-closed = This review has ended. Sign in to see your passkeys and two-step sign-in on your account page.
error-added-too-long-ago = { $days ->
    [one] This was added more than a day before the reset, so a reset alone cannot remove it. Sign in (with a code or a recovery code if two-step sign-in is on), then remove it on your account page.
   *[other] This was added more than { $days } days before the reset, so a reset alone cannot remove it. Sign in (with a code or a recovery code if two-step sign-in is on), then remove it on your account page.
}
error-device-not-found = That device is not signed in to your account.
error-busy = The service is busy. Please try again in a moment.
error-unavailable = The service is temporarily unavailable. Please try again in a moment.
error-cross-site = Cross-site requests are not allowed.

## E-mails
# Each mail is `mail-<kind>-subject`, `-intro`, `-action` (the button) and `-outro`;
# every line of an intro or outro is a paragraph. Variables: $recipient (the address
# the mail goes to), $device, $ip, $time, $new_email, $account_page, $forgot_page.

mail-hello = Hello,
mail-signature = — Gatehouse
mail-copy-link = Or copy this address into your browser:
mail-unknown-device = an unknown device
mail-unknown-ip = unknown
mail-password-reset-subject = Reset your Gatehouse password
mail-password-reset-intro =
    Someone, hopefully you, asked to reset the password of the Gatehouse account for { $recipient }.
    To choose a new password, open this link within 30 minutes. It works once.
mail-password-reset-action = Choose a new password
mail-password-reset-outro =
    If you did not ask for this, ignore this e-mail: your password stays as it is.
    Requested from: { $device }, IP address { $ip }, { $time }.
mail-email-verification-subject = Confirm your e-mail address
mail-email-verification-intro =
    Please confirm that { $recipient } is your address, so you can recover your Gatehouse account if you forget your password.
    Open this link within 24 hours:
mail-email-verification-action = Confirm my address
mail-email-verification-outro = If you did not create a Gatehouse account, ignore this e-mail.
mail-email-change-subject = Confirm your new e-mail address
mail-email-change-intro =
    The owner of a Gatehouse account asked to use { $recipient } as its address from now on.
    If that was you, open this link within 1 hour to make the change:
mail-email-change-action = Use this address
mail-email-change-outro =
    If it was not you, ignore this e-mail: nothing changes.
    Requested from: { $device }, IP address { $ip }, { $time }.
mail-address-in-use-subject = Someone tried to use your e-mail address
mail-address-in-use-intro =
    Someone tried to use { $recipient } for a Gatehouse account, but it already belongs to your account. Nothing was changed.
    If it was you, sign in instead. Forgot your password? You can reset it from the sign-in page.
mail-address-in-use-action = Sign in
mail-address-in-use-outro = Device: { $device }. IP address: { $ip }. Time: { $time }.
mail-new-device-sign-in-subject = New sign-in to your Gatehouse account
mail-new-device-sign-in-intro =
    Your account was signed in from a device it had not used before: { $device }.
    IP address: { $ip }. Time: { $time }.
    If this was you, there is nothing to do. If not, sign that device out and change your password.
mail-new-device-sign-in-action = Review your devices
mail-new-device-sign-in-outro = You can turn these e-mails off on your account page: { $account_page }
mail-password-changed-subject = Your Gatehouse password was changed
mail-password-changed-intro =
    The password of your Gatehouse account was changed, and every other device was signed out.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, reset your password now: { $forgot_page }
mail-password-changed-action = Review your devices
mail-password-changed-outro = {""}
mail-reset-completed-subject = Your Gatehouse password was reset
mail-reset-completed-intro =
    The password of your Gatehouse account was reset with a link sent to this address, and every device was signed out.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, someone can read your mail: secure your mailbox first, then reset your password again: { $forgot_page }
mail-reset-completed-methods = Besides the password, these can get into your account. If you did not add one of them, remove it: on the page that opened after the reset (for { $review_minutes } minutes), or on your account page once signed in.
mail-reset-completed-no-methods = Only the password gets into your account: it has no passkeys and two-step sign-in is off.
mail-reset-completed-passkey = Passkey “{ $name }”, added { $time }
mail-reset-completed-authenticator = Two-step sign-in with an authenticator app, turned on { $time }
mail-reset-completed-provider = Your account at { $name } ({ $email }), connected { $time }
mail-reset-completed-provider-disconnected = Your account at { $name } ({ $email }), connected { $time }: disconnected by the reset, because it could sign in without the password. If it is yours, connect it again on your account page.
mail-reset-completed-action = Review your account
mail-reset-completed-outro = {""}
mail-email-changed-subject = Your Gatehouse e-mail address was changed
mail-email-changed-intro =
    The address of your Gatehouse account was changed from { $recipient } to { $new_email }. Mail about the account now goes there.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, someone may have your password: sign in, sign out the devices you do not know and change your password.
mail-email-changed-action = Review your devices
mail-email-changed-outro = {""}
mail-second-factor-disabled-subject = Two-step sign-in was turned off
mail-second-factor-disabled-intro =
    Two-step sign-in was turned off for your Gatehouse account: signing in now needs only the password.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, change your password and turn two-step sign-in on again.
mail-second-factor-disabled-action = Review your devices
mail-second-factor-disabled-outro = {""}
mail-account-locked-subject = Someone is trying to guess your password
mail-account-locked-intro =
    Many wrong passwords were tried for your Gatehouse account { $recipient }, so signing in with the password is paused for an hour on browsers that have not signed in to it before. Your own browsers still work.
    The last try came from IP address { $ip } at { $time }.
    If you cannot sign in, choose a new password with this link within 30 minutes. It works once and lifts the pause for the browser you use it in.
mail-account-locked-action = Choose a new password
mail-account-locked-outro =
    Your password was not guessed: nobody signed in. A long, unique password, a passkey or two-step sign-in keeps it that way.
mail-code-locked-subject = Your password was right, but the code was wrong
mail-code-locked-intro =
    Someone entered the right password for your Gatehouse account, then wrong two-step sign-in codes, again and again. Signing in with a code is paused for an hour.
    The last try came from IP address { $ip } at { $time }.
    If this was not you, your password is known to someone: change it now, and review your devices.
mail-code-locked-action = Review your devices
mail-code-locked-outro = {""}
mail-second-factor-enabled-subject = Two-step sign-in was turned on
mail-second-factor-enabled-intro =
    Two-step sign-in was turned on for your Gatehouse account: signing in now needs a code from an authenticator app as well as the password.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, someone else holds the app and its recovery codes: reset your password and review your devices.
mail-second-factor-enabled-action = Review your devices
mail-second-factor-enabled-outro = {""}
mail-recovery-codes-renewed-subject = New recovery codes were made
mail-recovery-codes-renewed-intro =
    A new set of recovery codes was made for your Gatehouse account; the old codes stopped working.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, reset your password and review your devices.
mail-recovery-codes-renewed-action = Review your devices
mail-recovery-codes-renewed-outro = {""}
mail-passkey-removed-subject = A passkey was removed from your account
mail-passkey-removed-intro =
    A passkey was removed from your Gatehouse account.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, change your password and review your devices.
mail-passkey-removed-action = Review your devices
mail-passkey-removed-outro = {""}
mail-email-change-requested-subject = Someone asked to move your account to another address
mail-email-change-requested-intro =
    Someone signed in to your Gatehouse account asked to move it to { $new_email }. Nothing changes unless that address confirms it.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, reset your password now: that cancels the change and signs out every device.
mail-email-change-requested-action = Review your devices
mail-email-change-requested-outro = {""}
mail-account-deleted-subject = Your Gatehouse account was deleted
mail-account-deleted-intro =
    Your Gatehouse account { $recipient } was deleted, with its devices and activity.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, someone had your password: sign up again and use a new, unique password everywhere you used the old one.
mail-account-deleted-action = Go to Gatehouse
mail-account-deleted-outro = {""}
mail-passkey-added-subject = A passkey was added to your account
mail-passkey-added-intro =
    A passkey was added to your Gatehouse account. It can sign in without your password.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, sign in, remove the passkey on your account page and change your password.
mail-passkey-added-action = Review your devices
mail-passkey-added-outro = {""}
mail-token-reuse-subject = We signed out a device to protect your account
mail-token-reuse-intro =
    A sign-in token of { $device } was used twice, which happens when it has been copied. We signed that device out.
    IP address of the second use: { $ip }. Time: { $time }.
    If you did not expect this, change your password and review your devices.
mail-token-reuse-action = Review your devices
mail-token-reuse-outro = {""}
mail-dbsc-proof-failed-subject = We refused a copy of your sign-in
mail-dbsc-proof-failed-intro =
    Someone tried to renew the sign-in of { $device } without the key that device keeps, which happens when its cookies have been copied, for example by malware. We refused it.
    IP address of the attempt: { $ip }. Time: { $time }.
    If you did not expect this, sign out that device, change your password and check the device for malware.
mail-dbsc-proof-failed-action = Review your devices
mail-dbsc-proof-failed-outro = {""}

## OpenID providers (sign in with another account)

provider-or = or
provider-sign-in = Sign in with { $provider }
sign-in-method-provider = { $provider }
sign-in-method-provider-and-totp = { $provider } and authenticator app
sign-in-method-provider-and-recovery-code = { $provider } and recovery code
notice-provider-linked = { $provider } is now connected to your account: you can sign in with it.
notice-provider-sign-in-first = An account with the address { $email } already exists, and { $provider } is not connected to it. Sign in to it, then connect { $provider } on your account page: you will sign in at { $provider } once more to confirm. After that, { $provider } signs you in.
login-reason-throttled = Too many attempts from your network. Please wait a minute and try again.
notice-reauthenticated = Thank you: you have confirmed it is you.
error-provider-failed = Signing in with that provider did not work. Please try again.
error-provider-cancelled = Signing in was cancelled at the provider. Nothing was changed.
error-provider-unavailable = That provider is not answering right now. Please try again later, or sign in another way.
error-provider-email-unverified = That provider has not confirmed your e-mail address, so it cannot sign you in here. Confirm the address there, or sign in another way.
error-provider-linked-elsewhere = That account at the provider is already connected to another account here.
error-last-sign-in-method = This is the only way to sign in to your account. Set a password or add a passkey first.
event-provider-linked-title = Account connected
event-provider-linked-text = Your account at { $detail } was connected, from { $actor }. It can now sign in to your account.
event-provider-unlinked-title = Account disconnected
event-provider-unlinked-text = Your account at { $detail } was disconnected, from { $actor }.
mail-provider-linked-subject = { $provider } can now sign in to your account
mail-provider-linked-intro =
    An account at { $provider } was connected to your Gatehouse account: it can now sign you in without your password.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, sign in, disconnect it on your account page and change your password.
mail-provider-linked-action = Review your devices
mail-provider-linked-outro = {""}
mail-provider-unlinked-subject = { $provider } was disconnected from your account
mail-provider-unlinked-intro =
    The account at { $provider } was disconnected from your Gatehouse account: it no longer signs you in.
    Device: { $device }. IP address: { $ip }. Time: { $time }.
    If this was not you, change your password and review your devices.
mail-provider-unlinked-action = Review your devices
mail-provider-unlinked-outro = {""}
connected-title = Connected accounts
connected-intro = Sign in with an account you already have elsewhere. Connecting one asks you to sign in there.
connected-none = No accounts are connected.
connected-since = Connected
connected-connect = Connect { $provider }
connected-disconnect = Disconnect
connected-disconnect-label = Disconnect { $provider }
connected-last = This is your only way to sign in, so it cannot be disconnected. Set a password (with “Forgot your password?” on the sign-in page) or add a passkey first.
sudo-provider = Or confirm by signing in again with { $provider }
password-none = Your account has no password yet: you sign in through a connected account. You can set one below, once you have confirmed it is you, or with “Forgot your password?” on the sign-in page.
sudo-hint-no-password = You have not confirmed it is you on this device in the last few minutes.
settings-nav = Account settings
settings-profile = Profile and e-mail
settings-security = Security
password-title = Password
review-providers-intro = A connected account at another provider signs in without the password. The reset disconnected those connected in the last days; these are older.
review-provider-kept = { $days ->
    [one] Connected more than a day before the reset: sign in to disconnect it on your account page.
   *[other] Connected more than { $days } days before the reset: sign in to disconnect it on your account page.
}
error-tokens-field = The field “tokens” is “body” (the tokens in the answer, for an app) or “cookies”.
