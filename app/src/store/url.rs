//! Parsing `DATABASE_URL`.

use std::path::PathBuf;
use std::str::FromStr;

use super::DbError;

/// Where the data lives, as named by `DATABASE_URL`.
///
/// Parsed once at start so a typo is reported before anything else happens, instead of
/// surfacing later as a confusing "file not found".
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite database file, created on first start.
    Sqlite(PathBuf),
    /// A PostgreSQL database, as a libpq connection URL (`postgres://user:pw@host/db`).
    /// The database must exist; its tables are created on first start.
    Postgres(String),
}

impl DatabaseUrl {
    /// The SQLite database file `gatehouse.db` inside `data_dir`: the zero-setup default.
    pub fn sqlite_in(data_dir: &std::path::Path) -> Self {
        Self::Sqlite(data_dir.join("gatehouse.db"))
    }
}

impl FromStr for DatabaseUrl {
    type Err = DbError;

    /// Accepts `sqlite://PATH` and `sqlite:PATH` (relative paths are relative to the
    /// working directory; `sqlite:///abs/path` is absolute), and `postgres://…` or
    /// `postgresql://…` (passed to libpq as given).
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        let invalid = || DbError::InvalidUrl {
            url: url.to_owned(),
        };
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(invalid());
        };
        match scheme {
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() || path.contains('?') || path == ":memory:" {
                    return Err(invalid());
                }
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" if rest.starts_with("//") && rest.len() > 2 => {
                Ok(Self::Postgres(url.to_owned()))
            }
            "mysql" | "mariadb" => Err(DbError::UnsupportedBackend {
                scheme: scheme.to_owned(),
            }),
            _ => Err(invalid()),
        }
    }
}

/// The same as `Display`: the password never shows.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `url` with the password, if any, replaced by `***`, for logs and error messages.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_with_relative_and_absolute_paths_parse() {
        assert_eq!(
            "sqlite://./data/g.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("./data/g.db".into())
        );
        assert_eq!(
            "sqlite:///var/lib/g.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("/var/lib/g.db".into())
        );
        assert_eq!(
            "sqlite:g.db".parse::<DatabaseUrl>().unwrap(),
            DatabaseUrl::Sqlite("g.db".into())
        );
    }

    #[test]
    fn malformed_urls_are_rejected_with_the_url_in_the_message() {
        for url in [
            "",
            "data.db",
            "sqlite://",
            "sqlite:",
            "http://x",
            "sqlite::memory:",
            "sqlite://a.db?mode=ro",
        ] {
            let err = url.parse::<DatabaseUrl>().unwrap_err();
            assert!(
                matches!(err, DbError::InvalidUrl { .. }),
                "{url:?} gave {err:?}"
            );
            assert!(
                err.to_string()
                    .contains("expected sqlite://PATH or postgres://")
            );
        }
    }

    #[test]
    fn postgres_urls_parse_and_never_show_the_password() {
        for scheme in ["postgres", "postgresql"] {
            let url = format!("{scheme}://gh:s3cret@db.internal:5432/gatehouse?sslmode=require");
            let parsed = url.parse::<DatabaseUrl>().unwrap();
            assert_eq!(parsed, DatabaseUrl::Postgres(url.clone()));
            let shown = parsed.to_string();
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(
                shown.contains("gh:***@db.internal:5432/gatehouse"),
                "{shown}"
            );
        }
        assert_eq!(
            DatabaseUrl::Postgres("postgres://gh@localhost/db".into()).to_string(),
            "postgres://gh@localhost/db"
        );
        assert!("postgres://".parse::<DatabaseUrl>().is_err());
        assert!("postgres:db".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn other_engines_are_named_in_the_error() {
        let err = "mysql://u@localhost/db".parse::<DatabaseUrl>().unwrap_err();
        assert!(err.to_string().contains("mysql://"), "{err}");
    }
}
