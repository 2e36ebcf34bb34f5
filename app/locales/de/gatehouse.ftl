# Die Oberfläche von Gatehouse auf Deutsch.
#
# Dieselben Ids wie in `en/gatehouse.ftl`, mit denselben Variablen (ein Test prüft es).
# Anrede: „Sie“.

## Rahmen: Kopfzeile, Fußzeile, Sprachwahl

skip-to-content = Zum Inhalt springen
brand-name = Gatehouse
nav-main = Hauptnavigation
nav-home = Start
nav-devices = Geräte
nav-activity = Aktivität
nav-account = Konto
nav-sign-in = Anmelden
nav-create-account = Konto erstellen
nav-sign-out = Abmelden
footer-about = Gatehouse – ein quelloffener Baukasten für sichere Sitzungen in Full-Stack-Rust. Kurzlebige Tokens, rotierende Erneuerung, Abmelden pro Gerät.
language-switcher = Sprache
language-current = { $language } (aktuelle Sprache)
page-title = { $page } · Gatehouse

## Datum und Uhrzeit

month-name = { $month ->
    [1] Januar
    [2] Februar
    [3] März
    [4] April
    [5] Mai
    [6] Juni
    [7] Juli
    [8] August
    [9] September
    [10] Oktober
    [11] November
   *[12] Dezember
}
date-long = { $day }. { $month } { $year }
date-time-long = { $day }. { $month } { $year } um { $time } UTC
time-just-now = gerade eben
time-in-a-moment = gleich
time-minutes-ago = { $count ->
    [one] vor { $count } Minute
   *[other] vor { $count } Minuten
}
time-hours-ago = { $count ->
    [one] vor { $count } Stunde
   *[other] vor { $count } Stunden
}
time-days-ago = { $count ->
    [one] vor { $count } Tag
   *[other] vor { $count } Tagen
}
time-in-minutes = { $count ->
    [one] in { $count } Minute
   *[other] in { $count } Minuten
}
time-in-hours = { $count ->
    [one] in { $count } Stunde
   *[other] in { $count } Stunden
}
time-in-days = { $count ->
    [one] in { $count } Tag
   *[other] in { $count } Tagen
}

## Startseite

home-title = Sitzungen, richtig gemacht
home-lead = Gatehouse meldet Sie mit kurzlebigen Tokens an, erneuert sie unbemerkt und lässt Sie jedes Gerät sofort abmelden.
home-walkthrough-title = So funktioniert eine Sitzung
home-walkthrough-progress = Schritt { $step } von { $steps }: { $title }
home-walkthrough-previous = Zurück
home-walkthrough-next = Nächster Schritt
home-step-1-title = Anmelden
home-step-1-body = Ihr Passwort wird gegen einen Argon2id-Hash geprüft. Eine neue Gerätesitzung beginnt, und Ihr Browser erhält zwei HttpOnly-Cookies, die JavaScript nicht lesen kann.
home-step-2-title = Kurzlebiger Zugang
home-step-2-body = Jede Anfrage trägt ein signiertes Zugangstoken, das 15 Minuten gilt. Der Server prüft seine Signatur und eine Sperrliste im Speicher – ohne Datenbankzugriff.
home-step-3-title = Unbemerkte Erneuerung
home-step-3-body = Bevor das Zugangstoken abläuft, wird das Erneuerungstoken gegen ein neues Paar getauscht. Jedes Erneuerungstoken gilt nur einmal: Ein wiederverwendetes verrät einen Diebstahl und beendet die Sitzung.
home-step-4-title = Sie behalten die Kontrolle
home-step-4-body = Ihre Geräteseite zeigt jeden angemeldeten Browser. Wenn Sie einen abmelden, gilt das ab seiner nächsten Anfrage – nicht erst, wenn sein Token abläuft.

## Gemeinsame Formularteile

loading = Wird geladen …
field-email = E-Mail-Adresse
field-password = Passwort

## Anmelden, Registrieren, Code-Schritt, Erneuern

login-title = Anmelden
login-submit = Anmelden
login-submitting = Wird angemeldet …
login-forgot = Passwort vergessen?
login-new = Neu bei Gatehouse?
login-create-account = Konto erstellen
login-reason-revoked = Dieses Gerät wurde abgemeldet.
login-reason-ended = Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.
signup-title = Konto erstellen
signup-password-hint = Mindestens 8 Zeichen. Eine Passphrase aus ein paar Wörtern ist leicht zu merken und schwer zu erraten.
signup-submit = Konto erstellen
signup-submitting = Ihr Konto wird erstellt …
signup-have-account = Sie haben schon ein Konto?
code-title = Zweistufige Anmeldung
code-intro = Öffnen Sie Ihre Authenticator-App und geben Sie den 6-stelligen Code ein, den sie für Gatehouse anzeigt.
code-field = Code
code-hint = Telefon verloren? Geben Sie stattdessen einen Ihrer Wiederherstellungscodes ein.
code-submit = Bestätigen
code-submitting = Wird geprüft …
code-start-again = Neu beginnen
refresh-title = Sitzung wird wiederhergestellt
refresh-heading = Sitzung wird wiederhergestellt …
refresh-body = Einen Moment, Ihre Anmeldung wird erneuert.
refresh-continue = Weiter
not-found-title = Seite nicht gefunden
not-found-body = Unter dieser Adresse gibt es nichts. Die Seite wurde vielleicht verschoben, oder der Link ist falsch geschrieben.
not-found-home = Zur Startseite
account-notice-verification-sent = Wir haben Ihnen einen neuen Link geschickt. Öffnen Sie ihn, um Ihre Adresse zu bestätigen.
account-notice-change-sent = Sehen Sie im Posteingang Ihrer neuen Adresse nach: Öffnen Sie den Link, den wir dorthin geschickt haben, um die Änderung abzuschließen. Bis dahin bleibt Ihre Adresse unverändert.

## Konto

