//! The `mail_outbox` table: every mail from the transaction that caused it to its
//! delivery (see `mail::sender`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConnection;
use super::models::OutboxMail;
use super::schema::mail_outbox;

/// Status of a mail waiting for (another) delivery attempt.
pub const PENDING: &str = "pending";

/// How long an outbox row is kept (delivered or not): the development mailbox shows it,
/// and the per-address limits count it.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::days(7);

/// Queues a mail inside the caller's transaction: it is delivered once (and only if)
/// that transaction commits. `kind` is the mail's stored name, `facts` its facts as
/// JSON, `user_id` the account it is about, if known.
pub fn queue(
    conn: &mut DbConnection,
    kind: &str,
    recipient: &str,
    user_id: Option<&str>,
    facts: String,
    now: NaiveDateTime,
) -> QueryResult<()> {
    insert(
        conn,
        &OutboxMail {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.to_owned(),
            recipient: recipient.to_owned(),
            user_id: user_id.map(str::to_owned),
            data: facts,
            status: PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            subject: None,
            text_body: None,
            html_body: None,
            created_at: now,
            finished_at: None,
            expires_at: now + KEPT_FOR,
        },
    )
}

/// Queues a mail; it is delivered once the transaction commits.
pub fn insert(conn: &mut DbConnection, mail: &OutboxMail) -> QueryResult<()> {
    diesel::insert_into(mail_outbox::table)
        .values(mail)
        .execute(conn)?;
    Ok(())
}

/// PostgreSQL: serialises the transactions that queue mail for `recipient`, so a
/// per-address limit counted with [`count_since`] holds for parallel requests on every
/// instance. SQLite needs nothing: its write transactions already run one at a time.
pub fn lock_recipient(conn: &mut DbConnection, recipient: &str) -> QueryResult<()> {
    if let DbConnection::Postgres(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 14))")
            .bind::<diesel::sql_types::Text, _>(recipient)
            .execute(c)?;
    }
    Ok(())
}

/// How many mails of `kind` were queued for `recipient` since `since`.
pub fn count_since(
    conn: &mut DbConnection,
    recipient: &str,
    kind: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::recipient.eq(recipient))
        .filter(mail_outbox::kind.eq(kind))
        .filter(mail_outbox::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// How many mails of any of `kinds` were queued for `recipient` since `since`.
pub fn count_kinds_since(
    conn: &mut DbConnection,
    recipient: &str,
    kinds: &[&str],
    since: NaiveDateTime,
) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::recipient.eq(recipient))
        .filter(mail_outbox::kind.eq_any(kinds))
        .filter(mail_outbox::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// How many mails of any kind were queued for `recipient` since `since`.
pub fn count_all_since(
    conn: &mut DbConnection,
    recipient: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::recipient.eq(recipient))
        .filter(mail_outbox::created_at.ge(since))
        .count()
        .get_result(conn)
}

/// Takes up to `limit` pending mails that are due, for one delivery attempt each: their
/// attempt count goes up and they are not due again before `lease_until`, so another
/// sender (another instance) skips them while this one works, and picks them up if this
/// one dies. Call inside a write transaction.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxMail>> {
    // A macro, not a closure: `as_select()` is generic over the backend, so each arm
    // needs its own query value.
    macro_rules! due {
        () => {
            mail_outbox::table
                .filter(mail_outbox::status.eq(PENDING))
                .filter(mail_outbox::next_attempt_at.le(now))
                .order(mail_outbox::next_attempt_at)
                .limit(limit)
                .select(OutboxMail::as_select())
        };
    }
    let mut mails: Vec<OutboxMail> = match conn {
        DbConnection::Postgres(c) => due!().for_update().skip_locked().load(c)?,
        DbConnection::Sqlite(c) => due!().load(c)?,
    };
    for mail in &mut mails {
        mail.attempts += 1;
        mail.next_attempt_at = lease_until;
        diesel::update(mail_outbox::table.find(&mail.id))
            .set((
                mail_outbox::attempts.eq(mail.attempts),
                mail_outbox::next_attempt_at.eq(lease_until),
            ))
            .execute(conn)?;
    }
    Ok(mails)
}

/// What a finished mail keeps: for the development mailbox, the message itself.
#[derive(Debug, Clone, Default)]
pub struct Copy {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// Ends a mail's delivery with `status` (`sent`, `dropped` or `failed`).
pub fn finish(
    conn: &mut DbConnection,
    id: &str,
    status: &str,
    now: NaiveDateTime,
    error: Option<&str>,
    copy: Option<Copy>,
) -> QueryResult<()> {
    let copy = copy.map(|c| (c.subject, c.text, c.html));
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::status.eq(status),
            mail_outbox::finished_at.eq(now),
            mail_outbox::last_error.eq(error),
            mail_outbox::subject.eq(copy.as_ref().map(|c| c.0.as_str())),
            mail_outbox::text_body.eq(copy.as_ref().map(|c| c.1.as_str())),
            mail_outbox::html_body.eq(copy.as_ref().map(|c| c.2.as_str())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Drops the mails of `kinds` about `user_id` that are not delivered yet (their links
/// are made at delivery, so dropping the row voids the link before it exists).
pub fn drop_pending(
    conn: &mut DbConnection,
    user_id: &str,
    kinds: &[&str],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        mail_outbox::table
            .filter(mail_outbox::user_id.eq(user_id))
            .filter(mail_outbox::kind.eq_any(kinds))
            .filter(mail_outbox::status.eq(PENDING)),
    )
    .set((
        mail_outbox::status.eq("dropped"),
        mail_outbox::finished_at.eq(now),
        mail_outbox::last_error.eq("voided: the account's password or sessions changed"),
    ))
    .execute(conn)
}

/// Schedules another attempt at `next_attempt_at`, remembering why this one failed.
pub fn retry_at(
    conn: &mut DbConnection,
    id: &str,
    next_attempt_at: NaiveDateTime,
    error: &str,
) -> QueryResult<()> {
    diesel::update(mail_outbox::table.find(id))
        .set((
            mail_outbox::next_attempt_at.eq(next_attempt_at),
            mail_outbox::last_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest `limit` mails that kept a copy (the development mailbox), newest first.
pub fn delivered_copies(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<OutboxMail>> {
    mail_outbox::table
        .filter(mail_outbox::subject.is_not_null())
        .order(mail_outbox::id.desc())
        .limit(limit)
        .select(OutboxMail::as_select())
        .load(conn)
}

/// One mail by id.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<OutboxMail>> {
    mail_outbox::table
        .find(id)
        .select(OutboxMail::as_select())
        .get_result(conn)
        .optional()
}

/// The mail's status, its row locked until the transaction ends (PostgreSQL; SQLite's
/// write transaction holds the only write lock): a link is made only for a mail that is
/// still pending, and a change that drops the mail waits for a link being made.
pub fn lock_status(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    let status = mail_outbox::table.find(id).select(mail_outbox::status);
    match conn {
        DbConnection::Postgres(c) => status.for_update().get_result(c).optional(),
        DbConnection::Sqlite(c) => status.get_result(c).optional(),
    }
}

/// How many mails are in each status (for tests and the log).
pub fn count_with_status(conn: &mut DbConnection, status: &str) -> QueryResult<i64> {
    mail_outbox::table
        .filter(mail_outbox::status.eq(status))
        .count()
        .get_result(conn)
}
