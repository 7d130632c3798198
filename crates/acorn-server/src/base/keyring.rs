//! The master keys, by version, and where they come from: `ACORN_MASTER_KEY` or a key file.
//!
//! One key is version 1 (`9f…`, as a key file created on first start holds it). Several are
//! written `v2:<key>` (one per line in a file; separated by commas or spaces in the variable),
//! the newest wrapping new data keys and every version still named by a stored data key
//! needed to open it. `acorn keys rotate` adds a version, re-wraps every data key under it and
//! then drops the older versions from the key file (see [`crate::services::keys`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use crate::base::config::Config;
use crate::base::crypto::MasterKey;

/// Where the master keys come from.
#[derive(Clone, Debug)]
pub enum KeySource {
    /// `ACORN_MASTER_KEY` (fixed for the life of the process).
    Env(SecretString),
    /// A key file (re-read when the database says a newer version exists).
    File(PathBuf),
}

impl KeySource {
    /// The configured source: `config.master_key`, else the key file (given, or `master.key`
    /// beside a SQLite database); PostgreSQL requires one of the two.
    pub fn of(config: &Config) -> anyhow::Result<Self> {
        if let Some(k) = &config.master_key {
            return Ok(KeySource::Env(k.clone()));
        }
        if let Some(f) = &config.master_key_file {
            return Ok(KeySource::File(f.clone()));
        }
        match config.database_url.strip_prefix("sqlite:") {
            Some(rest) => {
                let path = rest.trim_start_matches("//");
                let path = Path::new(path.split('?').next().unwrap_or(path));
                Ok(KeySource::File(
                    path.parent().unwrap_or(&config.data_dir).join("master.key"),
                ))
            }
            None => anyhow::bail!(
                "PostgreSQL needs a master key: set ACORN_MASTER_KEY or --master-key-file"
            ),
        }
    }

    /// How to name it in messages.
    pub fn describe(&self) -> String {
        match self {
            KeySource::Env(_) => "ACORN_MASTER_KEY".into(),
            KeySource::File(p) => format!("the master key file {}", p.display()),
        }
    }
}

/// The master keys by version, with their source.
#[derive(Clone)]
pub struct Keyring {
    keys: BTreeMap<u32, MasterKey>,
    source: KeySource,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(versions {:?})", self.versions())
    }
}

impl Keyring {
    /// Reads the keys from `source`; a missing key file is created (mode 0600) with a new key.
    pub fn load(source: KeySource) -> anyhow::Result<Self> {
        let keys = match &source {
            KeySource::Env(text) => parse(text.expose_secret()).context("ACORN_MASTER_KEY")?,
            KeySource::File(path) => {
                if !path.exists() {
                    write_key_file(path, &[(1, MasterKey::generate_hex())], true)?;
                    tracing::info!(path = %path.display(), "created a new master key file");
                }
                read_file(path)?
            }
        };
        Ok(Keyring { keys, source })
    }

    /// The same source read again (a key file may have gained a version); a key file that
    /// has gone is an error here, never replaced by a new key.
    pub fn reload(&self) -> anyhow::Result<Self> {
        let keys = match &self.source {
            KeySource::Env(_) => self.keys.clone(),
            KeySource::File(path) => read_file(path)?,
        };
        Ok(Keyring {
            keys,
            source: self.source.clone(),
        })
    }

    /// Where the keys came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// The newest version and its key: it wraps new data keys.
    pub fn current(&self) -> (u32, &MasterKey) {
        // `parse` refuses an empty set, so there is always a last entry.
        let (v, k) = self
            .keys
            .last_key_value()
            .unwrap_or_else(|| unreachable!("a keyring holds at least one key"));
        (*v, k)
    }

    /// The key of one version, if given.
    pub fn get(&self, version: u32) -> Option<&MasterKey> {
        self.keys.get(&version)
    }

    /// Every version, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }
}