account-title = Ihr Konto
account-intro = Sie sind auf diesem Gerät angemeldet. Zugangstokens werden unbemerkt erneuert, während Sie die App nutzen.
account-check-session = Meine Sitzung prüfen
account-session-ok-before = Angemeldet als
account-session-ok-after = auf diesem Gerät.
email-verified = Bestätigt
email-not-verified = Nicht bestätigt
email-confirm-why = Bestätigen Sie Ihre Adresse, damit Sie Ihr Passwort zurücksetzen können, falls Sie es vergessen. Wir haben Ihnen bei der Registrierung einen Link geschickt.
email-resend = Neuen Link senden
alerts-title = Anmeldehinweise
alerts-on = Wir schicken Ihnen eine E-Mail, wenn Ihr Konto auf einem neuen Gerät angemeldet wird.
alerts-off = Wir schicken Ihnen keine E-Mails über Anmeldungen auf neuen Geräten.
alerts-turn-off = Anmeldehinweise ausschalten
alerts-turn-on = Anmeldehinweise einschalten
email-change-title = Adresse ändern
email-change-intro = Wir schicken einen Link an die neue Adresse; die Änderung gilt, sobald Sie ihn öffnen. Ihre bisherige Adresse wird benachrichtigt.
email-change-field = Neue E-Mail-Adresse
email-change-submit = Bestätigungslink senden
password-changed = { $count ->
    [0] Ihr Passwort wurde geändert. Es waren keine anderen Geräte angemeldet.
    [one] Ihr Passwort wurde geändert, und 1 anderes Gerät wurde abgemeldet.
   *[other] Ihr Passwort wurde geändert, und { $count } andere Geräte wurden abgemeldet.
}
password-change-title = Passwort ändern
password-change-intro = Alle anderen Geräte werden abgemeldet; dieses bleibt angemeldet.
password-change-field = Neues Passwort
password-change-hint = Mindestens 8 Zeichen.
delete-title = Konto löschen
delete-intro = Damit werden Ihr Konto, alle angemeldeten Geräte und Ihre Aktivität entfernt. Das lässt sich nicht rückgängig machen.
delete-confirm = Mir ist klar, dass mein Konto mit allem darin gelöscht wird
delete-submit = Mein Konto löschen

## Geräte

cancel = Abbrechen
devices-title = Ihre Geräte
devices-lead = Diese Browser sind in Ihrem Konto angemeldet. Wenn Sie einen nicht kennen, melden Sie ihn ab: Er muss sich bei seiner nächsten Anfrage neu anmelden.
devices-loading = Ihre Geräte werden geladen …
devices-none = Es sind keine Geräte angemeldet.
devices-list = Angemeldete Geräte
devices-load-failed = Ihre Geräte konnten nicht geladen werden:
devices-this-signed-out = Dieses Gerät wurde abgemeldet.
devices-signed-out = { $count ->
    [0] Es waren keine anderen Geräte angemeldet.
    [one] Das Gerät wurde abgemeldet. Es muss sich bei seiner nächsten Anfrage neu anmelden.
   *[other] { $count } Geräte wurden abgemeldet. Sie müssen sich bei ihrer nächsten Anfrage neu anmelden.
}
devices-sign-out-this = Dieses Gerät abmelden
devices-confirm-label = Abmelden von { $device } bestätigen
devices-confirm-before = Abmelden:
devices-confirm-after = ?
devices-confirm-yes = Ja, abmelden
devices-sign-out-label = { $device } abmelden
devices-this = Dieses Gerät
devices-bound = An dieses Gerät gebunden
devices-bound-hint = Dieser Browser hält einen Schlüssel, an den seine Anmeldung gebunden ist: Eine Kopie seiner Cookies funktioniert nach wenigen Minuten nicht mehr.
devices-ip = IP-Adresse
devices-signed-in = Angemeldet
devices-last-active = Zuletzt aktiv
devices-expires = Läuft ab
devices-method = Angemeldet mit
devices-others-title = Überall sonst abmelden
devices-others-intro = { $count ->
    [one] Meldet das 1 andere Gerät oben ab. Dieses Gerät bleibt angemeldet.
   *[other] Meldet die { $count } anderen Geräte oben ab. Dieses Gerät bleibt angemeldet.
}
devices-others-submit = Alle anderen Geräte abmelden
device-unknown = Unbekanntes Gerät
device-label = { $browser } unter { $os }
sign-in-method-password = Passwort
sign-in-method-password-and-totp = Passwort und Authenticator-App
sign-in-method-password-and-recovery-code = Passwort und Wiederherstellungscode
sign-in-method-passkey = Passkey

## Aktivität

