//! Log setup: `tracing` with `ACORN_LOG` (an `EnvFilter`, default `info`), pretty or JSON lines.
//! Pretty lines carry ANSI colours only when stderr is a terminal (and `NO_COLOR` is unset), so
//! a log written to a file or a pipe is plain text.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Whether pretty logs are coloured: only on a terminal, and never with `NO_COLOR` set.
pub fn colours(is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

use crate::base::config::LogFormat;

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("ACORN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colours(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR"),
        ));
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colours(true, None));
        assert!(!colours(false, None));
        assert!(!colours(true, Some("1".into())));
        assert!(colours(true, Some("".into())));
    }
}
