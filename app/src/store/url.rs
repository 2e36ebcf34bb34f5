//! Parsing `DATABASE_URL`.

use std::path::PathBuf;
use std::str::FromStr;

use super::DbError;

/// Where the data lives, as named by `DATABASE_URL`.
///
/// Parsed once at start so a typo is reported before anything else happens, instead of
/// surfacing later as a confusing "file not found".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite database file, created on first start.
    Sqlite(PathBuf),
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
    /// working directory; `sqlite:///abs/path` is absolute).
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
            "postgres" | "postgresql" | "mysql" => Err(DbError::UnsupportedBackend {
                scheme: scheme.to_owned(),
            }),
            _ => Err(invalid()),
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
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
            assert!(err.to_string().contains("expected sqlite://PATH"));
        }
    }

    #[test]
    fn other_engines_are_named_in_the_error() {
        let err = "postgres://u@localhost/db"
            .parse::<DatabaseUrl>()
            .unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}