activity-title = Kontoaktivität
activity-lead = Anmeldungen, Abmeldungen und Sicherheitshinweise zu Ihrem Konto, die neuesten zuerst.
activity-loading = Aktivität wird geladen …
activity-none = Noch nichts zu sehen.
activity-older = Ältere Aktivität
activity-load-failed = Die Aktivität konnte nicht geladen werden:
event-signed-in-with = Angemeldet mit { $method }.
# $actor ist das Gerät, das gehandelt hat; $detail ein Gerät, eine Anzahl, eine
# Adresse oder der Name eines Passkeys (siehe die englische Datei).
event-signed-in-title = Angemeldet
event-signed-in-text = { $detail }.
event-new-device-sign-in-title = Anmeldung auf einem neuen Gerät
event-new-device-sign-in-text = { $detail }. Wenn Sie das nicht waren, melden Sie das Gerät auf der Seite „Geräte“ ab und ändern Sie Ihr Passwort.
event-signed-out-title = Abgemeldet
event-signed-out-text = { $detail }.
event-device-signed-out-title = Gerät abgemeldet
event-device-signed-out-text = { $detail } wurde von { $actor } aus abgemeldet.
event-other-devices-signed-out-title = Alle anderen Geräte abgemeldet
event-other-devices-signed-out-text = { $detail ->
    [one] 1 Gerät von { $actor } aus abgemeldet.
   *[other] { $detail } Geräte von { $actor } aus abgemeldet.
}
event-password-changed-title = Passwort geändert
event-password-changed-text = { $detail ->
    [one] Geändert von { $actor } aus; 1 Gerät abgemeldet.
   *[other] Geändert von { $actor } aus; { $detail } Geräte abgemeldet.
}
event-token-reuse-detected-title = Verdacht auf Token-Diebstahl
event-token-reuse-detected-text = Ein Anmeldetoken von { $detail } wurde zweimal verwendet; das passiert, wenn es kopiert wurde. Dieses Gerät wurde zum Schutz Ihres Kontos abgemeldet. Wenn Sie damit nicht gerechnet haben, ändern Sie Ihr Passwort.
event-dbsc-bound-title = Sitzung an dieses Gerät gebunden
event-dbsc-bound-text = Der Browser auf { $detail } hält nun einen Schlüssel für seine Anmeldung, der sich nicht kopieren lässt: Eine Kopie seiner Cookies funktioniert nach wenigen Minuten nicht mehr.
event-dbsc-proof-failed-title = Gestohlene Cookies abgewiesen
event-dbsc-proof-failed-text = Jemand hat versucht, die Anmeldung von { $detail } ohne den Schlüssel dieses Geräts zu verlängern; das passiert, wenn seine Cookies kopiert wurden. Der Versuch wurde abgewiesen. Wenn Sie damit nicht gerechnet haben, ändern Sie Ihr Passwort und prüfen Sie dieses Gerät auf Schadsoftware.
event-session-evicted-title = Gerät automatisch abgemeldet
event-session-evicted-text = { $detail } war das am längsten ungenutzte von zu vielen angemeldeten Geräten und wurde abgemeldet, um Platz zu schaffen.
event-password-reset-title = Passwort per E-Mail zurückgesetzt
event-password-reset-text = { $detail ->
    [one] Ein neues Passwort wurde über einen Link aus einer E-Mail gesetzt, von { $actor } aus; 1 Gerät abgemeldet.
   *[other] Ein neues Passwort wurde über einen Link aus einer E-Mail gesetzt, von { $actor } aus; { $detail } Geräte abgemeldet.
}
event-email-verified-title = E-Mail-Adresse bestätigt
event-email-verified-text = { $detail } wurde von { $actor } aus bestätigt.
event-email-change-requested-title = Änderung der E-Mail-Adresse angefordert
event-email-change-requested-text = Ein Bestätigungslink wurde an { $detail } geschickt, von { $actor } aus.
event-email-changed-title = E-Mail-Adresse geändert
event-email-changed-text = { $detail }, von { $actor } aus.
event-passkey-added-title = Passkey hinzugefügt
event-passkey-added-text = Der Passkey „{ $detail }“ wurde hinzugefügt, von { $actor } aus. Er kann sich jetzt in Ihrem Konto anmelden.
event-passkey-removed-title = Passkey entfernt
event-passkey-removed-text = Der Passkey „{ $detail }“ wurde entfernt, von { $actor } aus.
event-wrong-code-title = Falscher Anmeldecode nach dem richtigen Passwort
event-wrong-code-text = Jemand, der Ihr Passwort kennt, hat einen falschen Code eingegeben, von { $actor } aus. Wenn Sie das nicht waren, ändern Sie Ihr Passwort.
event-totp-enabled-title = Zweistufige Anmeldung eingeschaltet
event-totp-enabled-text = Eine Authenticator-App wurde hinzugefügt, von { $actor } aus.
event-totp-disabled-title = Zweistufige Anmeldung ausgeschaltet
event-totp-disabled-text = Die Authenticator-App und die Wiederherstellungscodes wurden entfernt, von { $actor } aus. Wenn Sie das nicht waren, ändern Sie Ihr Passwort.
event-recovery-code-used-title = Mit einem Wiederherstellungscode angemeldet
event-recovery-code-used-text = Von { $actor } aus; noch { $detail } Wiederherstellungscodes übrig.
event-recovery-codes-regenerated-title = Neue Wiederherstellungscodes
event-recovery-codes-regenerated-text = Die alten Wiederherstellungscodes gelten nicht mehr, von { $actor } aus.

## Bestätigen, dass Sie es sind (Sudo-Modus)

sudo-legend = Bestätigen Sie, dass Sie es sind
sudo-hint = Sie haben Ihr Passwort auf diesem Gerät in den letzten Minuten nicht eingegeben.
sudo-password = Ihr Passwort
sudo-code = Oder ein Code aus Ihrer Authenticator-App

## Zweistufige Anmeldung

totp-on = An
totp-on-text = Zum Anmelden brauchen Sie Ihr Passwort und einen Code aus Ihrer Authenticator-App.
totp-codes-left = { $count ->
    [one] Noch 1 Wiederherstellungscode übrig.
   *[other] Noch { $count } Wiederherstellungscodes übrig.
}
totp-few-codes-left = { $count ->
    [one] Nur noch 1 Wiederherstellungscode übrig. Holen Sie sich neue, damit ein verlorenes Telefon Sie nie aussperrt.
   *[other] Nur noch { $count } Wiederherstellungscodes übrig. Holen Sie sich neue, damit ein verlorenes Telefon Sie nie aussperrt.
}
totp-renew-codes = Neue Wiederherstellungscodes
totp-turn-off = Zweistufige Anmeldung ausschalten
totp-off-text = Aus. Fügen Sie der Anmeldung einen zweiten Schritt hinzu: nach Ihrem Passwort einen 6-stelligen Code aus einer Authenticator-App auf Ihrem Telefon (zum Beispiel Google Authenticator, Microsoft Authenticator, 1Password oder Aegis). Wer Ihr Passwort erfährt, kann sich trotzdem nicht anmelden.
totp-set-up = Authenticator-App einrichten
totp-step-scan = Öffnen Sie Ihre Authenticator-App, fügen Sie ein Konto hinzu und scannen Sie diesen Code:
totp-qr-alt = QR-Code zum Scannen mit Ihrer Authenticator-App
totp-step-type = Scannen klappt nicht? Geben Sie stattdessen diesen Schlüssel ein:
totp-step-code = Geben Sie den 6-stelligen Code ein, den die App jetzt anzeigt
totp-turn-on = Zweistufige Anmeldung einschalten
totp-codes-file-heading = Gatehouse-Wiederherstellungscodes. Jeder gilt einmal, anstelle eines Codes aus Ihrer Authenticator-App.
totp-codes-save = Speichern Sie jetzt Ihre Wiederherstellungscodes.
totp-codes-why = Wenn Sie Ihr Telefon verlieren, meldet Sie jeder dieser Codes einmal an, anstelle eines Codes aus der App. Bewahren Sie sie sicher auf, etwa in einem Passwortmanager. Sie werden nicht noch einmal angezeigt.
totp-codes-download = Herunterladen
totp-codes-copy = Kopieren
totp-codes-copied = Kopiert

