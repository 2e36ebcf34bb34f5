//! The server's settings, read once at start from command-line flags and environment
//! variables (flags win). `server --help` lists every one with its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use app::store::{DatabaseOptions, DatabaseUrl, DbError};
use clap::Parser;

/// Gatehouse: sign-up, login and per-device sessions done right.
#[derive(Debug, Clone, Parser)]
#[command(name = "server", version)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(
        long = "site-addr",
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000"
    )]
    pub site_addr: SocketAddr,

    /// Folder with the browser bundle built by `cargo leptos build` (holds pkg/).
    #[arg(
        long = "site-root",
        env = "LEPTOS_SITE_ROOT",
        default_value = "target/site"
    )]
    pub site_root: PathBuf,

    /// Folder for Gatehouse's own files: the SQLite database by default, and keys.
    /// Created on first start.
    #[arg(long = "data-dir", env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database to use: sqlite://PATH. [default: sqlite://<data dir>/gatehouse.db]
    #[arg(long = "database-url", env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Database connections kept in the pool.
    #[arg(
        long = "database-pool-size",
        env = "DATABASE_POOL_SIZE",
        default_value_t = 8
    )]
    pub database_pool_size: u32,

    /// How long a request waits for the database (a connection or a lock) before it is
    /// answered with 503, e.g. "2s" or "500ms".
    #[arg(long = "database-timeout", env = "DATABASE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub database_timeout: Duration,

    /// Log filter: a level (error, warn, info, debug, trace) or tracing directives such
    /// as "info,server=debug".
    #[arg(long = "log-level", env = "LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl Config {
    /// The database to open: `DATABASE_URL` if given, else `gatehouse.db` in the data dir.
    pub fn database_url(&self) -> Result<DatabaseUrl, DbError> {
        match &self.database_url {
            Some(url) => url.parse(),
            None => Ok(DatabaseUrl::sqlite_in(&self.data_dir)),
        }
    }

    /// Pool settings derived from the flags above.
    pub fn database_options(&self) -> DatabaseOptions {
        DatabaseOptions {
            pool_size: self.database_pool_size,
            timeout: self.database_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        Config::try_parse_from(std::iter::once("server").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn database_defaults_to_a_file_in_the_data_dir() {
        let config = parse(&["--data-dir", "/tmp/gh"]);
        assert_eq!(
            config.database_url().unwrap(),
            DatabaseUrl::Sqlite("/tmp/gh/gatehouse.db".into())
        );
    }

    #[test]
    fn durations_are_human_readable() {
        let config = parse(&["--database-timeout", "750ms"]);
        assert_eq!(
            config.database_options().timeout,
            Duration::from_millis(750)
        );
    }

    #[test]
    fn help_lists_every_setting_with_its_environment_variable() {
        let help = <Config as clap::CommandFactory>::command()
            .render_long_help()
            .to_string();
        for env in [
            "LEPTOS_SITE_ADDR",
            "LEPTOS_SITE_ROOT",
            "DATA_DIR",
            "DATABASE_URL",
            "DATABASE_POOL_SIZE",
            "DATABASE_TIMEOUT",
            "LOG_LEVEL",
        ] {
            assert!(help.contains(env), "--help does not mention {env}");
        }
        assert!(help.contains("127.0.0.1:3000"));
    }
}