/// Splits `KEY` (version 1) or `vN:KEY` entries separated by commas, spaces or new lines (`#`
/// starts a comment line) into versions and key texts.
fn entries(text: &str) -> anyhow::Result<Vec<(u32, &str)>> {
    let tokens: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split([',', ' ', '\t']))
        .filter(|t| !t.is_empty())
        .collect();
    let single = tokens.len() == 1;
    tokens
        .into_iter()
        .map(|t| match t.split_once(':') {
            Some((v, k)) => v
                .strip_prefix('v')
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n >= 1)
                .map(|n| (n, k))
                .ok_or_else(|| {
                    anyhow::anyhow!("a versioned master key is written v<N>:<key>, N ≥ 1")
                }),
            None if single => Ok((1, t)),
            None => Err(anyhow::anyhow!(
                "with several master keys, write each as v<N>:<key>"
            )),
        })
        .collect()
}

/// Parses the keys of [`entries`] (each version once, at least one).
pub fn parse(text: &str) -> anyhow::Result<BTreeMap<u32, MasterKey>> {
    let mut keys = BTreeMap::new();
    for (version, key) in entries(text)? {
        let key = MasterKey::parse(key).with_context(|| format!("master key v{version}"))?;
        anyhow::ensure!(
            keys.insert(version, key).is_none(),
            "master key v{version} is given twice"
        );
    }
    anyhow::ensure!(!keys.is_empty(), "no master key given");
    Ok(keys)
}

fn read_file(path: &Path) -> anyhow::Result<BTreeMap<u32, MasterKey>> {
    parse(&read_text(path)?).with_context(|| format!("the master key file {}", path.display()))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading the master key file {}", path.display()))
}

/// The entries of a valid key file (`(version, key text)`), for rewriting it.
pub(crate) fn file_entries(path: &Path) -> anyhow::Result<Vec<(u32, String)>> {
    let text = read_text(path)?;
    parse(&text).with_context(|| format!("the master key file {}", path.display()))?;
    Ok(entries(&text)?
        .into_iter()
        .map(|(v, k)| (v, k.to_owned()))
        .collect())
}

/// Writes a key file readable by its owner only: a new file (`create_new`), or a complete
/// replacement written beside it, flushed to disk and renamed over it, so a crash leaves the
/// old file or the new one, never half of one.
pub(crate) fn write_key_file(path: &Path, keys: &[(u32, String)], new: bool) -> anyhow::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let mut lines: Vec<String> = keys.iter().map(|(v, k)| format!("v{v}:{k}\n")).collect();
    if let [(1, k)] = keys {
        // A single first key is written bare, as every earlier release wrote it.
        lines = vec![format!("{k}\n")];
    }
    let target = if new {
        path.to_path_buf()
    } else {
        path.with_extension("key.new")
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    if !new {
        let _ = std::fs::remove_file(&target);
    }
    let mut f = options
        .open(&target)
        .with_context(|| format!("creating the master key file {}", target.display()))?;
    f.write_all(lines.concat().as_bytes())?;
    f.sync_all()?;
    if !new {
        std::fs::rename(&target, path)
            .with_context(|| format!("replacing the master key file {}", path.display()))?;
        if let Some(dir) = dir {
            std::fs::File::open(dir)?.sync_all()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bare_key_is_version_one_and_versions_order() {
        let a = MasterKey::generate_hex();
        let b = MasterKey::generate_hex();
        assert_eq!(parse(&a).unwrap().keys().copied().collect::<Vec<_>>(), [1]);
        let two = parse(&format!("v2:{b}, v1:{a}")).unwrap();
        assert_eq!(two.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert!(parse(&format!("{a} {b}")).is_err(), "two bare keys");
        assert!(parse(&format!("v1:{a} v1:{b}")).is_err(), "a version twice");
        assert!(parse(&format!("v0:{a}")).is_err());
        assert!(parse("# nothing\n").is_err());
        assert!(parse("v2:nothex").is_err());
    }

    #[test]
    fn key_files_are_replaced_whole_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::generate_hex();
        let b = MasterKey::generate_hex();
        write_key_file(&path, &[(1, a.clone())], true).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{a}\n"));
        write_key_file(&path, &[(2, b.clone()), (1, a.clone())], false).unwrap();
        assert_eq!(
            file_entries(&path).unwrap(),
            vec![(2, b.clone()), (1, a.clone())]
        );
        let ring = Keyring::load(KeySource::File(path.clone())).unwrap();
        assert_eq!(ring.versions(), [1, 2]);
        assert_eq!(ring.current().0, 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