## Wiederherstellung: vergessenes Passwort, Links aus E-Mails

forgot-intro = Geben Sie die Adresse ein, mit der Sie sich registriert haben. Wir schicken Ihnen einen Link, mit dem Sie ein neues Passwort wählen.
forgot-submit = Link senden
forgot-submitting = Wird gesendet …
forgot-sent = Falls ein Konto diese Adresse nutzt, haben wir ihr einen Link zum Wählen eines neuen Passworts geschickt. Der Link gilt 30 Minuten. Wenn in ein paar Minuten nichts ankommt, sehen Sie im Spam-Ordner nach.
forgot-remembered = Doch wieder eingefallen?
link-checking = Ihr Link wird geprüft …
link-ask-again = Neuen Link anfordern
link-go-to-account = Zu Ihrem Konto
reset-title = Neues Passwort wählen
reset-for-before = Für
reset-for-after = . Alle Geräte, die in diesem Konto angemeldet sind, werden abgemeldet.
reset-submit = Neues Passwort setzen
reset-submitting = Wird gespeichert …
review-title = Ihr Passwort wurde geändert
review-intro-before = Alle Geräte, die bei
review-intro-after = {""} angemeldet waren, wurden abgemeldet. Außer dem Passwort öffnen diese das Konto. Wenn Sie eines davon nicht hinzugefügt haben, entfernen Sie es jetzt: Wer Ihr Konto hatte, könnte es getan haben.
review-passkeys-intro = Ein Passkey meldet ohne Passwort an.
review-no-passkeys = Das Konto hat keine Passkeys.
review-second-factor-title = Zweistufige Anmeldung
review-second-factor-off = Die zweistufige Anmeldung ist aus.
review-second-factor-on = Die zweistufige Anmeldung wurde eingeschaltet:
review-second-factor-recent = Wenn Sie sie nicht eingeschaltet haben, schalten Sie sie hier aus: Sonst bräuchte die Anmeldung Codes aus der App eines anderen.
review-second-factor-turn-off = Zweistufige Anmeldung ausschalten
review-passkey-kept = { $days ->
    [one] Mehr als einen Tag vor dem Zurücksetzen hinzugefügt: Melden Sie sich an, um ihn auf Ihrer Kontoseite zu entfernen.
   *[other] Mehr als { $days } Tage vor dem Zurücksetzen hinzugefügt: Melden Sie sich an, um ihn auf Ihrer Kontoseite zu entfernen.
}
review-second-factor-kept = { $days ->
    [one] Sie wurde mehr als einen Tag vor dem Zurücksetzen eingeschaltet und bleibt deshalb an: Melden Sie sich mit einem Code aus Ihrer App oder einem Wiederherstellungscode an.
   *[other] Sie wurde mehr als { $days } Tage vor dem Zurücksetzen eingeschaltet und bleibt deshalb an: Melden Sie sich mit einem Code aus Ihrer App oder einem Wiederherstellungscode an.
}
review-open-until = Sie können sie hier entfernen bis
review-continue = Weiter zur Anmeldung
verify-title = Adresse bestätigen
verify-heading = E-Mail-Adresse bestätigen
verify-intro = Bestätigen Sie, dass diese Adresse Ihnen gehört:
verify-submit = Meine Adresse bestätigen
verify-done = Danke: { $email } ist bestätigt.
verify-done-unnamed = Danke: Ihre Adresse ist bestätigt.
confirm-title = Neue Adresse bestätigen
confirm-heading = Neue E-Mail-Adresse bestätigen
confirm-intro = Diese Adresse ab jetzt für Ihr Konto verwenden:
confirm-submit = Diese Adresse verwenden
confirm-done = Erledigt: Ihr Konto verwendet jetzt { $email }.
confirm-done-unnamed = Erledigt: Ihr Konto verwendet jetzt seine neue Adresse.

## Passkeys

passkey-cancelled = Die Passkey-Abfrage wurde geschlossen. Es wurde nichts geändert.
passkey-already-on-device = Dieses Gerät hat schon einen Passkey für Ihr Konto. Melden Sie sich damit an, oder fügen Sie auf einem anderen Gerät einen Passkey hinzu.
passkey-wrong-site = Passkeys funktionieren nur unter der Hauptadresse dieser Website. Öffnen Sie sie dort und versuchen Sie es erneut.
passkey-unsupported = Dieser Browser kann keine Passkeys verwenden. Melden Sie sich stattdessen mit Ihrem Passwort an.
passkey-browser-failed = Ihr Browser konnte gerade keinen Passkey verwenden. Versuchen Sie es erneut, oder verwenden Sie Ihr Passwort.
passkey-or = oder
passkey-sign-in = Mit einem Passkey anmelden
passkey-sign-in-pending = Warten auf Ihren Passkey …
passkeys-title = Passkeys
passkeys-intro = Ein Passkey meldet Sie mit Fingerabdruck, Gesicht oder Geräte-PIN an statt mit Ihrem Passwort. Er lässt sich weder abfischen noch erraten und zählt als beide Schritte der zweistufigen Anmeldung.
passkeys-off = Passkeys sind auf diesem Server nicht verfügbar.
passkeys-none = Sie haben noch keine Passkeys.
passkeys-synced = Synchronisiert
passkeys-added = Hinzugefügt
passkeys-last-used = zuletzt verwendet
passkeys-not-used = noch nicht verwendet
passkeys-remove = Entfernen
passkeys-remove-label = Den Passkey { $name } entfernen
passkeys-limit = Sie haben { $count } Passkeys, die Höchstzahl für ein Konto. Entfernen Sie einen, um einen weiteren hinzuzufügen.
passkeys-elsewhere-before = Passkeys funktionieren nur unter
passkeys-elsewhere-after = . Öffnen Sie dort Ihre Kontoseite, um einen hinzuzufügen oder zu verwenden.
passkeys-added-notice = Passkey „{ $name }“ hinzugefügt. Sie können sich jetzt damit anmelden.
passkeys-name = Name (optional)
passkeys-name-hint = Damit Sie Ihre Passkeys unterscheiden können, zum Beispiel „Arbeitslaptop“. Leer lassen, um den Namen dieses Browsers zu verwenden.
passkeys-add = Passkey hinzufügen
passkeys-add-pending = Warten auf Ihr Gerät …

