//! Where the data lives (`--data-dir`, `--database-url`), shared by `serve` and `merchants`, and
//! how it is shown: as an absolute directory and a database URL without its password, so a
//! server started in another directory cannot silently use other data.

use std::path::{Path, PathBuf};

use acorn_server::admin::Store;
use acorn_server::default_database_url;
use acorn_server::Config;
use anyhow::Context;
use clap::Args;

/// Where the data lives; shared by `serve` and `merchants`.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// Directory for the embedded database and local files (relative to the working directory:
    /// pin it with an absolute path or ACORN_DATA_DIR).
    #[arg(long, env = "ACORN_DATA_DIR", default_value = Config::DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`; defaults to SQLite inside the data dir.
    #[arg(long, env = "ACORN_DATABASE_URL")]
    database_url: Option<String>,
}

/// The data directory made absolute, and the database URL that follows from it.
#[derive(Debug, Clone)]
pub struct Storage {
    /// Absolute (not canonicalized: symlinks stay as given).
    pub data_dir: PathBuf,
    /// `--database-url`, or SQLite inside the data directory.
    pub database_url: String,
    /// The data directory is the default one, found from the working directory.
    pub default_dir: bool,
}

impl StorageArgs {
    /// Resolves the data directory against the working directory. With a SQLite
    /// `--database-url` and no `--data-dir`, the data directory is the database's own: files
    /// and the master key live beside the database, not in `./acorn-data`.
    pub fn locate(&self) -> anyhow::Result<Storage> {
        let given = self.data_dir != Path::new(Config::DEFAULT_DATA_DIR);
        let beside_db = self
            .database_url
            .as_deref()
            .and_then(sqlite_dir)
            .filter(|_| !given);
        let dir = beside_db.unwrap_or_else(|| self.data_dir.clone());
        let data_dir = std::path::absolute(&dir)
            .with_context(|| format!("finding the data directory {}", dir.display()))?;
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| default_database_url(&data_dir));
        Ok(Storage {
            default_dir: !given && self.database_url.is_none(),
            data_dir,
            database_url,
        })
    }
}

impl Storage {
    /// Opens the store (creating the data directory for SQLite), running migrations.
    pub async fn open(&self) -> anyhow::Result<Store> {
        if self.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&self.data_dir).with_context(|| {
                format!("creating the data directory {}", self.data_dir.display())
            })?;
        }
        Store::open(&self.database_url).await
    }

    /// Opens an Acorn database that exists already, for commands that read or change what is
    /// there: a missing one is refused, naming where it was looked for, instead of created.
    pub async fn open_existing(&self) -> anyhow::Result<Store> {
        if !Store::exists(&self.database_url).await? {
            anyhow::bail!(
                "no Acorn database at {}; pass --data-dir or --database-url (or ACORN_DATA_DIR, \
                 ACORN_DATABASE_URL) to name the one the server uses",
                redacted(&self.database_url)
            );
        }
        Store::open(&self.database_url).await
    }

    /// `Data directory: …` and `Database: …` lines for a banner.
    pub fn describe(&self) -> String {
        let mut dir = format!("Data directory: {}", self.data_dir.display());
        if self.default_dir {
            dir.push_str(&format!(
                " (the default {}; pin it with --data-dir or ACORN_DATA_DIR)",
                Config::DEFAULT_DATA_DIR
            ));
        }
        format!("{dir}\nDatabase:       {}", redacted(&self.database_url))
    }
}

/// The directory of a SQLite database URL's file (`None` for other URLs and memory).
fn sqlite_dir(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path.starts_with(':') {
        return None;
    }
    Path::new(path).parent().map(Path::to_path_buf)
}

/// The URL with any password replaced by `***` (in the user info, or a `password=` parameter).
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_show() {
        for (url, shown) in [
            (
                "postgres://acorn:s3cr:et@db:5432/acorn",
                "postgres://acorn:***@db:5432/acorn",
            ),
            ("postgres://acorn@db/acorn", "postgres://acorn@db/acorn"),
            (
                "postgres://db/acorn?user=a&password=x&sslmode=require",
                "postgres://db/acorn?user=a&password=***&sslmode=require",
            ),
            (
                "sqlite:///tmp/acorn-data/acorn.db",
                "sqlite:///tmp/acorn-data/acorn.db",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }
}