## Hinweise für die nächste Seite

notice-signed-out = Sie haben sich abgemeldet.
notice-account-deleted = Ihr Konto wurde gelöscht.
notice-password-reset = Ihr Passwort wurde geändert, und alle Geräte wurden abgemeldet. Melden Sie sich mit Ihrem neuen Passwort an.
notice-check-inbox = Sehen Sie in Ihrem Posteingang nach: Wir haben einen Link an { $email } geschickt. Öffnen Sie ihn, um Ihre Adresse zu bestätigen, und melden Sie sich dann an.

## Fehler vom Server

error-unknown-language = Diese Sprache ist nicht verfügbar.
error-access-token-expired = Ihre Sitzung muss erneuert werden.
error-sudo-required = Bitte bestätigen Sie, dass Sie es sind, um fortzufahren.
error-not-found = Nicht gefunden.
error-throttled = { $seconds ->
    [one] Zu viele Versuche. Versuchen Sie es in 1 Sekunde erneut.
   *[other] Zu viele Versuche. Versuchen Sie es in { $seconds } Sekunden erneut.
}
error-internal = Bei uns ist etwas schiefgegangen. Bitte versuchen Sie es erneut.
error-unreadable-request = Die Anfrage konnte nicht gelesen werden: { $reason }
error-missing-field = Das Feld { $field } fehlt.
error-unreachable = Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.
error-invalid-email = Geben Sie eine gültige E-Mail-Adresse ein.
error-password-too-short = Ihr Passwort muss mindestens 8 Zeichen haben.
error-password-too-long = Ihr Passwort darf höchstens 128 Zeichen haben.
error-email-taken = Zu dieser E-Mail-Adresse gibt es schon ein Konto. Melden Sie sich stattdessen an.
error-invalid-credentials = E-Mail-Adresse oder Passwort ist falsch.
error-not-signed-in = Sie sind nicht angemeldet.
error-token-reuse = Zu Ihrer Sicherheit wurde dieses Gerät abgemeldet: Ihre Anmeldung wurde an einem anderen Ort verwendet. Bitte melden Sie sich erneut an.
error-device-proof = Dieses Gerät konnte nicht nachweisen, dass es den Schlüssel hält, an den seine Anmeldung gebunden ist. Bitte melden Sie sich erneut an.
error-wrong-password = Ihr aktuelles Passwort ist nicht richtig.
error-email-not-verified = Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse: Öffnen Sie den Link, den wir Ihnen geschickt haben. Wir haben Ihnen einen neuen geschickt.
error-link-unknown = Dieser Link ist ungültig. Vielleicht wurde er durch einen neueren ersetzt: Verwenden Sie die neueste E-Mail, oder fordern Sie einen neuen Link an.
error-link-expired = Dieser Link ist abgelaufen. Fordern Sie einen neuen an.
error-link-used = Dieser Link wurde bereits verwendet.
error-same-email = Das ist bereits Ihre Adresse.
error-mail-limit = Wir haben Ihnen in der letzten Stunde schon mehrere E-Mails geschickt. Sehen Sie im Posteingang und im Spam-Ordner nach, oder versuchen Sie es später erneut.
error-wrong-code = Dieser Code stimmt nicht. Codes wechseln alle 30 Sekunden: Geben Sie den ein, den Ihre App jetzt anzeigt, oder einen Ihrer Wiederherstellungscodes.
error-no-pending-sign-in = Bitte melden Sie sich erneut an: Geben Sie Ihre E-Mail-Adresse und Ihr Passwort ein.
error-no-enrolment = Das Einrichten der Authenticator-App hat zu lange gedauert. Bitte beginnen Sie neu.
error-second-factor-already-on = Die zweistufige Anmeldung ist bereits eingeschaltet.
error-passkey-limit = Sie haben { $count } Passkeys, die Höchstzahl für ein Konto. Entfernen Sie zuerst einen, den Sie nicht mehr verwenden.
error-passkey-expired = Das hat zu lange gedauert. Bitte versuchen Sie es erneut.
error-passkey-failed = Dieser Passkey hat nicht funktioniert. Versuchen Sie es erneut, oder verwenden Sie Ihr Passwort.
error-passkey-already-added = Dieser Passkey ist bereits in Ihrem Konto.
error-review-closed = Diese Überprüfung ist beendet. Melden Sie sich an, um Ihre Passkeys und die zweistufige Anmeldung auf Ihrer Kontoseite zu sehen.
error-added-too-long-ago = { $days ->
    [one] Dies wurde mehr als einen Tag vor dem Zurücksetzen hinzugefügt; ein Zurücksetzen allein kann es nicht entfernen. Melden Sie sich an (bei zweistufiger Anmeldung mit einem Code oder Wiederherstellungscode) und entfernen Sie es auf Ihrer Kontoseite.
   *[other] Dies wurde mehr als { $days } Tage vor dem Zurücksetzen hinzugefügt; ein Zurücksetzen allein kann es nicht entfernen. Melden Sie sich an (bei zweistufiger Anmeldung mit einem Code oder Wiederherstellungscode) und entfernen Sie es auf Ihrer Kontoseite.
}
error-device-not-found = Dieses Gerät ist nicht in Ihrem Konto angemeldet.
error-busy = Der Dienst ist ausgelastet. Bitte versuchen Sie es gleich noch einmal.
error-unavailable = Der Dienst ist vorübergehend nicht verfügbar. Bitte versuchen Sie es gleich noch einmal.
error-cross-site = Anfragen von anderen Websites sind nicht erlaubt.

## E-Mails
# Jede Zeile von `-intro` und `-outro` ist ein Absatz.

mail-hello = Hallo,
mail-signature = – Gatehouse
mail-copy-link = Oder kopieren Sie diese Adresse in Ihren Browser:
mail-unknown-device = einem unbekannten Gerät
mail-unknown-ip = unbekannt
mail-password-reset-subject = Ihr Gatehouse-Passwort zurücksetzen
mail-password-reset-intro =
    Jemand, hoffentlich Sie, hat gebeten, das Passwort des Gatehouse-Kontos für { $recipient } zurückzusetzen.
    Um ein neues Passwort zu wählen, öffnen Sie diesen Link innerhalb von 30 Minuten. Er gilt einmal.
mail-password-reset-action = Neues Passwort wählen
mail-password-reset-outro =
    Wenn Sie das nicht angefordert haben, ignorieren Sie diese E-Mail: Ihr Passwort bleibt, wie es ist.
    Angefordert von: { $device }, IP-Adresse { $ip }, { $time }.
mail-email-verification-subject = Bestätigen Sie Ihre E-Mail-Adresse
mail-email-verification-intro =
    Bitte bestätigen Sie, dass { $recipient } Ihre Adresse ist, damit Sie Ihr Gatehouse-Konto wiederherstellen können, falls Sie Ihr Passwort vergessen.
    Öffnen Sie diesen Link innerhalb von 24 Stunden:
mail-email-verification-action = Meine Adresse bestätigen
mail-email-verification-outro = Wenn Sie kein Gatehouse-Konto erstellt haben, ignorieren Sie diese E-Mail.
mail-email-change-subject = Bestätigen Sie Ihre neue E-Mail-Adresse
mail-email-change-intro =
    Der Inhaber eines Gatehouse-Kontos möchte ab jetzt { $recipient } als Adresse verwenden.
    Wenn Sie das waren, öffnen Sie diesen Link innerhalb von 1 Stunde, um die Änderung vorzunehmen:
mail-email-change-action = Diese Adresse verwenden
mail-email-change-outro =
    Wenn Sie es nicht waren, ignorieren Sie diese E-Mail: Es ändert sich nichts.
    Angefordert von: { $device }, IP-Adresse { $ip }, { $time }.
mail-address-in-use-subject = Jemand wollte Ihre E-Mail-Adresse verwenden
mail-address-in-use-intro =
    Jemand wollte { $recipient } für ein Gatehouse-Konto verwenden, aber die Adresse gehört schon zu Ihrem Konto. Es wurde nichts geändert.
    Wenn Sie das waren, melden Sie sich stattdessen an. Passwort vergessen? Sie können es auf der Anmeldeseite zurücksetzen.
mail-address-in-use-action = Anmelden
mail-address-in-use-outro = Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
mail-new-device-sign-in-subject = Neue Anmeldung in Ihrem Gatehouse-Konto
mail-new-device-sign-in-intro =
    Ihr Konto wurde auf einem Gerät angemeldet, das es noch nicht verwendet hat: { $device }.
    IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das waren, ist nichts zu tun. Wenn nicht, melden Sie dieses Gerät ab und ändern Sie Ihr Passwort.
mail-new-device-sign-in-action = Ihre Geräte ansehen
mail-new-device-sign-in-outro = Sie können diese E-Mails auf Ihrer Kontoseite ausschalten: { $account_page }
mail-password-changed-subject = Ihr Gatehouse-Passwort wurde geändert
mail-password-changed-intro =
    Das Passwort Ihres Gatehouse-Kontos wurde geändert, und alle anderen Geräte wurden abgemeldet.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, setzen Sie Ihr Passwort jetzt zurück: { $forgot_page }
mail-password-changed-action = Ihre Geräte ansehen
mail-password-changed-outro = {""}
mail-reset-completed-subject = Ihr Gatehouse-Passwort wurde zurückgesetzt
mail-reset-completed-intro =
    Das Passwort Ihres Gatehouse-Kontos wurde mit einem Link an diese Adresse zurückgesetzt, und alle Geräte wurden abgemeldet.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, kann jemand Ihre E-Mails lesen: Sichern Sie zuerst Ihr Postfach und setzen Sie dann Ihr Passwort erneut zurück: { $forgot_page }
mail-reset-completed-methods = Außer dem Passwort öffnen diese Ihr Konto. Wenn Sie eines davon nicht hinzugefügt haben, entfernen Sie es: auf der Seite, die sich nach dem Zurücksetzen geöffnet hat ({ $review_minutes } Minuten lang), oder nach der Anmeldung auf Ihrer Kontoseite.
mail-reset-completed-no-methods = Nur das Passwort öffnet Ihr Konto: Es hat keine Passkeys, und die zweistufige Anmeldung ist aus.
mail-reset-completed-passkey = Passkey „{ $name }“, hinzugefügt am { $time }
mail-reset-completed-authenticator = Zweistufige Anmeldung mit einer Authenticator-App, eingeschaltet am { $time }
mail-reset-completed-provider = Ihr Konto bei { $name } ({ $email }), verbunden am { $time }
mail-reset-completed-provider-disconnected = Ihr Konto bei { $name } ({ $email }), verbunden am { $time }: durch das Zurücksetzen getrennt, weil es sich ohne das Passwort anmelden konnte. Wenn es Ihres ist, verbinden Sie es auf Ihrer Kontoseite erneut.
mail-reset-completed-action = Ihr Konto ansehen
mail-reset-completed-outro = {""}
mail-email-changed-subject = Ihre Gatehouse-E-Mail-Adresse wurde geändert
mail-email-changed-intro =
    Die Adresse Ihres Gatehouse-Kontos wurde von { $recipient } zu { $new_email } geändert. E-Mails zum Konto gehen jetzt dorthin.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, kennt vielleicht jemand Ihr Passwort: Melden Sie sich an, melden Sie die Geräte ab, die Sie nicht kennen, und ändern Sie Ihr Passwort.
mail-email-changed-action = Ihre Geräte ansehen
mail-email-changed-outro = {""}
mail-second-factor-disabled-subject = Die zweistufige Anmeldung wurde ausgeschaltet
mail-second-factor-disabled-intro =
    Die zweistufige Anmeldung wurde für Ihr Gatehouse-Konto ausgeschaltet: Zum Anmelden genügt jetzt das Passwort.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, ändern Sie Ihr Passwort und schalten Sie die zweistufige Anmeldung wieder ein.
mail-second-factor-disabled-action = Ihre Geräte ansehen
mail-second-factor-disabled-outro = {""}
mail-account-locked-subject = Jemand versucht, Ihr Passwort zu erraten
mail-account-locked-intro =
    Für Ihr Gatehouse-Konto { $recipient } wurden viele falsche Passwörter versucht. Deshalb ist die Anmeldung mit dem Passwort für eine Stunde pausiert, für Browser, die sich noch nie bei diesem Konto angemeldet haben. Ihre eigenen Browser funktionieren weiter.
    Der letzte Versuch kam von IP-Adresse { $ip } um { $time }.
    Wenn Sie sich nicht anmelden können, wählen Sie mit diesem Link innerhalb von 30 Minuten ein neues Passwort. Er gilt einmal und hebt die Pause für den Browser auf, in dem Sie ihn öffnen.
mail-account-locked-action = Neues Passwort wählen
mail-account-locked-outro =
    Ihr Passwort wurde nicht erraten: Niemand hat sich angemeldet. Ein langes, eigenes Passwort, ein Passkey oder die zweistufige Anmeldung sorgen dafür, dass es so bleibt.
mail-code-locked-subject = Ihr Passwort war richtig, aber der Code falsch
mail-code-locked-intro =
    Jemand hat das richtige Passwort für Ihr Gatehouse-Konto eingegeben und danach immer wieder falsche Codes der zweistufigen Anmeldung. Die Anmeldung mit Code ist für eine Stunde pausiert.
    Der letzte Versuch kam von IP-Adresse { $ip } um { $time }.
    Wenn Sie das nicht waren, kennt jemand Ihr Passwort: Ändern Sie es jetzt und sehen Sie sich Ihre Geräte an.
mail-code-locked-action = Ihre Geräte ansehen
mail-code-locked-outro = {""}
mail-second-factor-enabled-subject = Die zweistufige Anmeldung wurde eingeschaltet
mail-second-factor-enabled-intro =
    Die zweistufige Anmeldung wurde für Ihr Gatehouse-Konto eingeschaltet: Zum Anmelden braucht es jetzt neben dem Passwort einen Code aus einer Authenticator-App.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, hat jemand anderes die App und ihre Wiederherstellungscodes: Setzen Sie Ihr Passwort zurück und sehen Sie sich Ihre Geräte an.
mail-second-factor-enabled-action = Ihre Geräte ansehen
mail-second-factor-enabled-outro = {""}
mail-recovery-codes-renewed-subject = Neue Wiederherstellungscodes wurden erstellt
mail-recovery-codes-renewed-intro =
    Für Ihr Gatehouse-Konto wurden neue Wiederherstellungscodes erstellt; die alten gelten nicht mehr.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, setzen Sie Ihr Passwort zurück und sehen Sie sich Ihre Geräte an.
mail-recovery-codes-renewed-action = Ihre Geräte ansehen
mail-recovery-codes-renewed-outro = {""}
mail-passkey-removed-subject = Ein Passkey wurde von Ihrem Konto entfernt
mail-passkey-removed-intro =
    Von Ihrem Gatehouse-Konto wurde ein Passkey entfernt.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, ändern Sie Ihr Passwort und sehen Sie sich Ihre Geräte an.
mail-passkey-removed-action = Ihre Geräte ansehen
mail-passkey-removed-outro = {""}
mail-email-change-requested-subject = Jemand möchte Ihr Konto auf eine andere Adresse umziehen
mail-email-change-requested-intro =
    Jemand, der bei Ihrem Gatehouse-Konto angemeldet ist, möchte es auf { $new_email } umziehen. Es ändert sich nichts, solange diese Adresse es nicht bestätigt.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, setzen Sie jetzt Ihr Passwort zurück: Das bricht den Umzug ab und meldet alle Geräte ab.
mail-email-change-requested-action = Ihre Geräte ansehen
mail-email-change-requested-outro = {""}
mail-account-deleted-subject = Ihr Gatehouse-Konto wurde gelöscht
mail-account-deleted-intro =
    Ihr Gatehouse-Konto { $recipient } wurde gelöscht, mit seinen Geräten und Aktivitäten.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, kannte jemand Ihr Passwort: Registrieren Sie sich neu und verwenden Sie überall, wo Sie das alte Passwort benutzt haben, ein neues, eigenes.
mail-account-deleted-action = Zu Gatehouse
mail-account-deleted-outro = {""}
mail-passkey-added-subject = Ihrem Konto wurde ein Passkey hinzugefügt
mail-passkey-added-intro =
    Ihrem Gatehouse-Konto wurde ein Passkey hinzugefügt. Er kann sich ohne Ihr Passwort anmelden.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, melden Sie sich an, entfernen Sie den Passkey auf Ihrer Kontoseite und ändern Sie Ihr Passwort.
mail-passkey-added-action = Ihre Geräte ansehen
mail-passkey-added-outro = {""}
mail-token-reuse-subject = Wir haben zum Schutz Ihres Kontos ein Gerät abgemeldet
mail-token-reuse-intro =
    Ein Anmeldetoken von { $device } wurde zweimal verwendet; das passiert, wenn es kopiert wurde. Wir haben dieses Gerät abgemeldet.
    IP-Adresse der zweiten Verwendung: { $ip }. Zeit: { $time }.
    Wenn Sie damit nicht gerechnet haben, ändern Sie Ihr Passwort und sehen Sie sich Ihre Geräte an.
mail-token-reuse-action = Ihre Geräte ansehen
mail-token-reuse-outro = {""}
mail-dbsc-proof-failed-subject = Wir haben eine Kopie Ihrer Anmeldung abgewiesen
mail-dbsc-proof-failed-intro =
    Jemand hat versucht, die Anmeldung von { $device } ohne den Schlüssel dieses Geräts zu verlängern; das passiert, wenn seine Cookies kopiert wurden, etwa durch Schadsoftware. Wir haben das abgewiesen.
    IP-Adresse des Versuchs: { $ip }. Zeit: { $time }.
    Wenn Sie damit nicht gerechnet haben, melden Sie dieses Gerät ab, ändern Sie Ihr Passwort und prüfen Sie das Gerät auf Schadsoftware.
mail-dbsc-proof-failed-action = Ihre Geräte ansehen
mail-dbsc-proof-failed-outro = {""}

## OpenID-Anbieter (mit einem anderen Konto anmelden)

provider-or = oder
provider-sign-in = Mit { $provider } anmelden
sign-in-method-provider = { $provider }
sign-in-method-provider-and-totp = { $provider } und Authenticator-App
sign-in-method-provider-and-recovery-code = { $provider } und Wiederherstellungscode
notice-provider-linked = { $provider } ist jetzt mit Ihrem Konto verbunden: Sie können sich damit anmelden.
notice-provider-sign-in-first = Es gibt bereits ein Konto mit der Adresse { $email }, und { $provider } ist nicht damit verbunden. Melden Sie sich an und verbinden Sie { $provider } dann auf Ihrer Kontoseite: Zur Bestätigung melden Sie sich noch einmal bei { $provider } an. Danach meldet { $provider } Sie an.
login-reason-throttled = Zu viele Versuche aus Ihrem Netz. Bitte warten Sie eine Minute und versuchen Sie es erneut.
notice-reauthenticated = Danke: Sie haben bestätigt, dass Sie es sind.
error-provider-failed = Die Anmeldung über diesen Anbieter hat nicht funktioniert. Bitte versuchen Sie es erneut.
error-provider-cancelled = Die Anmeldung wurde beim Anbieter abgebrochen. Es wurde nichts geändert.
error-provider-unavailable = Dieser Anbieter antwortet gerade nicht. Bitte versuchen Sie es später erneut, oder melden Sie sich anders an.
error-provider-email-unverified = Dieser Anbieter hat Ihre E-Mail-Adresse nicht bestätigt und kann Sie hier deshalb nicht anmelden. Bestätigen Sie die Adresse dort, oder melden Sie sich anders an.
error-provider-linked-elsewhere = Dieses Konto beim Anbieter ist bereits mit einem anderen Konto hier verbunden.
error-last-sign-in-method = Dies ist die einzige Möglichkeit, sich bei Ihrem Konto anzumelden. Legen Sie zuerst ein Passwort fest oder fügen Sie einen Passkey hinzu.
event-provider-linked-title = Konto verbunden
event-provider-linked-text = Ihr Konto bei { $detail } wurde verbunden, von { $actor } aus. Es kann sich jetzt in Ihrem Konto anmelden.
event-provider-unlinked-title = Konto getrennt
event-provider-unlinked-text = Ihr Konto bei { $detail } wurde getrennt, von { $actor } aus.
mail-provider-linked-subject = { $provider } kann sich jetzt in Ihrem Konto anmelden
mail-provider-linked-intro =
    Ein Konto bei { $provider } wurde mit Ihrem Gatehouse-Konto verbunden: Es kann Sie jetzt ohne Ihr Passwort anmelden.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, melden Sie sich an, trennen Sie es auf Ihrer Kontoseite und ändern Sie Ihr Passwort.
mail-provider-linked-action = Ihre Geräte ansehen
mail-provider-linked-outro = {""}
mail-provider-unlinked-subject = { $provider } wurde von Ihrem Konto getrennt
mail-provider-unlinked-intro =
    Das Konto bei { $provider } wurde von Ihrem Gatehouse-Konto getrennt: Es meldet Sie nicht mehr an.
    Gerät: { $device }. IP-Adresse: { $ip }. Zeit: { $time }.
    Wenn Sie das nicht waren, ändern Sie Ihr Passwort und sehen Sie sich Ihre Geräte an.
mail-provider-unlinked-action = Ihre Geräte ansehen
mail-provider-unlinked-outro = {""}
connected-title = Verbundene Konten
connected-intro = Melden Sie sich mit einem Konto an, das Sie bereits anderswo haben. Zum Verbinden melden Sie sich dort an.
connected-none = Es sind keine Konten verbunden.
connected-since = Verbunden
connected-connect = { $provider } verbinden
connected-disconnect = Trennen
connected-disconnect-label = { $provider } trennen
connected-last = Dies ist Ihre einzige Möglichkeit, sich anzumelden, daher kann es nicht getrennt werden. Legen Sie zuerst ein Passwort fest (mit „Passwort vergessen?“ auf der Anmeldeseite) oder fügen Sie einen Passkey hinzu.
sudo-provider = Oder bestätigen Sie, indem Sie sich erneut mit { $provider } anmelden
password-none = Ihr Konto hat noch kein Passwort: Sie melden sich über ein verbundenes Konto an. Sie können unten eines festlegen, nachdem Sie bestätigt haben, dass Sie es sind, oder mit „Passwort vergessen?“ auf der Anmeldeseite.
sudo-hint-no-password = Sie haben auf diesem Gerät in den letzten Minuten nicht bestätigt, dass Sie es sind.
settings-nav = Kontoeinstellungen
settings-profile = Profil und E-Mail
settings-security = Sicherheit
password-title = Passwort
review-providers-intro = Ein verbundenes Konto bei einem anderen Anbieter meldet sich ohne das Passwort an. Das Zurücksetzen hat die in den letzten Tagen verbundenen getrennt; diese sind älter.
review-provider-kept = { $days ->
    [one] Mehr als einen Tag vor dem Zurücksetzen verbunden: Melden Sie sich an, um es auf Ihrer Kontoseite zu trennen.
   *[other] Mehr als { $days } Tage vor dem Zurücksetzen verbunden: Melden Sie sich an, um es auf Ihrer Kontoseite zu trennen.
}
error-tokens-field = Das Feld „tokens“ ist „body“ (die Tokens in der Antwort, für eine App) oder „cookies“.
